"""The public listing of one trial, built from its stored CT.gov record (``Study`` model).

``listing(study)`` turns the typed record into the plain values the listing template shows,
section by section, in the order a patient reads them (see docs/web.md). Wording follows
ClinicalTrials.gov's display labels (``registry_labels``). Nothing here marks text safe: the
template escapes every value taken from the record. (A helper module of the listing
template, kept beside its template tags; it registers no tags itself.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from trialdesk.interop.ctgov import Study, split_eligibility
from trialdesk.registry.templatetags.registry_contacts import contact
from trialdesk.registry.templatetags.registry_labels import enum_value, label


@dataclass(frozen=True)
class CriteriaList:
    """One list of criteria: ``tag`` is "ol" for a numbered source, "ul" for bullets."""

    items: tuple[tuple[str, tuple[str, ...]], ...]  # (text, sub-items)
    tag: str = "ul"
    list_type: str = "1"  # the <ol type>: "1" for 1. 2. 3., "a" for a. b. c.


@dataclass(frozen=True)
class Listing:
    nct_id: str
    title: str
    official_title: str
    acronym: str
    #: False when the title already ends with "(ACRONYM)", as CT.gov titles often do.
    show_acronym: bool
    sponsor: str
    status: str
    status_label: str
    phases: tuple[str, ...]
    conditions: tuple[str, ...]
    keywords: tuple[str, ...]
    treatments: tuple[str, ...]
    study_type: str
    funder_types: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]  # (identifier, what it is)
    about: str
    full_description: str
    enrollment: str
    sex: str
    ages: str
    volunteers: str
    inclusion: CriteriaList
    exclusion: CriteriaList
    other_criteria: tuple[str, ...]
    design: tuple[tuple[str, str], ...]  # (question, answer)
    groups_summary: str
    arms: tuple[dict[str, Any], ...]
    sites: tuple[dict[str, Any], ...]
    central_contacts: tuple[dict[str, str], ...]
    officials: tuple[dict[str, str], ...]
    outcomes: tuple[tuple[str, tuple[dict[str, str], ...]], ...]  # (heading, outcomes)
    dates: tuple[dict[str, str], ...] = field(default=())  # see ``dates``


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


_AGE = re.compile(r"^\s*(\d+)\s+(Year|Month|Week|Day|Hour|Minute)s?\s*$", re.IGNORECASE)


def _age_parts(text: str | None) -> tuple[str, str] | None:
    """ "18 Years" -> ("18", "year"); an age not in CT.gov's form -> (text, "")."""
    if not text:
        return None
    match = _AGE.match(text)
    if not match:
        return (text.strip(), "")
    return match.group(1), match.group(2).lower()


def _units(number: str, unit: str) -> str:
    return unit + ("" if number == "1" else "s") if unit else ""


def ages_text(minimum: str | None, maximum: str | None) -> str:
    """ "18 to 75 years old", "6 months to 17 years old", "18+ years old", "Up to 17 years old"."""
    low, high = _age_parts(minimum), _age_parts(maximum)
    if low and high:
        if low[1] == high[1]:
            words = [low[0], "to", high[0], _units(high[0], high[1]), "old"]
        else:
            words = [low[0], _units(*low), "to", high[0], _units(*high), "old"]
    elif low:
        words = [f"{low[0]}+", _units(*low), "old"]
    elif high:
        words = ["Up to", high[0], _units(*high), "old"]
    else:
        return "All ages"
    return " ".join(w for w in words if w)


def enrollment_text(count: int | None, kind: object) -> str:
    """ "12 estimated patients" (ESTIMATED) or "20 patients" (ACTUAL)."""
    if count is None:
        return ""
    estimated = "estimated " if enum_value(kind) == "ESTIMATED" else ""
    return f"{count} {estimated}{_plural(count, 'patient', 'patients')}"


_HEADING = re.compile(
    r"^[\s*#_>]*(?:[a-z]+\s+){0,2}?(inclusion|exclusion)\b[^\n]{0,80}$", re.IGNORECASE
)
_MARKER = re.compile(
    r"^\s*(?:(?P<num>\d{1,3}[.)]|\(\d{1,3}\))|(?P<alpha>[a-zA-Z]{1,4}[.)]|\([a-zA-Z]{1,4}\))"
    r"|(?P<bullet>[*\-+•·▪◦]))[ \t]+\S"
)


def list_styles(criteria: str | None) -> dict[str, tuple[str, str]]:
    """For "inclusion" and "exclusion": ("ol", "1") if the source numbers its items,
    ("ol", "a") for letters, else ("ul", "") -- read from the first marker of each section."""
    styles: dict[str, tuple[str, str]] = {}
    section = None
    for line in (criteria or "").splitlines():
        marker = _MARKER.match(line)
        if marker is None:
            heading = _HEADING.match(line)
            if heading and ("criteri" in line.lower() or line.rstrip().endswith(":")):
                section = heading.group(1).lower()
            continue
        if section and section not in styles:
            if marker.group("num"):
                styles[section] = ("ol", "1")
            elif marker.group("alpha"):
                styles[section] = ("ol", "a")
            else:
                styles[section] = ("ul", "")
    return styles


_SUB_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|\(\w{1,4}\)|[a-zA-Z]{1,4}[.)]|[*\-+•·▪◦])\s+")


def _criteria_list(items: list[str], style: tuple[str, str] | None) -> CriteriaList:
    tag, list_type = style or ("ul", "")
    parsed = []
    for item in items:
        first, *rest = item.split("\n")
        subs = tuple(_SUB_MARKER.sub("", line).strip() for line in rest if line.strip())
        parsed.append((first.strip(), subs))
    return CriteriaList(tuple(parsed), tag, list_type or "1")


#: The listing's "Dates" block: CT.gov's date structs, in the order CT.gov shows them.
DATE_ROWS = (
    ("Study start", "start_date_struct"),
    ("Primary completion", "primary_completion_date_struct"),
    ("Study completion", "completion_date_struct"),
    ("First posted", "study_first_post_date_struct"),
    ("Last updated", "last_update_post_date_struct"),
)


def dates(status: Any) -> tuple[dict[str, str], ...]:
    """The registered dates (``statusModule``), each as {what, date, kind}: ``date`` as
    registered (``2024-03`` or ``2024-03-15``), ``kind`` "actual", "estimated" or "" when
    the record gives no type. Dates the record does not hold are left out."""
    rows = []
    for what, attribute in DATE_ROWS:
        struct = getattr(status, attribute, None) if status else None
        if struct and struct.date:
            kind = enum_value(struct.type).lower()
            rows.append({"what": what, "date": struct.date, "kind": kind})
    return tuple(rows)


def listing(study: Study) -> Listing:
    """Everything the listing page shows, from the typed CT.gov record."""
    ps = study.protocol_section
    ident = ps.identification_module
    status = ps.status_module
    sponsors = ps.sponsor_collaborators_module
    desc = ps.description_module
    design = ps.design_module
    info = design.design_info if design else None
    arms_mod = ps.arms_interventions_module
    elig = ps.eligibility_module
    contacts = ps.contacts_locations_module
    outcomes = ps.outcomes_module

    lead = sponsors.lead_sponsor if sponsors else None
    funders: list[str] = []
    for sponsor in ([lead] if lead else []) + list(
        (sponsors.collaborators if sponsors else None) or []
    ):
        name = label("agency_class", sponsor.agency_class)
        if name and name not in funders:
            funders.append(name)

    identifiers = [(ident.nct_id, "ClinicalTrials.gov ID")]
    if ident.org_study_id_info and ident.org_study_id_info.id:
        identifiers.append((ident.org_study_id_info.id, "Organization's study ID"))
    for secondary in ident.secondary_id_infos or []:
        if secondary.id:
            what = " ".join(p for p in (secondary.type or "", secondary.domain or "") if p)
            identifiers.append((secondary.id, what.replace("_", " ").capitalize() or "Other ID"))

    interventions = (arms_mod.interventions if arms_mod else None) or []
    treatments = tuple(
        f"{label('intervention_type', i.type)}: {i.name}" if i.type else (i.name or "")
        for i in interventions
    )

    criteria_text = elig.eligibility_criteria if elig else None
    split = split_eligibility(criteria_text)
    styles = list_styles(criteria_text)

    volunteers = ""
    if elig and elig.healthy_volunteers is not None:
        volunteers = (
            "Accepts Healthy Volunteers" if elig.healthy_volunteers else "No Healthy Volunteers"
        )

    design_rows: list[tuple[str, str]] = []
    if info:
        masking = ""
        if info.masking_info and info.masking_info.masking:
            masking = label("masking", info.masking_info.masking)
            who = [label("who_masked", w) for w in info.masking_info.who_masked or []]
            if who:
                masking = f"{masking} ({', '.join(who)})"
        for question, answer in (
            ("Primary purpose", label("primary_purpose", info.primary_purpose)),
            ("Allocation", label("allocation", info.allocation)),
            ("Interventional model", label("intervention_model", info.intervention_model)),
            ("Masking", masking),
        ):
            if answer:
                design_rows.append((question, answer))

    arm_groups = (arms_mod.arm_groups if arms_mod else None) or []
    enrollment = design.enrollment_info if design else None
    count = enrollment.count if enrollment else None
    groups_summary = ""
    if arm_groups:
        groups = f"{len(arm_groups)} patient {_plural(len(arm_groups), 'group', 'groups')}"
        groups_summary = (
            f"{count} {_plural(count, 'participant', 'participants')} in {groups}"
            if count is not None
            else groups.capitalize()
        )
    arms = tuple(
        {
            "label": arm.label or "",
            "type": f"{label('arm_group_type', arm.type)} group" if arm.type else "",
            "description": arm.description or "",
            "treatments": tuple(arm.intervention_names or ()),
        }
        for arm in arm_groups
    )

    sites = tuple(
        {
            "facility": loc.facility or "",
            "city": loc.city or "",
            "state": loc.state or "",
            "country": loc.country or "",
            "place": ", ".join(p for p in (loc.city, loc.state, loc.country) if p),
            "status": enum_value(loc.status),
            "status_label": label("status", loc.status),
            "contacts": tuple(contact(c) for c in loc.contacts or []),
        }
        for loc in (contacts.locations if contacts else None) or []
    )

    outcome_groups = []
    if outcomes:
        for heading, group in (
            ("Primary outcome", outcomes.primary_outcomes),
            ("Secondary outcome", outcomes.secondary_outcomes),
            ("Other outcome", outcomes.other_outcomes),
        ):
            if group:
                rows = tuple(
                    {
                        "measure": o.measure or "",
                        "description": o.description or "",
                        "time_frame": o.time_frame or "",
                    }
                    for o in group
                )
                outcome_groups.append((heading + ("s" if len(rows) > 1 else ""), rows))

    overall = status.overall_status if status else None
    return Listing(
        nct_id=ident.nct_id,
        title=ident.brief_title or ident.official_title or ident.nct_id,
        official_title=ident.official_title or "",
        acronym=ident.acronym or "",
        show_acronym=bool(ident.acronym)
        and f"({ident.acronym})" not in (ident.brief_title or ident.official_title or ""),
        sponsor=(lead.name if lead else None) or "",
        status=enum_value(overall),
        status_label=label("status", overall),
        phases=tuple(label("phase", p) for p in (design.phases if design else None) or ()),
        conditions=tuple((ps.conditions_module.conditions or ()) if ps.conditions_module else ()),
        keywords=tuple((ps.conditions_module.keywords or ()) if ps.conditions_module else ()),
        treatments=treatments,
        study_type=label("study_type", design.study_type if design else None),
        funder_types=tuple(funders),
        identifiers=tuple(identifiers),
        about=(desc.brief_summary if desc else None) or "",
        full_description=(desc.detailed_description if desc else None) or "",
        enrollment=enrollment_text(count, enrollment.type if enrollment else None),
        sex=label("sex", elig.sex if elig else None),
        ages=ages_text(elig.minimum_age, elig.maximum_age) if elig else "",
        volunteers=volunteers,
        inclusion=_criteria_list(split.inclusion, styles.get("inclusion")),
        exclusion=_criteria_list(split.exclusion, styles.get("exclusion")),
        other_criteria=tuple(split.other),
        design=tuple(design_rows),
        groups_summary=groups_summary,
        arms=arms,
        sites=sites,
        central_contacts=tuple(
            contact(c) for c in (contacts.central_contacts if contacts else None) or []
        ),
        officials=tuple(
            {
                "name": o.name or "",
                "affiliation": o.affiliation or "",
                "role": label("contact_role", o.role),
            }
            for o in (contacts.overall_officials if contacts else None) or []
        ),
        outcomes=tuple(outcome_groups),
        dates=dates(status),
    )

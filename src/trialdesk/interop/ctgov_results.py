"""A ClinicalTrials.gov results-style summary of a trial, in the field names of the
ClinicalTrials.gov API v2 ``resultsSection``: ``participantFlowModule``,
``baselineCharacteristicsModule``, ``outcomeMeasuresModule`` and ``adverseEventsModule``
(the data element definitions of the PRS results section, 42 CFR Part 11).

Groups are the dose levels (``FG000``, ``BG000``, ``OG000``, ``EG000`` in the protocol's
order; one group for a single-arm trial). Populations:

- participant flow: enrolled participants by assigned dose level; STARTED = enrolled,
  "Received Infusion" = dosed, COMPLETED / NOT COMPLETED by end status (still in follow-up
  counts as not completed, with the reason "Ongoing at data cut"); screened and screen
  failures with their reasons in ``preAssignmentDetails``;
- baseline: enrolled participants (age at screening, sex, region of enrolment = country);
- outcome measures: change from baseline (the infusion visit) in MELD at the protocol's month
  3, 6 and 12 visits, visits in window only (arithmetic mean and sample SD; a participant
  without both values is not counted, so each time point has its own denominator);
- adverse events: the safety population (participants dosed), by the dose level infused;
  all-cause mortality (a fatal AE outcome or end status "died"), serious AEs (every term),
  other (non-serious) AEs of terms whose frequency reaches the threshold (default 5%) in at
  least one group; each with number affected and number at risk, the organ system from
  the CTCAE term's system organ class (CTCAE v5.0).
"""

from __future__ import annotations

from collections import Counter
from statistics import mean, stdev
from typing import Any

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm.subjects import country_code

#: The protocol visits of the MELD outcome (issue 12: months 3, 6 and 12).
OUTCOME_VISITS = ("M3", "M6", "M12")


def _groups(dataset: TrialDataset) -> list[tuple[str | None, str]]:
    """(dose level id or None for all, title) of each group."""
    if dataset.design == "single_arm" or not dataset.dose_levels:
        return [(None, "All participants")]
    return [(d.id, d.label) for d in dataset.dose_levels]


def _in(level: str | None, value: str | None) -> bool:
    return level is None or level == value


def participant_flow(dataset: TrialDataset) -> dict[str, Any]:
    groups = _groups(dataset)
    enrolled = dataset.enrolled()
    dosed = {p.subject_id for p in dataset.dosed()}
    failed = [p for p in dataset.participants if p.status == "screen_failed"]
    reasons = Counter(r for p in failed for r in (p.screen_failure_reasons or ("not stated",)))
    reason_text = "; ".join(f"{r}: {n}" for r, n in sorted(reasons.items()))

    def count(pred, level) -> str:
        return str(sum(1 for p in enrolled if _in(level, p.dose_level) and pred(p)))

    def milestone(kind: str, pred) -> dict[str, Any]:
        return {
            "type": kind,
            "achievements": [
                {"groupId": f"FG{i:03d}", "numSubjects": count(pred, level)}
                for i, (level, _) in enumerate(groups)
            ],
        }

    withdraw_kinds = (
        ("Withdrawal by Subject", lambda p: p.end_status == "withdrawn"),
        ("Death", lambda p: p.end_status == "died"),
        ("Ongoing at data cut", lambda p: p.end_status is None),
    )
    return {
        "recruitmentDetails": f"Screened: {len(dataset.participants)}; data cut "
        f"{dataset.data_cut.date().isoformat()}.",
        "preAssignmentDetails": f"Screen failures: {len(failed)}"
        + (f" ({reason_text})." if failed else "."),
        "groups": [{"id": f"FG{i:03d}", "title": title} for i, (_, title) in enumerate(groups)],
        "periods": [
            {
                "title": "Overall Study",
                "milestones": [
                    milestone("STARTED", lambda p: True),
                    milestone("Received Infusion", lambda p: p.subject_id in dosed),
                    milestone("COMPLETED", lambda p: p.end_status == "completed"),
                    milestone("NOT COMPLETED", lambda p: p.end_status != "completed"),
                ],
                "dropWithdraws": [
                    {
                        "type": kind,
                        "reasons": [
                            {"groupId": f"FG{i:03d}", "numSubjects": count(pred, level)}
                            for i, (level, _) in enumerate(groups)
                        ],
                    }
                    for kind, pred in withdraw_kinds
                ],
            }
        ],
    }


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def baseline_characteristics(dataset: TrialDataset) -> dict[str, Any]:
    groups = _groups(dataset)
    enrolled = dataset.enrolled()
    columns = [
        (f"BG{i:03d}", [p for p in enrolled if _in(level, p.dose_level)])
        for i, (level, _) in enumerate(groups)
    ]
    if len(groups) > 1:
        columns.append((f"BG{len(groups):03d}", list(enrolled)))
    titles = [t for _, t in groups] + (["Total"] if len(groups) > 1 else [])

    def ages(people):
        values = [p.age_at_screening for p in people]
        return {
            "value": _fmt(mean(values)) if values else "NA",
            "spread": _fmt(stdev(values)) if len(values) > 1 else "NA",
        }

    region = {p.subject_id: country_name(p.country) for p in enrolled}
    countries = sorted(set(region.values()))
    return {
        "populationDescription": "Participants enrolled.",
        "groups": [{"id": gid, "title": t} for (gid, _), t in zip(columns, titles, strict=True)],
        "denoms": [
            {
                "units": "Participants",
                "counts": [{"groupId": gid, "value": str(len(ps))} for gid, ps in columns],
            }
        ],
        "measures": [
            {
                "title": "Age, Continuous",
                "paramType": "MEAN",
                "dispersionType": "STANDARD_DEVIATION",
                "unitOfMeasure": "years",
                "classes": [
                    {
                        "categories": [
                            {"measurements": [{"groupId": g, **ages(ps)} for g, ps in columns]}
                        ]
                    }
                ],
            },
            {
                "title": "Sex: Female, Male",
                "paramType": "COUNT_OF_PARTICIPANTS",
                "unitOfMeasure": "Participants",
                "classes": [
                    {
                        "categories": [
                            {
                                "title": title,
                                "measurements": [
                                    {"groupId": g, "value": str(sum(p.sex == sex for p in ps))}
                                    for g, ps in columns
                                ],
                            }
                            for sex, title in (("female", "Female"), ("male", "Male"))
                        ]
                    }
                ],
            },
            {
                "title": "Region of Enrollment",
                "paramType": "COUNT_OF_PARTICIPANTS",
                "unitOfMeasure": "participants",
                "classes": [
                    {
                        "title": country,
                        "categories": [
                            {
                                "measurements": [
                                    {
                                        "groupId": g,
                                        "value": str(
                                            sum(region[p.subject_id] == country for p in ps)
                                        ),
                                    }
                                    for g, ps in columns
                                ]
                            }
                        ],
                    }
                    for country in countries
                ],
            },
        ],
    }


def country_name(country: str) -> str:
    """The ISO 3166 name of a country however the site wrote it ("Vietnam", "VN" ->
    "Viet Nam"), so one country is one region."""
    import pycountry

    return pycountry.countries.get(alpha_3=country_code(country)).name


def meld_changes(dataset: TrialDataset, code: str, level: str | None) -> list[float]:
    """MELD at visit ``code`` minus MELD at the baseline (infusion) visit, per enrolled
    participant of ``level`` with both values and the visit in window."""
    base_code = dataset.baseline_code
    out = []
    for p in dataset.enrolled():
        if not _in(level, p.dose_level):
            continue
        base = dataset.visit(p.subject_id, base_code) if base_code else None
        later = dataset.visit(p.subject_id, code)
        if base is None or later is None or later.window_status != "in_window":
            continue
        if base.scores.meld is None or later.scores.meld is None:
            continue
        out.append(float(later.scores.meld - base.scores.meld))
    return out


def outcome_measures(dataset: TrialDataset) -> dict[str, Any]:
    groups = _groups(dataset)
    plans = [p for p in dataset.schedule if p.code in OUTCOME_VISITS]
    classes = []
    for plan in plans:
        per_group = [meld_changes(dataset, plan.code, level) for level, _ in groups]
        classes.append(
            {
                "title": plan.label,
                "denoms": [
                    {
                        "units": "Participants",
                        "counts": [
                            {"groupId": f"OG{i:03d}", "value": str(len(v))}
                            for i, v in enumerate(per_group)
                        ],
                    }
                ],
                "categories": [
                    {
                        "measurements": [
                            {
                                "groupId": f"OG{i:03d}",
                                "value": _fmt(mean(v)) if v else "NA",
                                "spread": _fmt(stdev(v)) if len(v) > 1 else "NA",
                            }
                            for i, v in enumerate(per_group)
                        ]
                    }
                ],
            }
        )
    return {
        "outcomeMeasures": [
            {
                "type": "PRIMARY",
                "title": "Change From Baseline in MELD Score",
                "description": "MELD (OPTN 2002-2016) at the visit minus MELD at the infusion "
                "visit (baseline); visits outside their window are not counted.",
                "populationDescription": "Enrolled participants with a baseline and an "
                "in-window value at the time point.",
                "reportingStatus": "POSTED",
                "paramType": "MEAN",
                "dispersionType": "STANDARD_DEVIATION",
                "unitOfMeasure": "score on a scale",
                "timeFrame": ", ".join(p.label for p in plans),
                "groups": [{"id": f"OG{i:03d}", "title": t} for i, (_, t) in enumerate(groups)],
                "classes": classes,
            }
        ]
    }


def _organ_system(term: str) -> str:
    from trialdesk.clinical.ctcae import get_term

    try:
        return get_term(term).soc
    except ValueError:
        raise ExportError(
            f"adverse event term {term!r}", "not a CTCAE term trialdesk knows"
        ) from None


def adverse_events(dataset: TrialDataset, other_threshold: float = 5.0) -> dict[str, Any]:
    if not 0 <= other_threshold <= 100:
        raise ExportError("frequency threshold", f"{other_threshold} is not a percentage 0-100")
    groups = _groups(dataset)
    infused = {d.subject_id: d.dose_level for d in reversed(dataset.doses)}  # first dose wins
    at_risk = [[s for s, lvl in infused.items() if _in(level, lvl)] for level, _ in groups]
    members = [set(g) for g in at_risk]
    events = [a for a in dataset.adverse_events if a.subject_id in infused]

    def died(sid: str) -> bool:
        return dataset.participant(sid).end_status == "died" or any(
            a.outcome == "fatal" for a in dataset.adverse_events_of(sid)
        )

    def table(serious: bool) -> list[dict[str, Any]]:
        rows = []
        for term in sorted({a.term for a in events if a.serious == serious}):
            stats = []
            for i, group in enumerate(members):
                these = [
                    a
                    for a in events
                    if a.term == term and a.serious == serious and a.subject_id in group
                ]
                stats.append(
                    {
                        "groupId": f"EG{i:03d}",
                        "numEvents": len(these),
                        "numAffected": len({a.subject_id for a in these}),
                        "numAtRisk": len(group),
                    }
                )
            if not serious and not any(
                s["numAtRisk"] and 100 * s["numAffected"] / s["numAtRisk"] >= other_threshold
                for s in stats
            ):
                continue
            versions = sorted({a.ctcae_version for a in events if a.term == term})
            rows.append(
                {
                    "term": term,
                    "organSystem": _organ_system(term),
                    "sourceVocabulary": "CTCAE (" + ", ".join(versions) + ")",
                    "assessmentType": "SYSTEMATIC_ASSESSMENT",
                    "stats": stats,
                }
            )
        return rows

    serious_events, other_events = table(True), table(False)
    other_terms = {e["term"] for e in other_events}
    event_groups = []
    for i, ((_, title), group) in enumerate(zip(groups, members, strict=True)):
        event_groups.append(
            {
                "id": f"EG{i:03d}",
                "title": title,
                "deathsNumAffected": sum(died(s) for s in group),
                "deathsNumAtRisk": len(group),
                "seriousNumAffected": len(
                    {a.subject_id for a in events if a.serious and a.subject_id in group}
                ),
                "seriousNumAtRisk": len(group),
                "otherNumAffected": len(
                    {
                        a.subject_id
                        for a in events
                        if not a.serious and a.term in other_terms and a.subject_id in group
                    }
                ),
                "otherNumAtRisk": len(group),
            }
        )
    return {
        "frequencyThreshold": format(other_threshold, "g"),
        "timeFrame": f"From the infusion to the data cut ({dataset.data_cut.date().isoformat()}).",
        "description": "Safety population: participants who received the cell product, by the "
        "dose level infused; terms and grades per CTCAE.",
        "eventGroups": event_groups,
        "seriousEvents": serious_events,
        "otherEvents": other_events,
    }


def results_section(dataset: TrialDataset, *, other_threshold: float = 5.0) -> dict[str, Any]:
    """The summary as ``{"nctId": ..., "resultsSection": {...}}``."""
    if not dataset.participants:
        raise ExportError(dataset.nct_id, "no participants: nothing to summarise")
    return {
        "nctId": dataset.nct_id,
        "dataCut": dataset.data_cut.isoformat(),
        "resultsSection": {
            "participantFlowModule": participant_flow(dataset),
            "baselineCharacteristicsModule": baseline_characteristics(dataset),
            "outcomeMeasuresModule": outcome_measures(dataset),
            "adverseEventsModule": adverse_events(dataset, other_threshold),
        },
    }

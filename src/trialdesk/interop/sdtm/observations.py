"""The observation SDTM domains: EX (exposure: the cell-product infusions), AE (adverse
events), LB (laboratory results) and VS (vital signs). Variables, labels and order follow the
SDTMIG 3.3 domain models (sections 6.1.4, 6.2.1, 6.3.5.1, 6.3.13)."""

from __future__ import annotations

from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm import terminology as ct
from trialdesk.interop.sdtm.context import Context
from trialdesk.interop.sdtm.model import (
    DOMAIN,
    STUDYID,
    USUBJID,
    Domain,
    build,
    integer,
    iso_date,
    iso_datetime,
    none_last,
    number,
    text,
    utc_date,
)

EX_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("EXSEQ", "Sequence Number"),
    text("EXTRT", "Name of Treatment"),
    number("EXDOSE", "Dose"),
    text("EXDOSU", "Dose Units", "UNIT"),
    text("EXDOSFRM", "Dose Form", "FRM"),
    text("EXROUTE", "Route of Administration", "ROUTE"),
    text("EXLOT", "Lot Number"),
    number("EXVAMT", "Treatment Vehicle Amount"),
    text("EXVAMTU", "Treatment Vehicle Amount Units", "UNIT"),
    text("EXSTDTC", "Start Date/Time of Treatment"),
    text("EXENDTC", "End Date/Time of Treatment"),
    integer("EXSTDY", "Study Day of Start of Treatment"),
    integer("EXENDY", "Study Day of End of Treatment"),
)

#: EXDOSE is the number of viable cells infused, in millions (EXDOSU "10^6 cells": the UNIT
#: codelist is extensible and this is a sponsor term, as cell-therapy SDTM datasets use).
CELLS_UNIT = "10^6 cells"


def route_code(route: str, where: str) -> str:
    code = ct.ROUTES.get(" ".join(route.lower().split()))
    if code is None:
        known = ", ".join(sorted(ct.ROUTES))
        raise ExportError(where, f"route {route!r} has no CDISC ROUTE term (known: {known})")
    return code


def ex(ctx: Context, treatment: str) -> Domain:
    """EX: one row per infusion, the dose in 10^6 cells, the suspension volume as vehicle
    amount."""
    rows = []
    for d in ctx.dataset.doses:
        rows.append(
            {
                **ctx.common("EX", d.subject_id),
                "EXTRT": treatment,
                "EXDOSE": d.cells / 1e6,
                "EXDOSU": CELLS_UNIT,
                "EXDOSFRM": ct.DOSE_FORM,
                "EXROUTE": route_code(d.route, f"dose of {d.subject_id}, lot {d.lot}"),
                "EXLOT": d.lot,
                "EXVAMT": d.volume_ml,
                "EXVAMTU": "mL",
                "EXSTDTC": iso_datetime(d.started_at),
                "EXENDTC": iso_datetime(d.ended_at),
                "EXSTDY": ctx.day(d.subject_id, utc_date(d.started_at)),
                "EXENDY": ctx.day(d.subject_id, utc_date(d.ended_at)),
            }
        )
    return build(
        "EX",
        "Exposure",
        EX_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], r["EXSTDTC"], r["EXLOT"]),
        seq="EXSEQ",
    )


AE_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("AESEQ", "Sequence Number"),
    text("AETERM", "Reported Term for the Adverse Event"),
    text("AEDECOD", "Dictionary-Derived Term"),
    text("AESER", "Serious Event", "NY"),
    text("AEACN", "Action Taken with Study Treatment", "ACN"),
    text("AEACNOTH", "Other Action Taken"),
    text("AEREL", "Causality"),
    text("AEOUT", "Outcome of Adverse Event", "OUT"),
    text("AESCONG", "Congenital Anomaly or Birth Defect", "NY"),
    text("AESDISAB", "Persist or Signif Disability/Incapacity", "NY"),
    text("AESDTH", "Results in Death", "NY"),
    text("AESHOSP", "Requires or Prolongs Hospitalization", "NY"),
    text("AESLIFE", "Is Life Threatening", "NY"),
    text("AESMIE", "Other Medically Important Serious Event", "NY"),
    text("AETOXGR", "Standard Toxicity Grade", "TOXGR"),
    text("AESTDTC", "Start Date/Time of Adverse Event"),
    text("AEENDTC", "End Date/Time of Adverse Event"),
    integer("AESTDY", "Study Day of Start of Adverse Event"),
    integer("AEENDY", "Study Day of End of Adverse Event"),
)

#: What trialdesk's action choices that do not act on the product say (AEACNOTH).
OTHER_ACTIONS = {"treatment_given": "TREATMENT GIVEN", "withdrawn": "SUBJECT WITHDRAWN FROM STUDY"}


def ae_action(ctx: Context, ae) -> str:
    """AEACN: the action on the cell product. An interrupted/stopped infusion maps to its
    ACN term; otherwise, an event starting after the last infusion ended could not change
    the dose (NOT APPLICABLE), one during or before it did not (DOSE NOT CHANGED)."""
    if ae.action_taken in ct.AEACN:
        return ct.AEACN[ae.action_taken]
    if ae.action_taken not in ("none", *OTHER_ACTIONS):
        raise ExportError(
            f"adverse event {ae.term!r} of {ae.subject_id}", f"action {ae.action_taken!r}"
        )
    last = ctx.last_dose.get(ae.subject_id)
    if last is None or ae.onset_date > utc_date(last.ended_at):
        return ct.ACN_NOT_APPLICABLE
    return ct.ACN_NOT_CHANGED


def ae(ctx: Context) -> Domain:
    """AE: one row per event as recorded. AETERM/AEDECOD hold the CTCAE term (CTCAE v5
    terms are MedDRA lowest level terms); AETOXGR the CTCAE grade; the seriousness flags
    are Y for each ICH E2A criterion recorded and N otherwise on a serious event (null on a
    non-serious one, SDTMIG 3.3 section 6.2.1 assumption 6)."""
    rows = []
    for a in ctx.dataset.adverse_events:
        where = f"adverse event {a.term!r} of {a.subject_id}"
        if a.related not in ct.AEREL:
            raise ExportError(where, f"relatedness {a.related!r} has no AEREL value")
        if a.outcome not in ct.AEOUT:
            raise ExportError(where, f"outcome {a.outcome!r} has no OUT term")
        unknown = set(a.seriousness) - set(ct.SERIOUSNESS_FLAGS)
        if unknown:
            raise ExportError(where, f"seriousness criteria {sorted(unknown)} are not ICH E2A")
        flags = {
            flag: (ct.YES if criterion in a.seriousness else ct.NO) if a.serious else None
            for criterion, flag in ct.SERIOUSNESS_FLAGS.items()
        }
        rows.append(
            {
                **ctx.common("AE", a.subject_id),
                "AETERM": a.term,
                "AEDECOD": a.term,
                "AESER": ct.YES if a.serious else ct.NO,
                "AEACN": ae_action(ctx, a),
                "AEACNOTH": OTHER_ACTIONS.get(a.action_taken),
                "AEREL": ct.AEREL[a.related],
                "AEOUT": ct.AEOUT[a.outcome],
                **flags,
                "AETOXGR": None if a.grade is None else str(a.grade),
                "AESTDTC": iso_date(a.onset_date),
                "AEENDTC": iso_date(a.resolution_date),
                "AESTDY": ctx.day(a.subject_id, a.onset_date),
                "AEENDY": ctx.day(a.subject_id, a.resolution_date),
            }
        )
    return build(
        "AE",
        "Adverse Events",
        AE_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], r["AESTDTC"], r["AETERM"], none_last(r["AETOXGR"])),
        seq="AESEQ",
    )


def _visit_fields(ctx: Context, v) -> dict[str, object]:
    num = ctx.visitnum.get(v.code)
    plan = next((p for p in ctx.dataset.schedule if p.code == v.code), None)
    return {
        "VISITNUM": num,
        "VISIT": plan.label.upper() if plan else v.code,
        "VISITDY": plan.target_day if plan else None,
    }


LB_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("LBSEQ", "Sequence Number"),
    text("LBTESTCD", "Lab Test or Examination Short Name", "LBTESTCD"),
    text("LBTEST", "Lab Test or Examination Name", "LBTEST"),
    text("LBCAT", "Category for Lab Test"),
    text("LBORRES", "Result or Finding in Original Units"),
    text("LBORRESU", "Original Units", "UNIT"),
    text("LBSTRESC", "Character Result/Finding in Std Format"),
    number("LBSTRESN", "Numeric Result/Finding in Standard Units"),
    text("LBSTRESU", "Standard Units", "UNIT"),
    integer("VISITNUM", "Visit Number"),
    text("VISIT", "Visit Name"),
    integer("VISITDY", "Planned Study Day of Visit"),
    text("LBDTC", "Date/Time of Specimen Collection"),
    integer("LBDY", "Study Day of Specimen Collection"),
)


def _number_text(value: float) -> str:
    """A result as text without a spurious '.0' (``13.0`` -> ``"13"``)."""
    return format(value, "g") if abs(value) < 1e15 else repr(value)


def _split_entered(entered: str) -> tuple[str, str | None]:
    """LBORRES / LBORRESU from the value as typed (``"2.0 mg/dL"``, ``"< 0.5 mg/dL"``,
    ``"1.5"``): the number with its comparator, then the unit (None when none was typed)."""
    parts = entered.split()
    if parts and parts[0] in ("<", ">", "<=", ">=") and len(parts) > 1:
        parts = [parts[0] + parts[1], *parts[2:]]
    return (parts[0] if parts else entered), (" ".join(parts[1:]) or None)


def lb(ctx: Context) -> Domain:
    """LB: one row per lab result. LBORRES/LBORRESU are the value and unit as entered at the
    site; LBSTRESN/LBSTRESU the value in trialdesk's canonical unit (converted by
    trialdesk.clinical.units), the unit as its CDISC UNIT term. A result beyond a detection
    limit (comparator) has LBSTRESC "<0.5" and no LBSTRESN."""
    rows = []
    for v in ctx.dataset.visits:
        for lab in v.labs:
            test = ct.LB_TESTS.get(lab.analyte)
            if test is None:
                raise ExportError(
                    f"analyte {lab.analyte!r} (visit {v.code} of {v.subject_id})",
                    "has no CDISC LBTESTCD in trialdesk.interop.sdtm.terminology.LB_TESTS",
                )
            if lab.unit not in ct.UNITS:
                raise ExportError(
                    f"analyte {lab.analyte!r} (visit {v.code} of {v.subject_id})",
                    f"unit {lab.unit!r} has no CDISC UNIT term",
                )
            std = _number_text(lab.value)
            orres, orresu = _split_entered(lab.entered)
            rows.append(
                {
                    **ctx.common("LB", v.subject_id),
                    "LBTESTCD": test.code,
                    "LBTEST": test.name,
                    "LBCAT": test.category,
                    "LBORRES": orres,
                    "LBORRESU": orresu,
                    "LBSTRESC": f"{lab.comparator}{std}" if lab.comparator else std,
                    "LBSTRESN": None if lab.comparator else lab.value,
                    "LBSTRESU": ct.UNITS[lab.unit],
                    **_visit_fields(ctx, v),
                    "LBDTC": iso_date(v.visit_date),
                    "LBDY": ctx.day(v.subject_id, v.visit_date),
                }
            )
    return build(
        "LB",
        "Laboratory Test Results",
        LB_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], r["LBDTC"], none_last(r["VISITNUM"]), r["LBTESTCD"]),
        seq="LBSEQ",
    )


VS_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("VSSEQ", "Sequence Number"),
    text("VSTESTCD", "Vital Signs Test Short Name", "VSTESTCD"),
    text("VSTEST", "Vital Signs Test Name", "VSTEST"),
    text("VSORRES", "Result or Finding in Original Units"),
    text("VSORRESU", "Original Units", "UNIT"),
    text("VSSTRESC", "Character Result/Finding in Std Format"),
    number("VSSTRESN", "Numeric Result/Finding in Standard Units"),
    text("VSSTRESU", "Standard Units", "UNIT"),
    integer("VISITNUM", "Visit Number"),
    text("VISIT", "Visit Name"),
    integer("VISITDY", "Planned Study Day of Visit"),
    text("VSDTC", "Date/Time of Measurements"),
    integer("VSDY", "Study Day of Vital Signs"),
)


def vs(ctx: Context) -> Domain:
    """VS: one row per vital sign measured at a visit (none for one left blank)."""
    rows = []
    for v in ctx.dataset.visits:
        for field, (test, unit) in ct.VS_TESTS.items():
            value = getattr(v.vitals, field)
            if value is None:
                continue
            shown = _number_text(float(value))
            rows.append(
                {
                    **ctx.common("VS", v.subject_id),
                    "VSTESTCD": test.code,
                    "VSTEST": test.name,
                    "VSORRES": shown,
                    "VSORRESU": unit,
                    "VSSTRESC": shown,
                    "VSSTRESN": float(value),
                    "VSSTRESU": unit,
                    **_visit_fields(ctx, v),
                    "VSDTC": iso_date(v.visit_date),
                    "VSDY": ctx.day(v.subject_id, v.visit_date),
                }
            )
    return build(
        "VS",
        "Vital Signs",
        VS_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], r["VSDTC"], none_last(r["VISITNUM"]), r["VSTESTCD"]),
        seq="VSSEQ",
    )

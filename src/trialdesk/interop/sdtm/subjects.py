"""The subject-level SDTM domains: DM (demographics), DS (disposition), IE (inclusion and
exclusion criteria not met) and MH (medical history). Variables, labels and order follow the
SDTMIG 3.3 domain models (sections 5.2, 6.2.4, 6.3.3, 6.2.6)."""

from __future__ import annotations

from functools import lru_cache

from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm import terminology as ct
from trialdesk.interop.sdtm.context import Context
from trialdesk.interop.sdtm.model import (
    DOMAIN,
    STUDYID,
    USUBJID,
    Domain,
    ascii_text,
    build,
    integer,
    iso_date,
    iso_datetime,
    none_last,
    text,
    utc_date,
)

DM_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    text("SUBJID", "Subject Identifier for the Study"),
    text("RFSTDTC", "Subject Reference Start Date/Time"),
    text("RFENDTC", "Subject Reference End Date/Time"),
    text("RFXSTDTC", "Date/Time of First Study Treatment"),
    text("RFXENDTC", "Date/Time of Last Study Treatment"),
    text("RFICDTC", "Date/Time of Informed Consent"),
    text("RFPENDTC", "Date/Time of End of Participation"),
    text("DTHDTC", "Date/Time of Death"),
    text("DTHFL", "Subject Death Flag", "NY"),
    text("SITEID", "Study Site Identifier"),
    text("BRTHDTC", "Date/Time of Birth"),
    integer("AGE", "Age"),
    text("AGEU", "Age Units", "AGEU"),
    text("SEX", "Sex", "SEX"),
    text("ARMCD", "Planned Arm Code"),
    text("ARM", "Description of Planned Arm"),
    text("ACTARMCD", "Actual Arm Code"),
    text("ACTARM", "Description of Actual Arm"),
    text("ARMNRS", "Reason Arm and/or Actual Arm is Null", "ARMNULRS"),
    text("COUNTRY", "Country", "COUNTRY"),
)


@lru_cache(maxsize=256)
def country_code(country: str) -> str:
    """ISO 3166-1 alpha-3, as the COUNTRY codelist requires (via pycountry)."""
    import pycountry

    try:
        return pycountry.countries.lookup(country.strip()).alpha_3
    except LookupError:
        raise ExportError(f"country {country!r}", "not an ISO 3166 country name or code") from None


def _death_date(ctx: Context, subject_id: str):
    """A death is known from a fatal adverse-event outcome (its resolution date, else its
    onset) or from the participant's end status 'died' (its end date)."""
    fatal = [
        ae.resolution_date or ae.onset_date
        for ae in ctx.dataset.adverse_events
        if ae.subject_id == subject_id and ae.outcome == "fatal"
    ]
    participant = ctx.dataset.participant(subject_id)
    if participant.end_status == "died" and participant.end_date is not None:
        fatal.append(participant.end_date)
    return min(fatal) if fatal else None


def _arm(ctx: Context, level_id: str | None) -> tuple[str | None, str | None]:
    if level_id is None:
        return None, None
    for level in ctx.dataset.dose_levels:
        if level.id == level_id:
            return level.id.upper(), level.label
    raise ExportError(f"dose level {level_id!r}", "not one of the trial's dose levels")


def dm(ctx: Context) -> Domain:
    """DM: one row per participant screened. ARMCD/ARM is the dose level assigned at
    enrolment, ACTARMCD/ACTARM the dose level infused; screen failures and participants not
    yet assigned have null arms and ARMNRS says why."""
    rows = []
    for p in ctx.dataset.participants:
        sid = p.subject_id
        first, last = ctx.first_dose.get(sid), ctx.last_dose.get(sid)
        death = _death_date(ctx, sid)
        armcd, arm = _arm(ctx, p.dose_level)
        actcd, act = _arm(ctx, first.dose_level) if first else (None, None)
        if p.status == "screen_failed":
            reason = ct.ARMNRS_SCREEN_FAILURE
        elif armcd is None:
            reason = ct.ARMNRS_NOT_ASSIGNED
        elif actcd is None:
            reason = ct.ARMNRS_NOT_TREATED
        else:
            reason = None
        sex = ct.SEX.get(p.sex)
        if sex is None:
            raise ExportError(f"participant {sid}, sex", f"{p.sex!r} has no SEX code")
        end = p.end_date if p.end_status is not None else None
        rows.append(
            {
                **ctx.common("DM", sid),
                "SUBJID": sid,
                "RFSTDTC": iso_datetime(first.started_at) if first else None,
                "RFENDTC": iso_date(end) if first else None,
                "RFXSTDTC": iso_datetime(first.started_at) if first else None,
                "RFXENDTC": iso_datetime(last.ended_at) if last else None,
                "RFICDTC": iso_datetime(p.consented_at),
                "RFPENDTC": iso_date(end),
                "DTHDTC": iso_date(death),
                "DTHFL": ct.YES if death else None,
                "SITEID": p.site_code,
                "BRTHDTC": iso_date(p.birth_date),
                "AGE": p.age_at_screening,
                "AGEU": ct.AGEU_YEARS,
                "SEX": sex,
                "ARMCD": armcd,
                "ARM": arm,
                "ACTARMCD": actcd,
                "ACTARM": act,
                "ARMNRS": reason,
                "COUNTRY": country_code(p.country),
            }
        )
    return build(
        "DM", "Demographics", DM_VARIABLES, rows, sort_key=lambda r: r["USUBJID"], seq=None
    )


DS_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("DSSEQ", "Sequence Number"),
    text("DSTERM", "Reported Term for the Disposition Event"),
    text("DSDECOD", "Standardized Disposition Term", "NCOMPLT"),
    text("DSCAT", "Category for Disposition Event", "DSCAT"),
    text("DSSTDTC", "Start Date/Time of Disposition Event"),
    integer("DSSTDY", "Study Day of Start of Disposition Event"),
)


def ds(ctx: Context) -> Domain:
    """DS: informed consent (protocol milestone), screen failure with its reasons, and the
    end of the trial (completed, withdrawn, died) once the participant has one."""
    rows = []
    for p in ctx.dataset.participants:
        sid = p.subject_id

        def row(term: str, decod: str, cat: str, when, day_of, sid=sid) -> dict:
            return {
                **ctx.common("DS", sid),
                "DSTERM": term,
                "DSDECOD": decod,
                "DSCAT": cat,
                "DSSTDTC": when,
                "DSSTDY": ctx.day(sid, day_of),
            }

        if p.consented_at is not None:
            version = f" (version {p.consent_version})" if p.consent_version else ""
            rows.append(
                row(
                    f"INFORMED CONSENT OBTAINED{version}",
                    ct.DS_CONSENT,
                    ct.DSCAT_MILESTONE,
                    iso_datetime(p.consented_at),
                    utc_date(p.consented_at),
                )
            )
        if p.status == "screen_failed":
            reasons = "; ".join(p.screen_failure_reasons) or "SCREEN FAILURE"
            rows.append(
                row(
                    reasons,
                    ct.DS_SCREEN_FAILURE,
                    ct.DSCAT_DISPOSITION,
                    iso_date(p.screened_on),
                    p.screened_on,
                )
            )
        if p.end_status is not None:
            decod = ct.DS_END.get(p.end_status)
            if decod is None:
                raise ExportError(
                    f"participant {sid}, end status", f"{p.end_status!r} has no DSDECOD"
                )
            rows.append(row(decod, decod, ct.DSCAT_DISPOSITION, iso_date(p.end_date), p.end_date))
    return build(
        "DS",
        "Disposition",
        DS_VARIABLES,
        rows,
        sort_key=lambda r: (
            r["USUBJID"],
            none_last(r["DSSTDTC"]),
            r["DSCAT"] != ct.DSCAT_MILESTONE,
        ),
        seq="DSSEQ",
    )


IE_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("IESEQ", "Sequence Number"),
    text("IETESTCD", "Inclusion/Exclusion Criterion Short Name"),
    text("IETEST", "Inclusion/Exclusion Criterion"),
    text("IECAT", "Inclusion/Exclusion Category", "IECAT"),
    text("IEORRES", "I/E Criterion Original Result", "NY"),
    text("IESTRESC", "I/E Criterion Result in Std Format", "NY"),
    text("IEDTC", "Date/Time of Collection"),
    integer("IEDY", "Study Day of Collection"),
)

#: IETEST holds at most 200 characters (SDTMIG 3.3 section 6.3.3, assumption 3: the full
#: text belongs in the TI domain).
IETEST_MAX = 200


def ie_testcd(criterion_id: str, kind: str, index: int) -> str:
    """The criterion's id when it is a valid SDTM short name (<= 8, letters/digits/_, not
    starting with a digit), else INCL01 / EXCL01 ... by its position in the protocol."""
    cid = criterion_id.upper().replace("-", "_").replace(".", "_")
    if (
        0 < len(cid) <= 8
        and cid.isascii()
        and cid.replace("_", "").isalnum()
        and not cid[0].isdigit()
    ):
        return cid
    return f"{'INCL' if kind == 'inclusion' else 'EXCL'}{index:02d}"


def ie(ctx: Context) -> Domain:
    """IE: only the criteria a participant failed (an inclusion criterion not met, an
    exclusion criterion that applies), as SDTMIG 3.3 section 6.3.3 assumption 1 asks; a
    criterion left 'unknown' is no exception and is not listed."""
    rows = []
    for p in ctx.dataset.participants:
        counters = {"inclusion": 0, "exclusion": 0}
        for c in p.criteria:
            if c.kind not in ct.IECAT:
                raise ExportError(
                    f"participant {p.subject_id}, criterion {c.id}", f"kind {c.kind!r}"
                )
            counters[c.kind] += 1
            failed = (c.kind == "inclusion" and c.outcome == "not met") or (
                c.kind == "exclusion" and c.outcome == "met"
            )
            if not failed:
                continue
            answer = ct.NO if c.kind == "inclusion" else ct.YES
            testcd = ie_testcd(c.id, c.kind, counters[c.kind])
            folded = ascii_text(" ".join(c.text.split()))  # before cutting: "°" -> "deg"
            test = folded.encode("utf-8")[:IETEST_MAX].decode("utf-8", "ignore").rstrip()
            rows.append(
                {
                    **ctx.common("IE", p.subject_id),
                    "IETESTCD": testcd,
                    "IETEST": test,
                    "IECAT": ct.IECAT[c.kind],
                    "IEORRES": answer,
                    "IESTRESC": answer,
                    "IEDTC": iso_date(p.screened_on),
                    "IEDY": ctx.day(p.subject_id, p.screened_on),
                }
            )
    return build(
        "IE",
        "Inclusion/Exclusion Criteria Not Met",
        IE_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], r["IECAT"], r["IETESTCD"]),
        seq="IESEQ",
    )


MH_VARIABLES = (
    STUDYID,
    DOMAIN,
    USUBJID,
    integer("MHSEQ", "Sequence Number"),
    text("MHTERM", "Reported Term for the Medical History"),
    text("MHSTDTC", "Start Date/Time of Medical History Event"),
    text("MHENRTPT", "End Relative to Reference Time Point", "STENRF"),
    text("MHENTPT", "End Reference Time Point"),
)


def mh(ctx: Context) -> Domain:
    """MH: the conditions in the screening data; MHENRTPT is ONGOING or BEFORE relative to
    the screening date (MHENTPT), null when the site did not say."""
    rows = []
    for p in ctx.dataset.participants:
        for item in p.history:
            ongoing = {True: "ONGOING", False: "BEFORE", None: None}[item.ongoing]
            rows.append(
                {
                    **ctx.common("MH", p.subject_id),
                    "MHTERM": item.term,
                    "MHSTDTC": iso_date(item.start),
                    "MHENRTPT": ongoing,
                    "MHENTPT": iso_date(p.screened_on) if ongoing else None,
                }
            )
    return build(
        "MH",
        "Medical History",
        MH_VARIABLES,
        rows,
        sort_key=lambda r: (r["USUBJID"], none_last(r["MHSTDTC"]), r["MHTERM"]),
        seq="MHSEQ",
    )

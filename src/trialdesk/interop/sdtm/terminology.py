"""CDISC Controlled Terminology used by the SDTM export, as tables read like the source.

Version: **CDISC SDTM Controlled Terminology 2024-03-29** (NCI EVS, "SDTM Terminology"),
codelists named by their CDISC submission short names (``LBTESTCD``, ``VSTESTCD``, ``SEX``,
``NY``, ``ACN``, ``OUT``, ``ROUTE``, ``NCOMPLT``, ``PROTMLST``, ``DSCAT``, ``IECAT``,
``TOXGR``, ``AGEU``, ``ARMNULRS``, ``UNIT``). Each mapping below goes from the value
trialdesk stores (conduct's choices, ``trialdesk.clinical.analytes`` names, UCUM units) to
the CDISC submission value. Where CDISC publishes no codelist (``AEREL`` is sponsor-defined
in SDTMIG 3.3) the value is marked ``codelist=None`` and documented in ``docs/exports.md``.

Checked against CDISC-derived public material with the project's search tool: the INR test
(C64805, "Prothrombin Intl. Normalized Ratio"), the ARMNULRS terms (C142179), the OUT and ACN
terms; the other codes are the long-standing CDISC submission values (BILI, CREAT, ALB,
SODIUM, ALT, AST, PT, WBC, NEUT, PLAT, HGB; TEMP, HR, SYSBP, DIABP, RESP, OXYSAT, WEIGHT)
and should be re-checked against the NCI EVS release when it is next updated.

A value without a mapping is refused with an :class:`~trialdesk.interop.errors.ExportError`
naming it (an analyte with no LBTESTCD, an unknown route), never passed through silently.
"""

from __future__ import annotations

from dataclasses import dataclass

CT_VERSION = "CDISC SDTM Controlled Terminology 2024-03-29"
SDTMIG_VERSION = "SDTMIG 3.3"


@dataclass(frozen=True, slots=True)
class TestCode:
    """One test of the LBTESTCD/LBTEST (or VSTESTCD/VSTEST) codelist pair."""

    code: str
    name: str
    category: str | None = None


#: trialdesk analyte name (trialdesk.clinical.analytes) -> LBTESTCD / LBTEST / LBCAT.
LB_TESTS: dict[str, TestCode] = {
    "bilirubin": TestCode("BILI", "Bilirubin", "CHEMISTRY"),
    "creatinine": TestCode("CREAT", "Creatinine", "CHEMISTRY"),
    "albumin": TestCode("ALB", "Albumin", "CHEMISTRY"),
    "sodium": TestCode("SODIUM", "Sodium", "CHEMISTRY"),
    "alt": TestCode("ALT", "Alanine Aminotransferase", "CHEMISTRY"),
    "ast": TestCode("AST", "Aspartate Aminotransferase", "CHEMISTRY"),
    "inr": TestCode("INR", "Prothrombin Intl. Normalized Ratio", "COAGULATION"),
    "prothrombin_time": TestCode("PT", "Prothrombin Time", "COAGULATION"),
    "wbc": TestCode("WBC", "Leukocytes", "HEMATOLOGY"),
    "neutrophils": TestCode("NEUT", "Neutrophils", "HEMATOLOGY"),
    "platelets": TestCode("PLAT", "Platelets", "HEMATOLOGY"),
    "hemoglobin": TestCode("HGB", "Hemoglobin", "HEMATOLOGY"),
}

#: trialdesk Vitals field -> VSTESTCD / VSTEST, with the UNIT codelist value of its unit.
VS_TESTS: dict[str, tuple[TestCode, str]] = {
    "temperature_c": (TestCode("TEMP", "Temperature"), "C"),
    "heart_rate": (TestCode("HR", "Heart Rate"), "beats/min"),
    "systolic_bp": (TestCode("SYSBP", "Systolic Blood Pressure"), "mmHg"),
    "diastolic_bp": (TestCode("DIABP", "Diastolic Blood Pressure"), "mmHg"),
    "respiratory_rate": (TestCode("RESP", "Respiratory Rate"), "breaths/min"),
    "spo2": (TestCode("OXYSAT", "Oxygen Saturation"), "%"),
    "weight_kg": (TestCode("WEIGHT", "Weight"), "kg"),
}

#: UCUM unit (trialdesk's canonical units) -> UNIT codelist submission value; None: no unit
#: (the INR is a ratio without a unit).
UNITS: dict[str, str | None] = {
    "mg/dL": "mg/dL",
    "g/dL": "g/dL",
    "g/L": "g/L",
    "mmol/L": "mmol/L",
    "umol/L": "umol/L",
    "U/L": "U/L",
    "10*9/L": "10^9/L",
    "10*12/L": "10^12/L",
    "s": "sec",
    "{INR}": None,
    "%": "%",
}

#: conduct's Participant.sex -> SEX codelist.
SEX: dict[str, str] = {"female": "F", "male": "M"}

#: NY codelist (AESER and the seriousness flags, DTHFL).
YES, NO = "Y", "N"

#: ICH E2A seriousness criterion (trialdesk.clinical.safety.SeriousnessCriterion) -> the
#: SDTMIG 3.3 AE flag that records it.
SERIOUSNESS_FLAGS: dict[str, str] = {
    "congenital_anomaly": "AESCONG",
    "disability": "AESDISAB",
    "death": "AESDTH",
    "hospitalisation": "AESHOSP",
    "life_threatening": "AESLIFE",
    "important_medical_event": "AESMIE",
}

#: conduct's AdverseEvent.related -> AEREL (sponsor-defined: no CDISC codelist; None when the
#: investigator has not assessed it yet).
AEREL: dict[str, str | None] = {
    "related": "RELATED",
    "possibly": "POSSIBLY RELATED",
    "unlikely": "UNLIKELY RELATED",
    "unrelated": "NOT RELATED",
    "unknown": None,
}

#: conduct's AdverseEvent.action_taken -> ACN codelist (action taken with the study
#: treatment, the cell product). "none"/"treatment_given"/"withdrawn" do not act on the
#: product; they map by whether the product was still being given (see ``ae_action``).
AEACN: dict[str, str] = {
    "infusion_interrupted": "DRUG INTERRUPTED",
    "infusion_stopped": "DRUG WITHDRAWN",
}
ACN_NOT_CHANGED = "DOSE NOT CHANGED"
ACN_NOT_APPLICABLE = "NOT APPLICABLE"

#: conduct's AdverseEvent.outcome -> OUT codelist.
AEOUT: dict[str, str] = {
    "recovering": "RECOVERING/RESOLVING",
    "recovered": "RECOVERED/RESOLVED",
    "sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}

#: The infusion route as the protocol writes it -> ROUTE codelist.
ROUTES: dict[str, str] = {
    "intravenous": "INTRAVENOUS",
    "intravenous infusion": "INTRAVENOUS",
    "iv": "INTRAVENOUS",
    "intra-arterial": "INTRA-ARTERIAL",
}

#: Dosage form of a cell suspension (FRM codelist).
DOSE_FORM = "SUSPENSION"

#: Disposition (DSCAT / DSDECOD: NCOMPLT and PROTMLST codelists).
DSCAT_DISPOSITION = "DISPOSITION EVENT"
DSCAT_MILESTONE = "PROTOCOL MILESTONE"
DS_CONSENT = "INFORMED CONSENT OBTAINED"
DS_SCREEN_FAILURE = "SCREEN FAILURE"
#: Participant.end_status -> DSDECOD (NCOMPLT).
DS_END: dict[str, str] = {
    "completed": "COMPLETED",
    "withdrawn": "WITHDRAWAL BY SUBJECT",
    "died": "DEATH",
}

#: IECAT codelist.
IECAT: dict[str, str] = {"inclusion": "INCLUSION", "exclusion": "EXCLUSION"}

#: ARMNULRS codelist (DM.ARMNRS): why ARM/ACTARM are null.
ARMNRS_SCREEN_FAILURE = "SCREEN FAILURE"
ARMNRS_NOT_ASSIGNED = "NOT ASSIGNED"
ARMNRS_NOT_TREATED = "ASSIGNED, NOT TREATED"

AGEU_YEARS = "YEARS"

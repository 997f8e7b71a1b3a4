"""The two seed trials' registry records carry every fact of their seed listing pages.

Reference values below are copied from the seed listings (ClinicalTrials.Veeva pages of
NCT05227846 and NCT05331872, "Data sourced from clinicaltrials.gov"); city coordinates are
the GeoNames points ClinicalTrials.gov uses for Beijing and Hanoi.
"""

import json
from pathlib import Path

import pytest

from trialdesk.interop.ctgov import (
    AgencyClass,
    Allocation,
    ArmGroupType,
    ContactRole,
    DateType,
    InterventionModel,
    InterventionType,
    Masking,
    OverallStatus,
    Phase,
    PrimaryPurpose,
    Sex,
    StdAge,
    StudyType,
    dump_study,
    load_studies,
    split_eligibility,
)

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def _load(nct_id: str):
    path = PROTOCOLS / nct_id / "record.json"
    (study,) = load_studies(path)
    return study, json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("nct_id", ["NCT05227846", "NCT05331872"])
def test_seed_record_round_trips(nct_id):
    study, raw = _load(nct_id)
    assert study.nct_id == nct_id
    assert dump_study(study) == raw


def _common_design(study):
    ps = study.protocol_section
    design = ps.design_module
    assert design.study_type is StudyType.INTERVENTIONAL
    assert study.phases == [Phase.PHASE1]
    info = design.design_info
    assert info.primary_purpose is PrimaryPurpose.TREATMENT
    assert info.allocation is Allocation.NA
    assert info.intervention_model is InterventionModel.SINGLE_GROUP
    assert info.masking_info.masking is Masking.NONE
    elig = ps.eligibility_module
    assert elig.sex is Sex.ALL and elig.healthy_volunteers is False
    assert elig.std_ages == [StdAge.ADULT, StdAge.OLDER_ADULT]
    assert len(ps.arms_interventions_module.arm_groups) == 1  # "1 patient group"
    assert len(study.locations) == 1  # "Trial contacts and locations: 1"


def test_nct05227846_facts():
    study, _ = _load("NCT05227846")
    ps = study.protocol_section
    ident = ps.identification_module
    assert study.brief_title == (
        "Human Umbilical Cord-derived Mesenchymal Stem Cells for Decompensated Cirrhosis"
        " (MSC-DLC-1)"
    )
    assert ident.acronym == "MSC-DLC-1"
    assert ident.org_study_id_info.id == "MSC-DLC-1"
    sponsors = ps.sponsor_collaborators_module
    assert sponsors.lead_sponsor.name == "Beijing 302 Hospital"
    # Funder types: Other and Industry
    classes = {sponsors.lead_sponsor.agency_class} | {
        c.agency_class for c in sponsors.collaborators
    }
    assert classes == {AgencyClass.OTHER, AgencyClass.INDUSTRY}
    assert study.overall_status is OverallStatus.RECRUITING  # "Enrolling"
    assert study.conditions == ["Decompensated Cirrhosis"]
    (intervention,) = ps.arms_interventions_module.interventions
    assert intervention.type is InterventionType.BIOLOGICAL
    assert intervention.name == "Human Umbilical Cord-derived Mesenchymal Stem Cells"
    desc = ps.description_module
    assert desc.brief_summary.startswith("This is a Phase 1, open label, dose escalation")
    assert desc.brief_summary.endswith("in patients with decompensated cirrhosis.")
    assert desc.detailed_description == (
        "The primary objective of this study is to assess the safety of intravenous infusion"
        " of human umbilical cord-derived mesenchymal stem cells in patients with"
        " decompensated cirrhosis."
    )
    enrol = ps.design_module.enrollment_info
    assert (enrol.count, enrol.type) == (12, DateType.ESTIMATED)
    assert (study.min_age_days, study.max_age_days) == (18 * 365.25, 75 * 365.25)
    _common_design(study)
    (arm,) = ps.arms_interventions_module.arm_groups
    assert arm.label == "Human Umbilical Cord-derived Mesenchymal Stem Cells"
    assert arm.type is ArmGroupType.EXPERIMENTAL
    assert arm.description == (
        "Standard of care (SOC) plus a dose-escalation with 4 cohorts with 3-6 subjects/cohort"
        " who receive doses of 5, 10,15 and 20 ×10E7 cells. Proceed from lower dose to next"
        " higher dose if no safety concerns for each cohort."
    )
    assert arm.intervention_names == [
        "Biological: Human Umbilical Cord-derived Mesenchymal Stem Cells"
    ]
    (outcome,) = ps.outcomes_module.primary_outcomes
    assert "safety" in outcome.measure.lower()
    contacts = ps.contacts_locations_module.central_contacts
    assert [c.name for c in contacts] == ["Fu-Sheng Wang, MD,PhD", "Lei Shi, MD,PhD"]
    assert all(c.role is ContactRole.CONTACT for c in contacts)
    (site,) = study.locations
    assert "Beijing 302 Hospital" in site.facility
    assert (site.city, site.country) == ("Beijing", "China")
    assert (site.geo_point.lat, site.geo_point.lon) == (39.9075, 116.39723)


def test_nct05227846_criteria_verbatim():
    study, _ = _load("NCT05227846")
    text = study.eligibility_criteria
    assert text.startswith("Inclusion Criteria:\n\n1. Willing to provide written informed consent;")
    assert "\n\nExclusion Criteria:\n\n1. Appearance of active variceal bleeding" in text
    criteria = split_eligibility(text)
    assert len(criteria.inclusion) == 4 and len(criteria.exclusion) == 20
    assert criteria.other == []
    assert criteria.inclusion[3] == "Child-Turcotte-Pugh (CTP) score 7 to 12 points."
    assert criteria.exclusion[2] == (
        "Hepatitis B virus (HBV) DNA ≥ detection limit at the time of screening."
    )
    assert criteria.exclusion[8] == (
        "Severe jaundice (serum total bilirubin level ≥ 170μmol/L); Significant renal"
        " insufficiency (serum creatinine ≥ 1.2 times upper normal limit); Severe electrolyte"
        " abnormality (serum sodium level < 125 mmol/L); Severe leukopenia (white blood cell"
        " count < 1 × 10E9/L)."
    )
    assert criteria.exclusion[14] == "HIV seropositivity."
    assert criteria.exclusion[19] == (
        "Any other clinical condition which the investigator considers would make the patient"
        " unsuitable for the trial."
    )


def test_nct05331872_facts():
    study, _ = _load("NCT05331872")
    ps = study.protocol_section
    assert study.brief_title == (
        "Umbilical Cord-derived Mesenchymal Stem Cell Infusion in the Management of Adult Liver"
        " Cirrhosis"
    )
    assert ps.identification_module.org_study_id_info.id == "ISC.19.29"
    sponsors = ps.sponsor_collaborators_module
    assert (
        sponsors.lead_sponsor.name == "Vinmec Research Institute of Stem Cell and Gene Technology"
    )
    assert sponsors.lead_sponsor.agency_class is AgencyClass.OTHER  # Funder types: Other
    assert not sponsors.collaborators
    assert study.overall_status is OverallStatus.COMPLETED
    assert study.conditions == ["Liver Cirrhosis"]
    (intervention,) = ps.arms_interventions_module.interventions
    assert intervention.type is InterventionType.BIOLOGICAL
    assert intervention.name == "Human umbilical cord-derived mesenchymal stem cell infusion"
    desc = ps.description_module
    assert desc.brief_summary.startswith("This is a phase I, open label, single arm trial")
    assert desc.detailed_description.startswith("Liver cirrhosis is defined as the histological")
    assert "over one million people died due to cirrhosis in 2010" in desc.detailed_description
    enrol = ps.design_module.enrollment_info
    assert (enrol.count, enrol.type) == (20, DateType.ACTUAL)
    assert (study.min_age_days, study.max_age_days) == (18 * 365.25, 70 * 365.25)
    _common_design(study)
    (arm,) = ps.arms_interventions_module.arm_groups
    assert arm.label == (
        "human umbilical cord-derived mesenchymal stem cell transplantation for patients with"
        " liver cirrhosis"
    )
    assert arm.type is ArmGroupType.EXPERIMENTAL
    assert arm.description.startswith("Umbilical cords from healthy donor are processed with 24")
    assert arm.description.endswith("The UC-MSCs is suspended in 15 ml of saline buffer")
    assert arm.intervention_names == [
        "Biological: Human umbilical cord-derived mesenchymal stem cell infusion"
    ]
    meld, safety = ps.outcomes_module.primary_outcomes
    assert "MELD" in meld.measure and "3, 6, and 12 months" in meld.description
    assert "frequency and severity" in safety.description
    (contact,) = ps.contacts_locations_module.central_contacts
    assert contact.name == "Phuong Nguyen, MSc"
    (site,) = study.locations
    assert site.facility == "Vinmec Research Institute of Stem Cell and Gene Technology"
    assert (site.city, site.country) == ("Hanoi", "Vietnam")
    assert (site.geo_point.lat, site.geo_point.lon) == (21.0245, 105.84117)


def test_nct05331872_criteria_verbatim():
    study, _ = _load("NCT05331872")
    criteria = split_eligibility(study.eligibility_criteria)
    assert study.eligibility_criteria.startswith("Inclusion Criteria:\n\n* Aged 18 to 70")
    assert criteria.inclusion == [
        "Aged 18 to 70 years old.",
        "Patients diagnosed of liver cirrhosis: splenomegaly, elevated hepatic enzymes and/or"
        " esophageal varices detected by endoscopy, or liver biopsy demonstrated liver cirrhosis",
        "Be willing to complete the study and sign the consent form.",
    ]
    assert criteria.exclusion == [
        "Younger than 18 or older than 70 years old",
        "Recent infection",
        "Patients with history of chronic diseases such as cancer, chronic hepatitis, chronic"
        " kidney disease.",
        "Any clinically significant blood coagulation disorder(s)",
    ]


# What the seed listing pages do NOT show (read whole: shared/seeds/*.txt). They show no
# dates (no start, completion, first-posted or last-update date), central contacts by name
# only (no phone, no e-mail: the "Trial contacts and locations" block reads "Loading..."),
# and no outcome time frame; NCT05331872's "About" text gives its MELD outcome's time points
# ("at 3, 6, and 12 months after UC-MSC transplantation from baseline"). The records hold
# exactly that, and nothing invented (docs/protocols/*.md, "Dates, time frames, contacts").
SEED_TIME_FRAMES = {
    "NCT05227846": [None],
    "NCT05331872": ["Baseline, 3, 6 and 12 months after UC-MSC transplantation", None],
}


@pytest.mark.parametrize("nct_id", ["NCT05227846", "NCT05331872"])
def test_seed_records_hold_no_date_or_contact_detail_the_seed_page_does_not_show(nct_id):
    study, raw = _load(nct_id)
    status = raw["protocolSection"]["statusModule"]
    assert set(status) == {"overallStatus"}  # no date struct, no verified date
    contacts = study.protocol_section.contacts_locations_module
    for c in contacts.central_contacts:
        assert (c.phone, c.phone_ext, c.email) == (None, None, None)
    assert all(not site.contacts for site in study.locations)
    outcomes = study.protocol_section.outcomes_module.primary_outcomes
    assert [o.time_frame for o in outcomes] == SEED_TIME_FRAMES[nct_id]
    assert not study.protocol_section.outcomes_module.secondary_outcomes

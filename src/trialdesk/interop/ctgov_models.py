"""Pydantic v2 models of the ClinicalTrials.gov API v2 study JSON (``protocolSection``).

Source of the shapes and enumerations: the API's OpenAPI file ``ctg-oas-v2.yaml`` (version
2.0.0), summarised in ``docs/registry-record.md``. Import these through
:mod:`trialdesk.interop.ctgov`, which adds parsing, export and error reporting.

Rules the models follow:

- camelCase aliases (the API's names) and snake_case attributes; either validates.
- Unknown fields are kept (``extra="allow"``) so export loses nothing (``derivedSection``,
  ``oversightModule``, ``resultsSection``... pass through untouched).
- Types are strict (``"12"`` is not an enrollment count, ``"true"`` is not a boolean) and the
  enumerations are closed: an unknown value is an error naming the field.
- Validation is constraint-based (patterns, ranges) so it runs in pydantic-core without
  Python callbacks, except one cheap calendar check on full ``yyyy-MM-dd`` dates.
"""

from __future__ import annotations

import datetime as _dt
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints
from pydantic.alias_generators import to_camel

NCT_ID_PATTERN = r"^NCT\d{8}$"
PARTIAL_DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
FULL_DATE_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
AGE_PATTERN = r"^\d+ (Year|Years|Month|Months|Week|Weeks|Day|Days|Hour|Hours|Minute|Minutes)$"


# --------------------------------------------------------------------------- enumerations


class OverallStatus(StrEnum):
    """``statusModule.overallStatus`` (also used for a location's ``status``)."""

    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    COMPLETED = "COMPLETED"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    WITHDRAWN = "WITHDRAWN"
    AVAILABLE = "AVAILABLE"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING"
    WITHHELD = "WITHHELD"
    UNKNOWN = "UNKNOWN"


class StudyType(StrEnum):
    EXPANDED_ACCESS = "EXPANDED_ACCESS"
    INTERVENTIONAL = "INTERVENTIONAL"
    OBSERVATIONAL = "OBSERVATIONAL"


class Phase(StrEnum):
    """``designModule.phases``; Phase 1/2 is ``["PHASE1", "PHASE2"]``."""

    NA = "NA"
    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"


class AgencyClass(StrEnum):
    NIH = "NIH"
    FED = "FED"
    OTHER_GOV = "OTHER_GOV"
    INDIV = "INDIV"
    INDUSTRY = "INDUSTRY"
    NETWORK = "NETWORK"
    AMBIG = "AMBIG"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class Allocation(StrEnum):
    RANDOMIZED = "RANDOMIZED"
    NON_RANDOMIZED = "NON_RANDOMIZED"
    NA = "NA"


class InterventionModel(StrEnum):
    SINGLE_GROUP = "SINGLE_GROUP"
    PARALLEL = "PARALLEL"
    CROSSOVER = "CROSSOVER"
    FACTORIAL = "FACTORIAL"
    SEQUENTIAL = "SEQUENTIAL"


class PrimaryPurpose(StrEnum):
    TREATMENT = "TREATMENT"
    PREVENTION = "PREVENTION"
    DIAGNOSTIC = "DIAGNOSTIC"
    ECT = "ECT"
    SUPPORTIVE_CARE = "SUPPORTIVE_CARE"
    SCREENING = "SCREENING"
    HEALTH_SERVICES_RESEARCH = "HEALTH_SERVICES_RESEARCH"
    BASIC_SCIENCE = "BASIC_SCIENCE"
    DEVICE_FEASIBILITY = "DEVICE_FEASIBILITY"
    OTHER = "OTHER"


class Masking(StrEnum):
    NONE = "NONE"
    SINGLE = "SINGLE"
    DOUBLE = "DOUBLE"
    TRIPLE = "TRIPLE"
    QUADRUPLE = "QUADRUPLE"


class WhoMasked(StrEnum):
    PARTICIPANT = "PARTICIPANT"
    CARE_PROVIDER = "CARE_PROVIDER"
    INVESTIGATOR = "INVESTIGATOR"
    OUTCOMES_ASSESSOR = "OUTCOMES_ASSESSOR"


class DateType(StrEnum):
    """Type of a date struct and of ``enrollmentInfo.type``."""

    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"


EnrollmentType = DateType


class Sex(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    ALL = "ALL"


class StdAge(StrEnum):
    CHILD = "CHILD"
    ADULT = "ADULT"
    OLDER_ADULT = "OLDER_ADULT"


class ArmGroupType(StrEnum):
    EXPERIMENTAL = "EXPERIMENTAL"
    ACTIVE_COMPARATOR = "ACTIVE_COMPARATOR"
    PLACEBO_COMPARATOR = "PLACEBO_COMPARATOR"
    SHAM_COMPARATOR = "SHAM_COMPARATOR"
    NO_INTERVENTION = "NO_INTERVENTION"
    OTHER = "OTHER"


class InterventionType(StrEnum):
    BEHAVIORAL = "BEHAVIORAL"
    BIOLOGICAL = "BIOLOGICAL"
    COMBINATION_PRODUCT = "COMBINATION_PRODUCT"
    DEVICE = "DEVICE"
    DIAGNOSTIC_TEST = "DIAGNOSTIC_TEST"
    DIETARY_SUPPLEMENT = "DIETARY_SUPPLEMENT"
    DRUG = "DRUG"
    GENETIC = "GENETIC"
    PROCEDURE = "PROCEDURE"
    RADIATION = "RADIATION"
    OTHER = "OTHER"


class ContactRole(StrEnum):
    STUDY_CHAIR = "STUDY_CHAIR"
    STUDY_DIRECTOR = "STUDY_DIRECTOR"
    PRINCIPAL_INVESTIGATOR = "PRINCIPAL_INVESTIGATOR"
    SUB_INVESTIGATOR = "SUB_INVESTIGATOR"
    CONTACT = "CONTACT"


# --------------------------------------------------------------------------- scalar types


def _check_calendar(value: str) -> str:
    # Only full dates need a calendar check (the pattern already bounds month and day).
    if len(value) == 10:
        _dt.date.fromisoformat(value)  # ValueError -> pydantic "value_error" naming the field
    return value


NctId = Annotated[str, StringConstraints(pattern=NCT_ID_PATTERN)]
PartialDate = Annotated[
    str, StringConstraints(pattern=PARTIAL_DATE_PATTERN), AfterValidator(_check_calendar)
]
FullDate = Annotated[
    str, StringConstraints(pattern=FULL_DATE_PATTERN), AfterValidator(_check_calendar)
]
AgeText = Annotated[str, StringConstraints(pattern=AGE_PATTERN)]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]
Count = Annotated[int, Field(ge=0)]


def _enum(tp):  # enumerations validate from their string value even in strict models
    return Annotated[tp, Strict(False)]


# --------------------------------------------------------------------------- models


class CtgovModel(BaseModel):
    """Base of every record model: camelCase aliases, extras kept, strict types, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="allow",
        strict=True,
        frozen=True,
    )


class OrgStudyIdInfo(CtgovModel):
    id: str | None = None
    type: str | None = None
    link: str | None = None


class SecondaryIdInfo(CtgovModel):
    id: str | None = None
    type: str | None = None
    domain: str | None = None
    link: str | None = None


class Organization(CtgovModel):
    full_name: str | None = None
    agency_class: _enum(AgencyClass) | None = Field(default=None, alias="class")


class IdentificationModule(CtgovModel):
    nct_id: NctId
    nct_id_aliases: list[NctId] | None = None
    org_study_id_info: OrgStudyIdInfo | None = None
    secondary_id_infos: list[SecondaryIdInfo] | None = None
    organization: Organization | None = None
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None


class DateStruct(CtgovModel):
    date: PartialDate
    type: _enum(DateType) | None = None


class StatusModule(CtgovModel):
    status_verified_date: PartialDate | None = None
    overall_status: _enum(OverallStatus) | None = None
    last_known_status: _enum(OverallStatus) | None = None
    why_stopped: str | None = None
    start_date_struct: DateStruct | None = None
    primary_completion_date_struct: DateStruct | None = None
    completion_date_struct: DateStruct | None = None
    study_first_submit_date: FullDate | None = None
    study_first_submit_qc_date: FullDate | None = None
    study_first_post_date_struct: DateStruct | None = None
    last_update_submit_date: FullDate | None = None
    last_update_post_date_struct: DateStruct | None = None
    results_first_submit_date: FullDate | None = None
    results_first_post_date_struct: DateStruct | None = None


class Sponsor(CtgovModel):
    name: str | None = None
    agency_class: _enum(AgencyClass) | None = Field(default=None, alias="class")


class SponsorCollaboratorsModule(CtgovModel):
    lead_sponsor: Sponsor | None = None
    collaborators: list[Sponsor] | None = None


class DescriptionModule(CtgovModel):
    brief_summary: str | None = None
    detailed_description: str | None = None


class ConditionsModule(CtgovModel):
    conditions: list[str] | None = None
    keywords: list[str] | None = None


class MaskingInfo(CtgovModel):
    masking: _enum(Masking) | None = None
    masking_description: str | None = None
    who_masked: list[_enum(WhoMasked)] | None = None


class DesignInfo(CtgovModel):
    allocation: _enum(Allocation) | None = None
    intervention_model: _enum(InterventionModel) | None = None
    intervention_model_description: str | None = None
    primary_purpose: _enum(PrimaryPurpose) | None = None
    observational_model: str | None = None
    time_perspective: str | None = None
    masking_info: MaskingInfo | None = None


class EnrollmentInfo(CtgovModel):
    count: Count | None = None
    type: _enum(DateType) | None = None


class DesignModule(CtgovModel):
    study_type: _enum(StudyType) | None = None
    phases: list[_enum(Phase)] | None = None
    design_info: DesignInfo | None = None
    enrollment_info: EnrollmentInfo | None = None


class ArmGroup(CtgovModel):
    label: str | None = None
    type: _enum(ArmGroupType) | None = None
    description: str | None = None
    intervention_names: list[str] | None = None


class Intervention(CtgovModel):
    type: _enum(InterventionType) | None = None
    name: str | None = None
    description: str | None = None
    arm_group_labels: list[str] | None = None
    other_names: list[str] | None = None


class ArmsInterventionsModule(CtgovModel):
    arm_groups: list[ArmGroup] | None = None
    interventions: list[Intervention] | None = None


class Outcome(CtgovModel):
    measure: str | None = None
    description: str | None = None
    time_frame: str | None = None


class OutcomesModule(CtgovModel):
    primary_outcomes: list[Outcome] | None = None
    secondary_outcomes: list[Outcome] | None = None
    other_outcomes: list[Outcome] | None = None


class EligibilityModule(CtgovModel):
    eligibility_criteria: str | None = None
    healthy_volunteers: bool | None = None
    sex: _enum(Sex) | None = None
    gender_based: bool | None = None
    gender_description: str | None = None
    minimum_age: AgeText | None = None
    maximum_age: AgeText | None = None
    std_ages: list[_enum(StdAge)] | None = None
    study_population: str | None = None
    sampling_method: str | None = None


class Contact(CtgovModel):
    name: str | None = None
    role: _enum(ContactRole) | None = None
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None


class Official(CtgovModel):
    name: str | None = None
    affiliation: str | None = None
    role: _enum(ContactRole) | None = None


class GeoPoint(CtgovModel):
    lat: Latitude
    lon: Longitude


class Location(CtgovModel):
    facility: str | None = None
    status: _enum(OverallStatus) | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    contacts: list[Contact] | None = None
    geo_point: GeoPoint | None = None


class ContactsLocationsModule(CtgovModel):
    central_contacts: list[Contact] | None = None
    overall_officials: list[Official] | None = None
    locations: list[Location] | None = None


class ProtocolSection(CtgovModel):
    identification_module: IdentificationModule
    status_module: StatusModule | None = None
    sponsor_collaborators_module: SponsorCollaboratorsModule | None = None
    description_module: DescriptionModule | None = None
    conditions_module: ConditionsModule | None = None
    design_module: DesignModule | None = None
    arms_interventions_module: ArmsInterventionsModule | None = None
    outcomes_module: OutcomesModule | None = None
    eligibility_module: EligibilityModule | None = None
    contacts_locations_module: ContactsLocationsModule | None = None

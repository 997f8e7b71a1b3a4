"""Participants (everyone screened gets a screening number), their eligibility assessments
and the electronic signatures that settle them."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from trialdesk.conduct.models.audit import ClinicalRecord, ImmutableRecord
from trialdesk.conduct.models.sites import Site, SiteMembership, Study

__all__ = ["EligibilityAssessment", "Participant", "Signature"]


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ParticipantQuerySet:
        """The participants at the sites ``user`` belongs to: the one place site scoping is
        decided. Every view reaches a participant (and its records) through this."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(site_id__in=SiteMembership.objects.filter(user=user).values("site_id"))


class Participant(ClinicalRecord):
    """A person screened for a study at a site; enrolled participants also carry an id and a
    cohort slot."""

    SCREENING, SCREEN_FAILED, ELIGIBLE, ENROLLED = (
        "screening",
        "screen_failed",
        "eligible",
        "enrolled",
    )
    STATUS_CHOICES = [
        (SCREENING, "Screening"),
        (SCREEN_FAILED, "Screen failure"),
        (ELIGIBLE, "Eligible (signed)"),
        (ENROLLED, "Enrolled"),
    ]
    SEX_CHOICES = [("female", "Female"), ("male", "Male")]
    DLT_CHOICES = [
        ("pending", "DLT window not complete"),
        ("no_dlt", "No DLT"),
        ("dlt", "DLT"),
    ]

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    screening_number = models.CharField(max_length=20)
    initials = models.CharField(
        max_length=4,
        validators=[RegexValidator(r"^[A-Z]{2,4}$", "initials: 2 to 4 capital letters")],
    )
    sex = models.CharField(max_length=6, choices=SEX_CHOICES)
    birth_date = models.DateField()
    screened_on = models.DateField()
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=SCREENING)
    screen_failure_reasons = models.TextField(blank=True, default="")
    participant_id = models.CharField(max_length=20, null=True, blank=True)
    slot = models.OneToOneField(
        "conduct.CohortSlot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant",
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    dlt_outcome = models.CharField(max_length=8, choices=DLT_CHOICES, default="pending")

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["study", "screening_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "screening_number"], name="conduct_screening_number_unique"
            ),
            models.UniqueConstraint(
                fields=["study", "participant_id"], name="conduct_participant_id_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status="enrolled", participant_id__isnull=False)
                | ~models.Q(status="enrolled"),
                name="conduct_enrolled_has_id",
            ),
        ]
        permissions = [
            ("screen_participant", "Can screen participants"),
            ("enrol_participant", "Can enrol participants"),
            ("correct_clinical_data", "Can correct clinical data (with a reason)"),
            ("record_dlt_outcome", "Can record a participant's DLT outcome"),
        ]

    def __str__(self) -> str:
        return self.participant_id or self.screening_number

    def latest_consent(self) -> Any:
        return self.consents.select_related("form_version").order_by("-consented_at").first()

    def first_consent(self) -> Any:
        """The participant's first consent event: trial procedures may be dated from it."""
        return self.consents.select_related("form_version").order_by("consented_at").first()

    def latest_assessment(self) -> Any:
        return self.assessments.order_by("-created_at").first()


class EligibilityAssessment(ClinicalRecord):
    """One run of the eligibility engine on the participant's data, with the investigator's
    attestations; signed by the investigator to settle it."""

    SOURCES = [("plain", "Entered (plain format)"), ("fhir", "FHIR R4 bundle")]

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="assessments"
    )
    screening_date = models.DateField()
    source = models.CharField(max_length=8, choices=SOURCES)
    source_name = models.CharField(max_length=200, blank=True, default="")
    patient_data = models.JSONField(help_text="The data screened, as entered or uploaded.")
    attestations = models.JSONField(default=dict, blank=True)
    overall = models.CharField(max_length=12)
    result = models.JSONField(help_text="The engine's result with every criterion's reason.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("sign_eligibility", "Can sign eligibility (investigator)")]

    def __str__(self) -> str:
        return f"eligibility of {self.participant} on {self.screening_date}: {self.overall}"

    @property
    def signature(self) -> Signature | None:
        return self.signatures.first()


class Signature(ImmutableRecord):
    """An electronic signature (21 CFR 11.50): printed name, UTC time and meaning, given by
    re-entering the password. Signs either an eligibility assessment or a safety review
    committee decision."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField(default=timezone.now)
    assessment = models.ForeignKey(
        EligibilityAssessment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
    )
    decision = models.ForeignKey(
        "conduct.SafetyReviewDecision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
    )

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assessment__isnull=False, decision__isnull=True)
                | models.Q(assessment__isnull=True, decision__isnull=False),
                name="conduct_signature_signs_one_record",
            ),
            models.UniqueConstraint(
                fields=["decision", "signer"], name="conduct_one_signature_per_member"
            ),
            models.UniqueConstraint(
                fields=["assessment"],
                condition=models.Q(assessment__isnull=False),
                name="conduct_one_eligibility_signature",
            ),
        ]

    def __str__(self) -> str:
        when = self.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.printed_name}, {when}: {self.meaning}"

"""Visits after the infusion (calendar from the protocol's schedule), their labs and clinical
grades, and protocol deviations for visits outside their window."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from trialdesk.conduct.models.audit import ClinicalRecord
from trialdesk.conduct.models.participants import Participant

__all__ = ["LabResult", "ProtocolDeviation", "Visit"]


class Visit(ClinicalRecord):
    """A visit as done, by the protocol's visit code (SCR, D1, D7, ... M12)."""

    ASCITES = [("none", "None"), ("mild", "Mild"), ("moderate-severe", "Moderate to severe")]
    HE_GRADES = [(g, f"West Haven {g}") for g in range(5)]

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="visits")
    code = models.CharField(max_length=10)
    visit_date = models.DateField()
    window_status = models.CharField(max_length=12)
    window_reason = models.CharField(max_length=300)
    ascites = models.CharField(max_length=16, choices=ASCITES, blank=True, default="")
    encephalopathy = models.PositiveSmallIntegerField(choices=HE_GRADES, null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["visit_date"]
        permissions = [("record_visit", "Can record visits, labs and vitals")]
        constraints = [
            models.UniqueConstraint(fields=["participant", "code"], name="conduct_visit_once")
        ]

    def __str__(self) -> str:
        return f"{self.code} of {self.participant} on {self.visit_date}"


class LabResult(ClinicalRecord):
    """A lab value as entered (any unit) and in the analyte's canonical unit
    (converted by ``trialdesk.clinical.units``)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="labs")
    analyte = models.CharField(max_length=40)
    entered = models.CharField(max_length=60, help_text="As entered, e.g. '2.0 mg/dL'")
    canonical_value = models.DecimalField(max_digits=20, decimal_places=6)
    canonical_unit = models.CharField(max_length=30)
    comparator = models.CharField(max_length=2, blank=True, default="")

    class Meta:
        ordering = ["analyte"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "analyte"], name="conduct_lab_once")
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.entered}"


class ProtocolDeviation(ClinicalRecord):
    """A departure from the protocol, e.g. a visit done outside its window, a dose other
    than the level's, or a correction that changes a signed eligibility. Those that need
    the investigator (``needs_review``) stay on the dashboard until reviewed."""

    DOSE_DIFFERS = "dose differs from level"
    ELIGIBILITY_CHANGED = "eligibility changed"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="deviations"
    )
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True)
    dose = models.ForeignKey(
        "conduct.DosingRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
    )
    kind = models.CharField(max_length=30)
    description = models.CharField(max_length=400)
    recorded_at = models.DateTimeField(auto_now_add=True)
    needs_review = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description}"


class ReferenceRange(ClinicalRecord):
    """The site laboratory's reference range of an analyte (what CTCAE grades against)."""

    site = models.ForeignKey(
        "conduct.Site", on_delete=models.CASCADE, related_name="reference_ranges"
    )
    analyte = models.CharField(max_length=40)
    lln = models.CharField(max_length=30, blank=True, default="", help_text="e.g. '135 mmol/L'")
    uln = models.CharField(max_length=30, blank=True, default="", help_text="e.g. '40 U/L'")
    source = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["site", "analyte"]
        constraints = [
            models.UniqueConstraint(fields=["site", "analyte"], name="conduct_range_once")
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.lln or '-'} to {self.uln or '-'} at {self.site}"


class LabEventProposal(ClinicalRecord):
    """An adverse event proposed by an abnormal lab (CTCAE grading by the clinical core),
    confirmed (it becomes an ``AdverseEvent``) or dismissed with a reason by the site."""

    PROPOSED, CONFIRMED, DISMISSED = "proposed", "confirmed", "dismissed"
    STATUSES = [(PROPOSED, "Proposed"), (CONFIRMED, "Confirmed"), (DISMISSED, "Dismissed")]

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="proposals")
    term = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField()
    analyte = models.CharField(max_length=40)
    value = models.CharField(max_length=60)
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=STATUSES, default=PROPOSED)
    decision_reason = models.CharField(max_length=300, blank=True, default="")
    adverse_event = models.OneToOneField(
        "conduct.AdverseEvent", on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        ordering = ["visit", "term"]

    def __str__(self) -> str:
        return f"{self.term} grade {self.grade} from {self.analyte} {self.value}"

"""Dose cohorts with a fixed number of slots, safety review committee decisions that open
them, and the dosing record.

The cohort limit is a database guarantee: a cohort's slots (``CohortSlot``) are rows made
when the cohort opens, one per place the design allows, and a participant holds a slot
through a one-to-one key. No insert, however raw or concurrent, can give a cohort more
participants than it has slots; enrolment locks the cohort row to hand out the next one.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from trialdesk.conduct.models.audit import ClinicalRecord
from trialdesk.conduct.models.participants import Participant
from trialdesk.conduct.models.sites import Study

__all__ = ["Cohort", "CohortSlot", "DosingRecord", "SafetyReviewDecision"]


class SafetyReviewDecision(ClinicalRecord):
    """The safety review committee's decision on the next cohort's dose level.

    Keeps a snapshot of the outcomes reviewed (``"1NNN 2NNT"``), the dose-finding engine's
    recommendation with its reason, the decision, and the rationale (required when the
    decision departs from the recommendation). It takes effect once signed."""

    ESCALATE, STAY, DEESCALATE, STOP = "escalate", "stay", "de_escalate", "stop"
    DECISIONS = [
        (ESCALATE, "Escalate"),
        (STAY, "Stay at the current dose"),
        (DEESCALATE, "De-escalate"),
        (STOP, "Stop enrolment"),
    ]

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="decisions")
    outcomes = models.CharField(max_length=500, help_text="Outcome string reviewed")
    current_dose_level = models.CharField(max_length=16)
    recommended_dose_level = models.CharField(
        max_length=16, blank=True, default="", help_text="Empty: the engine says stop"
    )
    recommendation_reason = models.TextField()
    recommendation_rule = models.CharField(max_length=100, blank=True, default="")
    decision = models.CharField(max_length=12, choices=DECISIONS)
    chosen_dose_level = models.CharField(max_length=16, blank=True, default="")
    rationale = models.TextField(blank=True, default="")
    departs_from_recommendation = models.BooleanField(default=False)
    effective = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("sign_safetyreviewdecision", "Can sign safety review decisions")]

    def __str__(self) -> str:
        to = f" to {self.chosen_dose_level}" if self.chosen_dose_level else ""
        return (
            f"{self.study} SRC decision after {self.outcomes or 'no cohort'}: {self.decision}{to}"
        )


class Cohort(ClinicalRecord):
    """A group of participants dosed at one dose level (for a single-arm trial, the arm)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="cohorts")
    number = models.PositiveIntegerField()
    dose_level = models.CharField(max_length=16, help_text="Dose level id, e.g. DL2")
    dose_order = models.PositiveIntegerField(help_text="1-based escalation order")
    capacity = models.PositiveIntegerField()
    opened_by = models.OneToOneField(
        SafetyReviewDecision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opened_cohort",
    )
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="conduct_cohort_number"),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="conduct_cohort_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.study} cohort {self.number} ({self.dose_level})"

    def enrolled(self) -> int:
        return Participant.objects.filter(slot__cohort=self).count()

    def is_full(self) -> bool:
        return self.enrolled() >= self.capacity


class CohortSlot(models.Model):
    """One place in a cohort; made with the cohort, never added later."""

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="slots")
    number = models.PositiveIntegerField()

    class Meta:
        ordering = ["cohort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "number"], name="conduct_slot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cohort} slot {self.number}"


class DosingRecord(ClinicalRecord):
    """One administration of the cell product."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="doses")
    product_lot = models.CharField(max_length=60, help_text="Product unit or lot number")
    dose_level = models.CharField(max_length=16)
    cells = models.BigIntegerField(help_text="Total viable cells given")
    body_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    route = models.CharField(max_length=60)
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1)
    premedication = models.TextField(blank=True, default="")
    infusion_reactions = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")),
                name="conduct_dose_end_after_start",
            ),
            models.CheckConstraint(condition=models.Q(cells__gt=0), name="conduct_dose_cells"),
        ]

    def __str__(self) -> str:
        return f"dose of {self.participant} on {self.started_at:%Y-%m-%d} (lot {self.product_lot})"

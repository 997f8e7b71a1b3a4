"""Adverse events: CTCAE term and grade (version kept per event), onset, awareness (kept apart
from the onset: the reporting clocks run from it), resolution, ICH E2A seriousness criteria,
attribution to the cell product, action, outcome, and the DLT verdict with its reasons."""

from __future__ import annotations

from django.db import models

from trialdesk.conduct.models.audit import ClinicalRecord
from trialdesk.conduct.models.participants import Participant

__all__ = ["AdverseEvent"]


class AdverseEvent(ClinicalRecord):
    RELATED = [
        ("related", "Related"),
        ("possibly", "Possibly related"),
        ("unlikely", "Unlikely related"),
        ("unrelated", "Unrelated"),
        ("unknown", "Not yet assessed"),
    ]
    ACTIONS = [
        ("none", "None"),
        ("infusion_interrupted", "Infusion interrupted"),
        ("infusion_stopped", "Infusion stopped"),
        ("treatment_given", "Treatment given"),
        ("withdrawn", "Participant withdrawn"),
    ]
    OUTCOMES = [
        ("recovering", "Recovering / resolving"),
        ("recovered", "Recovered / resolved"),
        ("sequelae", "Recovered with sequelae"),
        ("not_recovered", "Not recovered"),
        ("fatal", "Fatal"),
        ("unknown", "Unknown"),
    ]

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="adverse_events"
    )
    term = models.CharField(max_length=100, help_text="CTCAE term from the pick-list")
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    ctcae_version = models.CharField(max_length=10)
    onset_date = models.DateField()
    awareness_at = models.DateTimeField(help_text="When the site first knew of the event (UTC)")
    resolution_date = models.DateField(null=True, blank=True)
    seriousness = models.JSONField(default=list, blank=True, help_text="ICH E2A criteria")
    serious = models.BooleanField(default=False)
    unexpected = models.BooleanField(default=False)
    related = models.CharField(max_length=10, choices=RELATED, default="unknown")
    action_taken = models.CharField(max_length=24, choices=ACTIONS, default="none")
    outcome = models.CharField(max_length=16, choices=OUTCOMES, default="recovering")
    dlt = models.BooleanField(null=True, blank=True, help_text="None: unknown")
    dlt_reasons = models.TextField(blank=True, default="")
    deadlines = models.JSONField(default=dict, blank=True, help_text="SAE reporting deadlines")
    initial_report_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-onset_date"]
        permissions = [("record_adverse_event", "Can record adverse events")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolution_date__isnull=True)
                | models.Q(resolution_date__gte=models.F("onset_date")),
                name="conduct_ae_resolution_after_onset",
            ),
            models.CheckConstraint(
                condition=models.Q(grade__isnull=True) | models.Q(grade__gte=1, grade__lte=5),
                name="conduct_ae_grade_1_5",
            ),
        ]

    def __str__(self) -> str:
        grade = f" grade {self.grade}" if self.grade else ""
        return f"{self.term}{grade} ({self.participant}, onset {self.onset_date})"

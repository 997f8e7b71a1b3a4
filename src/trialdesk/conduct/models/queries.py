"""Data queries: a monitor asks about a field of a participant's record, the site answers,
the monitor closes it (or sends it back). Every step is a change with its reason, so the
whole exchange stays in the query's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from trialdesk.conduct.models.audit import ClinicalRecord
from trialdesk.conduct.models.participants import Participant

__all__ = ["DataQuery"]


class DataQuery(ClinicalRecord):
    OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
    STATUSES = [(OPEN, "Open"), (ANSWERED, "Answered"), (CLOSED, "Closed")]
    RECORDS = [
        ("participant", "Participant"),
        ("assessment", "Eligibility assessment"),
        ("consent", "Consent"),
        ("dose", "Dosing record"),
    ]

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="queries")
    record_type = models.CharField(max_length=12, choices=RECORDS)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=60)
    question = models.TextField()
    status = models.CharField(max_length=8, choices=STATUSES, default=OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        verbose_name_plural = "data queries"
        permissions = [
            ("raise_dataquery", "Can open and close data queries (monitor)"),
            ("answer_dataquery", "Can answer data queries (site)"),
        ]

    def __str__(self) -> str:
        return f"query on {self.get_record_type_display()} {self.record_id}.{self.field}"

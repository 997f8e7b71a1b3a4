"""Informed consent: the versions of a study's consent form, and one record per consent
event (never overwritten; a new version that forces reconsent needs a new event)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from trialdesk.conduct.models.audit import ClinicalRecord, ImmutableRecord
from trialdesk.conduct.models.participants import Participant
from trialdesk.conduct.models.sites import Study

__all__ = ["ConsentFormVersion", "ConsentRecord"]


class ConsentFormVersion(ClinicalRecord):
    """An approved version of a study's informed consent form."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="consent_versions")
    version = models.CharField(max_length=20)
    approved_on = models.DateField(help_text="Ethics committee approval date")
    forces_reconsent = models.BooleanField(
        default=False,
        help_text="Participants who consented to an earlier version must consent again.",
    )
    summary = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["study", "approved_on", "version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="conduct_consent_version")
        ]

    def __str__(self) -> str:
        return f"{self.study} consent form v{self.version} ({self.approved_on})"


class ConsentRecord(ImmutableRecord):
    """One consent event: who obtained it, when, and on which version of the form."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    form_version = models.ForeignKey(ConsentFormVersion, on_delete=models.PROTECT)
    consented_at = models.DateTimeField()
    obtained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["consented_at"]

    def __str__(self) -> str:
        return f"consent of {self.participant} on v{self.form_version.version}"

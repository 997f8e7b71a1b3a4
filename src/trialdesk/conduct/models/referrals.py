"""Referrals: a member of the public sends the answers of a listing's eligibility check (the
registry's prescreener) to the study team of a site, with their explicit consent and the
least contact data the team needs to call back. Each lands in that site's screening queue,
where a coordinator starts screening (a screening-log entry) or declines with a reason."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from trialdesk.conduct.models.audit import ClinicalRecord
from trialdesk.conduct.models.participants import Participant
from trialdesk.conduct.models.sites import Site, SiteMembership, Study

__all__ = ["Referral"]


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ReferralQuerySet:
        """The referrals to the sites ``user`` works at, for the roles that screen (contact
        data of people who are not participants is for the screening staff only)."""
        if not getattr(user, "is_authenticated", False) or not user.has_perm(
            "conduct.view_referral"
        ):
            return self.none()
        return self.filter(site_id__in=SiteMembership.objects.filter(user=user).values("site_id"))


class Referral(ClinicalRecord):
    """The answers and contact of one person who asked the study team to contact them."""

    NEW, SCREENING, DECLINED = "new", "screening", "declined"
    STATUS_CHOICES = [
        (NEW, "New"),
        (SCREENING, "Screening started"),
        (DECLINED, "Declined"),
    ]

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="referrals")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="referrals")
    name = models.CharField(max_length=100, help_text="Name or initials, as the person gave it")
    phone = models.CharField(max_length=40, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    consent_text = models.TextField(help_text="The consent the person ticked, word for word.")
    received_at = models.DateTimeField(default=timezone.now)
    answers = models.JSONField(help_text="The prescreener's answers as submitted (key: value).")
    answer_lines = models.JSONField(help_text="The answers in the form's words.")
    overall = models.CharField(max_length=12, help_text="ELIGIBLE, INELIGIBLE or INCOMPLETE")
    summary = models.JSONField(help_text="The grouped result the person was shown.")
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=NEW)
    decline_reason = models.TextField(blank=True, default="")
    participant = models.OneToOneField(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referral",
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(phone="", email=""), name="conduct_referral_has_contact"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined", decline_reason=""),
                name="conduct_referral_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="screening", participant__isnull=True),
                name="conduct_referral_screening_has_participant",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} to {self.site.code} for {self.study}"

    def _check_audit(self, action: str) -> None:
        # The public sends a referral without an account: its creation has no user (the
        # history row says who by its reason). Every later change needs a user and a reason.
        if action == "creation" and getattr(self, "_history_user", None) is None:
            return
        super()._check_audit(action)

"""Sites, the trials they run (``Study``: one per NCT id with a protocol file), and which
users work at which site. Site scoping starts here: a user sees a study only through a site
they belong to, and a participant only at such a site (``Participant.objects.visible_to``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

__all__ = ["Site", "SiteMembership", "Study", "TrialSite"]


class Site(models.Model):
    """A hospital or research institute that runs trials."""

    code = models.SlugField(max_length=16, unique=True, help_text="Short code, e.g. BJ302")
    name = models.CharField(max_length=200, unique=True)
    city = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StudyQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> StudyQuerySet:
        """The studies run at a site ``user`` belongs to (none for anonymous users)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        sites = SiteMembership.objects.filter(user=user).values("site_id")
        return self.filter(pk__in=TrialSite.objects.filter(site_id__in=sites).values("study_id"))


class Study(models.Model):
    """A trial as conducted here: its NCT id names the protocol file (protocols/<NCT id>/)."""

    nct_id = models.CharField(max_length=11, unique=True)
    title = models.CharField(max_length=300)
    enrolment_closed = models.BooleanField(
        default=False,
        help_text="Changed only through services.study (close_enrolment / reopen_enrolment), "
        "with a reason; set by a signed safety review committee decision to stop.",
    )
    sites = models.ManyToManyField(Site, through="TrialSite", related_name="studies")

    objects = StudyQuerySet.as_manager()
    history = HistoricalRecords()  # chained like clinical history (conduct/audit.py)

    class Meta:
        ordering = ["nct_id"]
        verbose_name_plural = "studies"
        permissions = [
            ("reopen_enrolment", "Can reopen enrolment (with a documented act)"),
            ("view_dmc_report", "Can view the data monitoring committee report"),
        ]

    def __str__(self) -> str:
        return self.nct_id

    def protocol(self) -> Any:
        """The protocol (``trialdesk.protocol.Protocol``) from protocols/<NCT id>/."""
        from trialdesk.protocol import find_protocol

        path = find_protocol(self.nct_id)
        return _load_protocol(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load_protocol(path: str, mtime_ns: int) -> Any:
    """Loaded once per file version (the modification time is part of the key)."""
    from trialdesk.protocol import load_protocol

    return load_protocol(path)


class TrialSite(models.Model):
    """A site taking part in a study."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE)
    site = models.ForeignKey(Site, on_delete=models.CASCADE)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "site"], name="conduct_trialsite_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study} at {self.site}"


class SiteMembership(models.Model):
    """A user works at a site (and sees its participants)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="conduct_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.site}"

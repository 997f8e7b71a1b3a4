"""Stored registry records: one ``Trial`` per NCT id, with its conditions, interventions and sites.

``Trial.record`` keeps the full study JSON exactly as imported (what the listing shows and
``trialdesk registry export`` writes back); the other columns are a flattened copy of the
fields the site filters, sorts and indexes on. ``conditions_text``, ``interventions_text``,
``criteria_text`` and ``identifiers_text`` are the denormalised text the full-text index
reads (see ``migrations/0002_fulltext.py`` and ``0011_identifiers_text.py``: an FTS5 table on
SQLite, a generated tsvector on PostgreSQL).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from trialdesk.registry import PHASE_BITS


def phase_mask(phases: list[str] | tuple[str, ...]) -> int:
    """The ``phase_mask`` for a list of CT.gov phase codes (unknown codes raise ValueError)."""
    mask = 0
    for phase in phases:
        try:
            mask |= PHASE_BITS[phase]
        except KeyError:
            raise ValueError(
                f"unknown phase {phase!r}; expected one of {', '.join(PHASE_BITS)}"
            ) from None
    return mask


_FILTER_COLUMNS = ("phase_mask", "min_age_days", "max_age_days", "sex", "study_type")
_FILTERS_BY_STATUS = ("overall_status", "nct_id", *_FILTER_COLUMNS)
_FILTERS_BY_NCT = ("nct_id", "overall_status", *_FILTER_COLUMNS)


class _AtomicSave:
    """``save()`` in one transaction with its signals: the registry's stamp
    (``stamp.bump_version``, by ``receivers.count_change`` on ``post_save``) then moves in
    the same commit as the row, so no reader sees the new row under the old stamp
    (``textindex`` trusts that pairing)."""

    def save(self, *args, **kwargs) -> None:
        from django.db import router, transaction

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)


class Trial(_AtomicSave, models.Model):
    """One registry study (CT.gov API v2 record), keyed by its NCT id."""

    nct_id = models.CharField(max_length=11, unique=True)
    brief_title = models.TextField()
    official_title = models.TextField(blank=True, default="")
    acronym = models.TextField(blank=True, default="")
    overall_status = models.CharField(max_length=32, blank=True, default="")
    #: Comma-joined CT.gov phase codes in the record's order, e.g. "PHASE1,PHASE2".
    phases = models.CharField(max_length=80, blank=True, default="")
    #: OR of ``PHASE_BITS`` for ``phases``: "any of these phases" is ``phase_mask & bits != 0``.
    phase_mask = models.PositiveSmallIntegerField(default=0)
    study_type = models.CharField(max_length=20, blank=True, default="")
    #: FEMALE, MALE or ALL; "" when the record does not say.
    sex = models.CharField(max_length=8, blank=True, default="")
    #: Age limits in days (``interop.ctgov.age_to_days``, floored); NULL = no limit on that side.
    min_age_days = models.IntegerField(null=True, blank=True)
    max_age_days = models.IntegerField(null=True, blank=True)
    healthy_volunteers = models.BooleanField(null=True, blank=True)
    enrollment_count = models.IntegerField(null=True, blank=True)
    enrollment_type = models.CharField(max_length=12, blank=True, default="")
    lead_sponsor = models.TextField(blank=True, default="")
    brief_summary = models.TextField(blank=True, default="")
    #: Conditions, one per line (also in ``TrialCondition``).
    conditions_text = models.TextField(blank=True, default="")
    #: "name" of each intervention, one per line (also in ``TrialIntervention``).
    interventions_text = models.TextField(blank=True, default="")
    #: eligibilityModule.eligibilityCriteria, as registered.
    criteria_text = models.TextField(blank=True, default="")
    #: NCT id, merged NCT ids, organisation's study id, secondary ids, one per line
    #: (``parsing.identifiers``): typed in the search box, any of them finds the trial.
    identifiers_text = models.TextField(blank=True, default="")
    #: The full study JSON as imported.
    record = models.JSONField()
    #: SHA-256 of the canonical JSON of ``record``: re-imports of an equal record are skipped.
    record_hash = models.CharField(max_length=64)
    #: Name of the file (or archive member) the record came from.
    source = models.TextField(blank=True, default="")
    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["nct_id"]
        indexes = [
            # Covering indexes for searches without text: the filters are read from the index
            # in NCT id order (by status, or over all trials), never from the wide rows.
            models.Index(fields=[*_FILTERS_BY_STATUS], name="registry_trial_by_status"),
            models.Index(fields=[*_FILTERS_BY_NCT], name="registry_trial_by_nct"),
            # The same by id: full-text and site candidates (ids) are filtered from the index.
            models.Index(fields=["id", *_FILTERS_BY_NCT], name="registry_trial_by_id"),
            # (Single-column indexes on type, sex, phase and age limits were dropped in
            # migration 0009: the covering indexes above serve those filters, SQLite
            # searches filter in memory (``fastsearch``), and each cost time on import.)
            models.Index(fields=["updated_at"], name="registry_trial_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.nct_id}: {self.brief_title}"

    @property
    def phase_list(self) -> list[str]:
        return [p for p in self.phases.split(",") if p]

    @property
    def condition_list(self) -> list[str]:
        return [c for c in self.conditions_text.split("\n") if c]


class TrialCondition(_AtomicSave, models.Model):
    """A condition the trial studies (conditionsModule.conditions), in record order."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="conditions")
    position = models.PositiveSmallIntegerField()
    name = models.TextField()

    class Meta:
        ordering = ["trial", "position"]
        indexes = [models.Index(fields=["name"], name="registry_condition_name")]

    def __str__(self) -> str:
        return self.name


class TrialIntervention(_AtomicSave, models.Model):
    """An intervention (armsInterventionsModule.interventions): type and name."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="interventions")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=32, blank=True, default="")
    name = models.TextField()

    class Meta:
        ordering = ["trial", "position"]
        indexes = [models.Index(fields=["type"], name="registry_intervention_type")]

    def __str__(self) -> str:
        return f"{self.type}: {self.name}" if self.type else self.name


class TrialLocation(_AtomicSave, models.Model):
    """A site (contactsLocationsModule.locations). Site status can differ from the trial's."""

    # Indexed by ``registry_location_trial`` (trial first, covering the position columns).
    trial = models.ForeignKey(
        Trial, on_delete=models.CASCADE, related_name="locations", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    facility = models.TextField(blank=True, default="")
    city = models.TextField(blank=True, default="")
    state = models.TextField(blank=True, default="")
    country = models.TextField(blank=True, default="")
    status = models.CharField(max_length=32, blank=True, default="")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    #: ``geo.cell_of(lat, lon)``: 0.1-degree grid cell, the index for distance searches.
    cell = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["trial", "position"]
        indexes = [
            # Bounding-box pre-filter: one range of grid cells per cell row, covering the
            # position and trial; (lat, lon) for boxes too large for cells.
            models.Index(fields=["cell", "lat", "lon", "trial"], name="registry_location_cell"),
            models.Index(fields=["lat", "lon", "trial"], name="registry_location_latlon"),
            # A trial's sites with their positions, index-only: the per-trial distance check
            # and the nearest-site lookup never read the wide rows.
            models.Index(fields=["trial", "cell", "lat", "lon"], name="registry_location_trial"),
            # "Trials by location" and near-city lookup.
            models.Index(fields=["country", "city", "trial"], name="registry_location_place"),
            # Case-insensitive city lookup for ``near_city``.
            models.Index(Lower("city"), name="registry_location_city_ci"),
        ]

    def save(self, *args, **kwargs) -> None:
        # ``cell`` follows the position (the importer computes it the same way).
        from trialdesk.registry.geo import cell_of

        self.cell = cell_of(self.lat, self.lon)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.city, self.state, self.country) if p)
        return f"{self.facility} ({place})" if self.facility else place


class DeferredIndex(models.Model):
    """A secondary index a bulk import dropped (SQLite) and has not yet built again.

    Written in the same transaction as the ``DROP INDEX``, so a crashed import leaves the
    definitions here; ``registry.bulk.restore_indexes`` builds them and deletes the rows
    (every import starts and ends with it). See ``registry/bulk.py``.
    """

    name = models.CharField(max_length=128, unique=True)
    table_name = models.CharField(max_length=64)
    sql = models.TextField()
    deferred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RegistryState(models.Model):
    """One row: ``version`` goes up with every change to the stored trials or their sites
    (each imported file, each model save or delete), so per-process caches of registry
    data (``places``, ``filterindex``) know when to rebuild. Model saves and deletes count
    through ``receivers``; writes that send no model signals (``QuerySet.update``,
    ``bulk_create``, raw SQL) must call ``stamp.bump_version`` themselves, as the importer
    does. The SQL that reads and writes this row is in ``stamp`` (no Django).

    ``stamp`` is a fresh random name for each state and ``previous_stamp`` the one before
    it. The SQLite text index (``textindex``) records the stamp of the state it holds: it
    is used only while that equals ``stamp``, and a writer may bring it forward only from
    ``previous_stamp``. Unlike the counter, a stamp never recurs, even after a rolled-back
    transaction or a restored backup."""

    version = models.BigIntegerField(default=0)
    stamp = models.CharField(max_length=32, default="", blank=True)
    previous_stamp = models.CharField(max_length=32, default="", blank=True)

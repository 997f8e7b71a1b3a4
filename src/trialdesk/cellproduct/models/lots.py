"""The product lot made from one donation, its processing steps, culture passages,
cryopreservation and thaw, release tests and the signed release; and the deviations recorded
when a protocol time limit is passed.

The release is guarded twice: the service refuses a lot whose verdict (computed by
``trialdesk.product.release``) fails, and the database refuses a release row that says it
failed (check constraint) or whose lot has a failing or undecided test (trigger, migration
0002), and a dose unit from a lot without a release (trigger)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from trialdesk.cellproduct.models.donors import Collection
from trialdesk.conduct.models import ClinicalRecord, ImmutableRecord

__all__ = [
    "CulturePassage",
    "Cryopreservation",
    "LotRelease",
    "ProcessingStep",
    "ProductDeviation",
    "ProductLot",
    "ReleaseTest",
]


class ProductLot(ClinicalRecord):
    """A lot of the cell product expanded from one donation."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40, unique=True)
    processing_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the first processing step"
    )
    viable_cells_per_ml = models.BigIntegerField(
        null=True, blank=True, help_text="Viable cells per ml of the final product"
    )
    volume_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lot_number"]

    def __str__(self) -> str:
        return self.lot_number

    @property
    def released(self) -> bool:
        return hasattr(self, "release")


class ProcessingStep(ClinicalRecord):
    """One processing step (wash, mince, digest, seed, harvest...) as it is done."""

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="steps")
    step = models.CharField(max_length=80)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reagent_lots = models.CharField(max_length=300, blank=True, default="")
    medium_lot = models.CharField(max_length=60, blank=True, default="")
    equipment = models.CharField(max_length=200, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="cellproduct_step_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lot} {self.step} at {self.started_at:%Y-%m-%d %H:%M}"


class CulturePassage(ClinicalRecord):
    """One culture passage: cells seeded and harvested, viability and the population
    doublings computed by ``trialdesk.product`` (PD = log2(harvested / seeded))."""

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="passages")
    number = models.PositiveIntegerField()
    seeded_at = models.DateTimeField()
    seeded_cells = models.BigIntegerField()
    seeding_density = models.DecimalField(
        max_digits=10, decimal_places=1, help_text="Cells per cm2"
    )
    harvested_at = models.DateTimeField()
    harvested_cells = models.BigIntegerField()
    viability_pct = models.DecimalField(max_digits=4, decimal_places=1)
    population_doublings = models.DecimalField(max_digits=6, decimal_places=2)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lot", "number"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "number"], name="cellproduct_passage_number"),
            models.CheckConstraint(
                condition=models.Q(seeded_cells__gt=0) & models.Q(harvested_cells__gt=0),
                name="cellproduct_passage_cells",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} P{self.number}"


class Cryopreservation(ClinicalRecord):
    """Freezing of (part of) a lot and, where used, its thaw."""

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="cryo")
    frozen_at = models.DateTimeField()
    cryoprotectant = models.CharField(max_length=120)
    containers = models.PositiveIntegerField()
    storage_location = models.CharField(max_length=120)
    thawed_at = models.DateTimeField(null=True, blank=True)
    post_thaw_viability_pct = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["frozen_at"]

    def __str__(self) -> str:
        return f"{self.lot} frozen {self.frozen_at:%Y-%m-%d}"


class ReleaseTest(ClinicalRecord):
    """One release test result of a lot, against the protocol's specification item of the
    same name. ``passed`` is the core's verdict for the item (None: not decidable)."""

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="tests")
    name = models.CharField(max_length=60)
    value = models.CharField(max_length=60, help_text="A number, or a result word")
    unit = models.CharField(max_length=30, blank=True, default="")
    method = models.CharField(max_length=120, blank=True, default="")
    tested_at = models.DateTimeField()
    passed = models.BooleanField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lot", "name"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "name"], name="cellproduct_one_result_per_test")
        ]

    def __str__(self) -> str:
        return f"{self.lot} {self.name}: {self.value} {self.unit}".strip()


class LotRelease(ImmutableRecord):
    """The signed release of a lot (21 CFR 11.50: printed name, UTC time, meaning), with the
    verdict the core computed. Only a passing verdict can be stored."""

    lot = models.OneToOneField(ProductLot, on_delete=models.PROTECT, related_name="release")
    passed = models.BooleanField()
    verdict = models.JSONField(help_text="Every specification item with its value and reason")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(
        help_text="When the lot was released (the signing time, or earlier for a release "
        "entered after the fact)"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passed=True), name="cellproduct_release_only_passing"
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__lte=models.F("signed_at")),
                name="cellproduct_release_not_after_signature",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} released by {self.printed_name} on {self.signed_at:%Y-%m-%d %H:%M} UTC"


class ProductDeviation(ClinicalRecord):
    """A time limit of the protocol passed where the protocol says to record a deviation."""

    lot = models.ForeignKey(
        ProductLot, on_delete=models.PROTECT, null=True, blank=True, related_name="deviations"
    )
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="deviations")
    limit = models.CharField(max_length=60, help_text="The protocol's time limit")
    description = models.CharField(max_length=400)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.limit}: {self.description}"

"""Dose units prepared for a participant, the participant's chain-of-identity id, and the
bedside checks (refusals included) that precede an infusion."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from trialdesk.cellproduct.models.lots import ProductLot
from trialdesk.conduct.models import ClinicalRecord, DosingRecord, ImmutableRecord, Participant

__all__ = ["BedsideCheck", "ChainOfIdentity", "DoseUnit"]


class ChainOfIdentity(ImmutableRecord):
    """The participant's chain-of-identity id: random, non-identifying, with a check
    character; it links the donations a participant receives to them."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="chain_of_identity"
    )
    coi = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "chains of identity"

    def __str__(self) -> str:
        return self.coi


class DoseUnit(ClinicalRecord):
    """One unit of product prepared from a released lot for one participant's dose."""

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="units")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dose_units"
    )
    chain = models.ForeignKey(ChainOfIdentity, on_delete=models.PROTECT, related_name="units")
    division = models.CharField(
        max_length=2, help_text="ISBT 128 division code within the donation (A0, B0, ...)"
    )
    unit_id = models.CharField(max_length=40, unique=True, help_text="With its check character")
    dose_level = models.CharField(max_length=16)
    cells = models.BigIntegerField()
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1)
    lot_volume_ml = models.DecimalField(
        max_digits=7, decimal_places=2, help_text="Lot suspension drawn (made up with diluent)"
    )
    cells_per_ml = models.BigIntegerField()
    body_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    prepared_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    dosing_record = models.OneToOneField(
        DosingRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dose_unit",
    )

    class Meta:
        ordering = ["prepared_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("prepared_at")),
                name="cellproduct_unit_expires_after_preparation",
            ),
            models.CheckConstraint(condition=models.Q(cells__gt=0), name="cellproduct_unit_cells"),
        ]

    def __str__(self) -> str:
        return self.unit_id


class BedsideCheck(ImmutableRecord):
    """One bedside check of a scanned unit id for a participant: accepted or refused, with
    the reasons (a refusal is kept as evidence too)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="bedside_checks"
    )
    scanned = models.CharField(max_length=80)
    unit = models.ForeignKey(
        DoseUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="checks"
    )
    ok = models.BooleanField()
    reasons = models.TextField(blank=True, default="")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["checked_at"]

    def __str__(self) -> str:
        return f"{self.scanned}: {'accepted' if self.ok else 'refused'}"

"""The donor (the mother), her screening, consent and infectious-disease tests, the cord
collection (the donation, with its ISBT 128 donation identification number) and its
transport and receipt at the laboratory.

Donor personal data is kept to a minimum: no name, no hospital record number, no birth
date. The donor is known here by a random, non-identifying code; the collecting site keeps
the link to the person in its own records."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from trialdesk.conduct.models import ClinicalRecord, Site, SiteMembership, Study

__all__ = ["Collection", "Donor", "InfectiousDiseaseTest", "Receipt"]


class DonorQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> DonorQuerySet:
        """Donors of the sites ``user`` works at (the laboratory's site scoping)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(site_id__in=SiteMembership.objects.filter(user=user).values("site_id"))


class Donor(ClinicalRecord):
    """A cord donor: eligibility screening and consent, recorded as they happen."""

    ELIGIBLE, INELIGIBLE = "eligible", "ineligible"
    ELIGIBILITY = [(ELIGIBLE, "Eligible"), (INELIGIBLE, "Not eligible")]

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="donors")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="donors")
    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^D-[0-9A-Z]{8}$", "D- followed by 8 letters or digits")],
        help_text="Random, non-identifying donor code (never a name or record number)",
    )
    screened_at = models.DateTimeField()
    eligibility = models.CharField(max_length=12, choices=ELIGIBILITY)
    eligibility_notes = models.TextField(blank=True, default="")
    consented_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = DonorQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        permissions = [
            ("record_cell_product", "Can record cell-product steps (cell laboratory)"),
            ("release_lot", "Can release a product lot (signed)"),
            ("prepare_dose", "Can prepare a dose unit"),
            ("bedside_check", "Can check a dose unit at the bedside and record its infusion"),
            ("trace_product", "Can trace donations and participants"),
        ]

    def __str__(self) -> str:
        return self.code


class InfectiousDiseaseTest(ClinicalRecord):
    """One infectious-disease marker of the donor (e.g. HIV-1/2 antibody, HBsAg)."""

    RESULTS = [
        ("negative", "Negative / non-reactive"),
        ("positive", "Positive / reactive"),
        ("indeterminate", "Indeterminate"),
    ]

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="tests")
    marker = models.CharField(max_length=60)
    method = models.CharField(max_length=100, blank=True, default="")
    sampled_at = models.DateTimeField()
    result = models.CharField(max_length=14, choices=RESULTS)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["donor", "marker"]

    def __str__(self) -> str:
        return f"{self.donor} {self.marker}: {self.result}"


class Collection(ClinicalRecord):
    """A cord collected at delivery: the donation. Its ISBT 128 donation identification
    number is stored as its parts (facility identification number, year, sequence);
    the check character is computed by ``trialdesk.product.identifiers``."""

    MODES = [("vaginal", "Vaginal delivery"), ("caesarean", "Caesarean section")]

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="collections")
    din_facility = models.CharField(max_length=5, help_text="Facility identification number")
    din_year = models.CharField(max_length=2)
    din_sequence = models.CharField(max_length=6)
    delivered_at = models.DateTimeField(help_text="Delivery date and time (UTC)")
    delivery_mode = models.CharField(max_length=10, choices=MODES)
    collection_site = models.CharField(max_length=200, help_text="Where the cord was collected")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["din_facility", "din_year", "din_sequence"], name="cellproduct_din"
            )
        ]

    def __str__(self) -> str:
        return self.din_text

    @property
    def din(self) -> Any:
        from trialdesk.product.identifiers import DonationId

        return DonationId(self.din_facility, self.din_year, self.din_sequence)

    @property
    def din_text(self) -> str:
        return f"{self.din_facility}{self.din_year}{self.din_sequence}"


class Receipt(ClinicalRecord):
    """Transport to and receipt at the laboratory."""

    collection = models.OneToOneField(Collection, on_delete=models.PROTECT, related_name="receipt")
    received_at = models.DateTimeField()
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1)
    container = models.CharField(max_length=120)
    condition = models.CharField(max_length=300, blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"receipt of {self.collection} at {self.received_at:%Y-%m-%d %H:%M}"

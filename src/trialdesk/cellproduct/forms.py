"""Forms of the cell-product pages: shape and types only; the services decide what the
protocol allows and their messages come back on the right field (``add_service_error``)."""

from __future__ import annotations

from django import forms

from trialdesk.cellproduct.models import Collection, Donor, InfectiousDiseaseTest
from trialdesk.conduct.forms import SignatureForm, add_service_error
from trialdesk.conduct.models import Site, Study

__all__ = [
    "CollectionForm",
    "CryoForm",
    "DonorConsentForm",
    "DonorForm",
    "DoseForm",
    "FinalProductForm",
    "InfusionForm",
    "LotForm",
    "PassageForm",
    "ReceiptForm",
    "ReleaseTestForm",
    "SignatureForm",
    "StepForm",
    "TestForm",
    "ThawForm",
    "TraceForm",
    "add_service_error",
]


def _when(label: str, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=f"{label} (UTC)",
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class DonorForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.none(), empty_label=None)
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    screened_at = _when("Screened at")
    eligibility = forms.ChoiceField(choices=Donor.ELIGIBILITY)
    eligibility_notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="No name or record number: the donor is known here by a random code.",
    )
    consented_at = _when("Consent signed at", required=False)

    def __init__(self, *args, studies=None, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if studies is not None:
            self.fields["study"].queryset = studies
        if sites is not None:
            self.fields["site"].queryset = sites


class DonorConsentForm(forms.Form):
    consented_at = _when("Consent signed at")


class ThawForm(forms.Form):
    cryo = forms.ModelChoiceField(queryset=None, empty_label=None, label="Frozen container set")
    thawed_at = _when("Thawed at")
    post_thaw_viability_pct = forms.DecimalField(
        max_digits=4, decimal_places=1, label="Viability after thaw (%)"
    )

    def __init__(self, *args, cryos=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cryo"].queryset = cryos


class TestForm(forms.Form):
    marker = forms.CharField(max_length=60, help_text="e.g. HIV-1/2 antibody, HBsAg, anti-HCV")
    method = forms.CharField(max_length=100, required=False)
    sampled_at = _when("Sampled at")
    result = forms.ChoiceField(choices=InfectiousDiseaseTest.RESULTS)


class CollectionForm(forms.Form):
    din = forms.CharField(
        max_length=30,
        label="Donation identification number",
        help_text="Keyed with its check character (G1234 98 654321 H) or scanned",
    )
    delivered_at = _when("Delivery")
    delivery_mode = forms.ChoiceField(choices=Collection.MODES)
    collection_site = forms.CharField(max_length=200)


class ReceiptForm(forms.Form):
    received_at = _when("Received at")
    temperature_c = forms.DecimalField(max_digits=4, decimal_places=1, label="Temperature (C)")
    container = forms.CharField(max_length=120)
    condition = forms.CharField(max_length=300, required=False)


class LotForm(forms.Form):
    lot_number = forms.CharField(max_length=40)


class StepForm(forms.Form):
    step = forms.CharField(max_length=80, help_text="e.g. wash (PBS), mince, digest, seed")
    started_at = _when("Started at")
    ended_at = _when("Ended at", required=False)
    reagent_lots = forms.CharField(max_length=300, required=False)
    medium_lot = forms.CharField(max_length=60, required=False)
    equipment = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PassageForm(forms.Form):
    number = forms.IntegerField(min_value=0)
    seeded_at = _when("Seeded at")
    seeded_cells = forms.IntegerField(min_value=1)
    seeding_density = forms.DecimalField(max_digits=10, decimal_places=1, label="Cells per cm2")
    harvested_at = _when("Harvested at")
    harvested_cells = forms.IntegerField(min_value=1)
    viability_pct = forms.DecimalField(max_digits=4, decimal_places=1, label="Viability (%)")


class FinalProductForm(forms.Form):
    viable_cells_per_ml = forms.IntegerField(min_value=1, label="Viable cells per ml")
    volume_ml = forms.DecimalField(max_digits=7, decimal_places=1, min_value=0, label="Volume (ml)")


class CryoForm(forms.Form):
    frozen_at = _when("Frozen at")
    cryoprotectant = forms.CharField(max_length=120)
    containers = forms.IntegerField(min_value=1)
    storage_location = forms.CharField(max_length=120)


class ReleaseTestForm(forms.Form):
    name = forms.ChoiceField(label="Test")
    value = forms.CharField(max_length=60, help_text="A number, or the result word")
    unit = forms.CharField(max_length=30, required=False)
    method = forms.CharField(max_length=120, required=False)
    tested_at = _when("Tested at")

    def __init__(self, *args, names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [(n, n) for n in names]


class DoseForm(forms.Form):
    participant = forms.ModelChoiceField(queryset=None, empty_label=None)
    body_weight_kg = forms.DecimalField(
        max_digits=5, decimal_places=1, min_value=1, required=False, label="Body weight (kg)"
    )

    def __init__(self, *args, participants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants


class InfusionForm(forms.Form):
    scanned = forms.CharField(
        max_length=80,
        label="Dose unit id",
        help_text="Scan the label's barcode or key the id with its check character",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    started_at = _when("Infusion started at")
    ended_at = _when("Infusion ended at")
    route = forms.CharField(max_length=60, initial="intravenous")
    premedication = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    infusion_reactions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TraceForm(forms.Form):
    q = forms.CharField(
        max_length=60,
        label="Donation id, participant id or chain-of-identity id",
        widget=forms.TextInput(attrs={"type": "search"}),
    )

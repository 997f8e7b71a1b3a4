"""Forms for site staff. Validation of the trial's rules happens in the services (one place);
these check shape and types, and carry the services' messages back to the right field."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from trialdesk.conduct.models import ConsentFormVersion, Participant, Site


class ScreeningForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    initials = forms.CharField(
        max_length=4,
        validators=[RegexValidator(r"^[A-Z]{2,4}$", "2 to 4 capital letters, e.g. NVA")],
        help_text="2 to 4 capital letters",
    )
    sex = forms.ChoiceField(choices=Participant.SEX_CHOICES)
    birth_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    screened_on = forms.DateField(
        label="Screening date", widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ChoiceField(
        label="Data format",
        choices=[("plain", "Entered (plain format, YAML or JSON)"), ("fhir", "FHIR R4 bundle")],
    )
    data = forms.CharField(
        label="Screening data",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="Labs, conditions, procedures and medications (docs/protocol-format.md).",
    )
    upload = forms.FileField(
        label="or upload a file", required=False, help_text="A FHIR R4 bundle or a plain file"
    )

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload:
            if upload.size > 2_000_000:
                self.add_error("upload", "the file is larger than 2 MB")
                return data
            try:
                data["data"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("upload", f"{upload.name}: not UTF-8 text")
            data["source_name"] = upload.name
        else:
            data["source_name"] = "entered on the screening form"
        if not (data.get("data") or "").strip() and not self.errors:
            self.add_error("data", "enter the screening data or upload a file")
        return data


class AttestationForm(forms.Form):
    """One yes/no question per pending attestation of the assessment."""

    def __init__(self, *args, pending=(), **kwargs):
        super().__init__(*args, **kwargs)
        for criterion in pending:
            self.fields[criterion["id"]] = forms.ChoiceField(
                label=f"{criterion['id']}: {criterion['attestation']}",
                choices=[("", "not settled yet"), ("yes", "Yes"), ("no", "No")],
                required=False,
            )

    def answers(self) -> dict[str, bool]:
        return {k: v == "yes" for k, v in self.cleaned_data.items() if v in ("yes", "no")}


class SignatureForm(forms.Form):
    """Meaning from the act's fixed list (services/signing.py::MEANINGS), password re-entered."""

    meaning = forms.ChoiceField(widget=forms.RadioSelect, label="Meaning of your signature")
    password = forms.CharField(
        label="Your password (re-entered to sign)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, act: str, **kwargs):  # noqa: ANN002, ANN003
        from trialdesk.conduct.services.signing import meanings_for

        super().__init__(*args, **kwargs)
        meanings = meanings_for(act)
        self.fields["meaning"].choices = [(m, m) for m in meanings]
        self.fields["meaning"].initial = meanings[0]


class ConsentForm(forms.Form):
    form_version = forms.ModelChoiceField(
        queryset=ConsentFormVersion.objects.none(), empty_label=None, label="Consent form version"
    )
    consented_at = forms.DateTimeField(
        label="Consent signed at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, study=None, **kwargs):
        super().__init__(*args, **kwargs)
        if study is not None:
            self.fields["form_version"].queryset = study.consent_versions.order_by("-approved_on")


class CorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=100,
        required=False,
        help_text="Required: why the record changes (kept in its history).",
    )

    class Meta:
        model = Participant
        fields = ["initials", "sex", "birth_date", "screened_on"]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "screened_on": forms.DateInput(attrs={"type": "date"}),
        }

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "").strip()
        if not reason:
            raise forms.ValidationError("a reason is required for any change after first save")
        return reason


class DosingForm(forms.Form):
    product_lot = forms.CharField(max_length=60, label="Product unit or lot")
    cells = forms.IntegerField(min_value=1, label="Total viable cells given")
    body_weight_kg = forms.DecimalField(
        max_digits=5, decimal_places=1, min_value=1, required=False, label="Body weight (kg)"
    )
    started_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ended_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    route = forms.CharField(max_length=60)
    volume_ml = forms.DecimalField(max_digits=6, decimal_places=1, min_value=0, label="Volume (ml)")
    premedication = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    infusion_reactions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


def add_service_error(form: forms.Form, exc) -> None:  # noqa: ANN001
    """Put a ConductError's message on its field (or on the whole form)."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


class DecisionForm(forms.Form):
    from trialdesk.conduct.models import SafetyReviewDecision as _D

    decision = forms.ChoiceField(choices=_D.DECISIONS)
    dose_level = forms.ChoiceField(required=False, label="Dose level of the next cohort")
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when the decision departs from the engine's recommendation.",
    )
    del _D

    def __init__(self, *args, levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dose_level"].choices = [("", "none (stop)")] + [
            (lvl.id, f"{lvl.id}: {lvl.label}") for lvl in levels
        ]


class DltOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=Participant.DLT_CHOICES, label="DLT outcome")
    reason = forms.CharField(max_length=100, help_text="Required: what the outcome rests on.")


class QueryForm(forms.Form):
    record = forms.ChoiceField(label="Record")
    field = forms.CharField(max_length=60, help_text="The field the question is about")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record"].choices = list(records)


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class CloseQueryForm(forms.Form):
    accept = forms.ChoiceField(
        choices=[("yes", "Close: answer accepted"), ("no", "Send back: answer not enough")]
    )
    note = forms.CharField(max_length=200, required=False)


class VisitForm(forms.Form):
    """A visit: date, Child-Pugh grades, vitals and one text field per lab of the panel."""

    from trialdesk.conduct.models import Visit as _V

    visit_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ascites = forms.ChoiceField(choices=[("", "not assessed")] + _V.ASCITES, required=False)
    encephalopathy = forms.TypedChoiceField(
        choices=[("", "not assessed")] + _V.HE_GRADES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Hepatic encephalopathy",
    )
    temperature_c = forms.DecimalField(
        max_digits=4, decimal_places=1, min_value=30, max_value=45, required=False,
        label="Temperature (°C)",
    )  # fmt: skip
    heart_rate = forms.IntegerField(
        min_value=20, max_value=250, required=False, label="Heart rate (/min)"
    )
    systolic_bp = forms.IntegerField(
        min_value=40, max_value=300, required=False, label="Systolic BP (mmHg)"
    )
    diastolic_bp = forms.IntegerField(
        min_value=20, max_value=200, required=False, label="Diastolic BP (mmHg)"
    )
    respiratory_rate = forms.IntegerField(
        min_value=4, max_value=80, required=False, label="Respiratory rate (/min)"
    )
    spo2 = forms.IntegerField(min_value=50, max_value=100, required=False, label="SpO2 (%)")
    del _V

    def __init__(self, *args, panel=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.panel = tuple(panel)
        for analyte in self.panel:
            self.fields[f"lab_{analyte}"] = forms.CharField(
                max_length=60,
                required=False,
                label=f"{analyte} (value and unit)",
                help_text="Any unit, e.g. '2.0 mg/dL' or '34 umol/L'",
            )

    def service_args(self) -> dict:
        d = dict(self.cleaned_data)
        labs = {a: d.pop(f"lab_{a}") for a in self.panel}
        vitals = {
            k: d.pop(k) for k in list(d) if k not in ("visit_date", "ascites", "encephalopathy")
        }
        return {**d, **{k: v for k, v in vitals.items() if v is not None}, "labs": labs}


class AdverseEventForm(forms.Form):
    from trialdesk.conduct.models import AdverseEvent as _AE

    term = forms.ChoiceField(label="CTCAE term")
    grade = forms.TypedChoiceField(
        choices=[("", "not graded yet")] + [(g, f"Grade {g}") for g in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    onset_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    awareness_at = forms.DateTimeField(
        label="Site aware at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    resolution_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    seriousness = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Seriousness (ICH E2A)",
    )
    unexpected = forms.BooleanField(
        required=False, label="Unexpected (not in the reference safety information)"
    )
    related = forms.ChoiceField(choices=_AE.RELATED, label="Relationship to the cell product")
    action_taken = forms.ChoiceField(choices=_AE.ACTIONS)
    outcome = forms.ChoiceField(choices=_AE.OUTCOMES)
    reason = forms.CharField(max_length=100, required=False, help_text="Required for a change.")
    del _AE

    def __init__(self, *args, terms=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        from trialdesk.clinical.safety import SeriousnessCriterion

        self.editing = editing
        self.fields["term"].choices = [(t, t) for t in terms]
        self.fields["seriousness"].choices = [(c.value, c.text) for c in SeriousnessCriterion]
        if not editing:
            del self.fields["reason"]

    def clean_reason(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if self.editing and not reason:
            raise forms.ValidationError("a reason is required for any change after first save")
        return reason


class ProposalDecisionForm(forms.Form):
    """Confirm a lab-proposed adverse event (with the relationship) or dismiss it."""

    from trialdesk.conduct.models import AdverseEvent as _AE

    action = forms.ChoiceField(choices=[("confirm", "Confirm"), ("dismiss", "Dismiss")])
    related = forms.ChoiceField(
        choices=_AE.RELATED, required=False, label="Relationship to the cell product"
    )
    reason = forms.CharField(max_length=300, required=False)
    del _AE


class EnrolForm(forms.Form):
    enrolled_at = forms.DateTimeField(
        required=False,
        label="Enrolled at (UTC)",
        help_text="For entry after the fact; empty = now",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ReferralForm(forms.Form):
    """The public "send my answers to the study team" form under the check's result.

    ``answers`` carries the check's answers (JSON); the view reads them again through the
    registry's prescreener, so what is stored is what the check computes, never a result
    the browser sends. Contact data is the least the team needs: a name or initials and one
    of phone or e-mail."""

    answers = forms.CharField(widget=forms.HiddenInput, max_length=20_000)
    name = forms.CharField(
        label="Your name or initials", max_length=100, help_text="Initials are enough."
    )
    phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        validators=[
            RegexValidator(
                r"^\+?[0-9][0-9 ()./-]{4,38}$", "a phone number: digits, spaces, + ( ) . / -"
            )
        ],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="or e-mail",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), label="Preferred site", empty_label=None
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "nothing is sent without your consent: tick the box"},
    )

    def __init__(self, *args, sites=(), consent_text="", **kwargs):
        super().__init__(*args, **kwargs)
        sites = list(sites)
        self.fields["site"].queryset = Site.objects.filter(pk__in=[s.pk for s in sites])
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
            self.fields["site"].widget = forms.HiddenInput()
        self.fields["consent"].label = consent_text

    def clean(self):
        data = super().clean()
        if not (data.get("phone") or data.get("email")) and not (
            self.has_error("phone") or self.has_error("email")
        ):
            self.add_error("phone", "give a phone number or an e-mail address")
        return data


class DeclineReferralForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required: kept in the referral's history.",
    )

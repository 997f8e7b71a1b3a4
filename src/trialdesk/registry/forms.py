"""The trial search form: one validation for the search page and the JSON API.

Every filter of ``trialdesk.registry.search.SearchQuery`` is a field here. Invalid input
(an age of "abc", a negative distance, an unknown status) becomes a form error naming the
field; ``SearchQuery`` then re-checks the combination and its ``SearchError`` messages are
attached to the field they name, so a bad query never reaches the database and never 500s.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms

from trialdesk.registry.filters import BY_NAME, FILTERS
from trialdesk.registry.search import MAX_PAGE, MAX_PER_PAGE, SearchError, SearchQuery
from trialdesk.registry.templatetags.registry_labels import label

#: Largest distance filter: half the Earth's circumference, in km (as SearchQuery allows).
MAX_WITHIN_KM = 20_050.0
#: Oldest patient age accepted, in years (as SearchQuery allows).
MAX_AGE_YEARS = 150.0


def _choices(name: str, table: str, anything: str, leave=()) -> list[tuple[str, str]]:
    """The choices of declared filter ``name`` (``filters.FILTERS``), labelled by ``table``."""
    codes = [c for c in BY_NAME[name].codes if c not in leave]
    return [("", anything)] + [(code, label(table, code)) for code in codes]


def _paging_messages(name: str, highest: int) -> dict[str, str]:
    """One message for every way a paging value can be wrong (not a number, too small, too
    large): what is allowed, naming the parameter (the fields are hidden)."""
    message = f"{name} must be a whole number from 1 to {highest:,}."
    return {"invalid": message, "min_value": message, "max_value": message}


class ChoiceListField(forms.CharField):
    """One choice, or several separated by commas (``RECRUITING,NOT_YET_RECRUITING``).

    Rendered as a single ``<select>`` on the page; the API may send a comma-separated list.
    Cleans to a tuple of upper-case codes, each checked against ``choices``.
    """

    def __init__(self, *, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.allowed = tuple(code for code, _ in choices if code)
        kwargs.setdefault("widget", forms.Select(choices=choices))
        super().__init__(required=False, **kwargs)

    def clean(self, value: Any) -> tuple[str, ...]:
        text = super().clean(value) or ""
        codes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
        bad = [c for c in codes if c not in self.allowed]
        if bad:
            raise forms.ValidationError(
                "%(bad)s is not one of %(allowed)s.",
                code="invalid_choice",
                params={"bad": ", ".join(bad), "allowed": ", ".join(self.allowed)},
            )
        return codes


class TrialSearchForm(forms.Form):
    """Search filters, as GET parameters. All optional; empty lists every trial.

    ``q`` is accepted as another name for ``text`` (moved into it before validation); a
    ``q`` and a ``text`` that differ are an error on ``text``.
    """

    text = forms.CharField(
        required=False,
        max_length=500,
        label="Search",
        help_text='Words, "a phrase", OR, -exclude. Searches titles, conditions, treatments, summaries, criteria and identifiers (e.g. NCT05227846).',
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. cirrhosis"}),
    )
    # Choices and labels come from the filter declarations (``filters.FILTERS``).
    status = ChoiceListField(
        choices=_choices("statuses", "status", "Any status"), label=BY_NAME["statuses"].label
    )
    phase = ChoiceListField(
        choices=_choices("phases", "phase", "Any phase"), label=BY_NAME["phases"].label
    )
    study_type = forms.ChoiceField(
        required=False,
        choices=_choices("study_type", "study_type", "Any type"),
        label=BY_NAME["study_type"].label,
    )
    sex = forms.ChoiceField(
        required=False,
        # A patient is one sex: "ALL" stays an API value (either sex).
        choices=_choices("sex", "sex", "Any", leave=("ALL",)),
        label=BY_NAME["sex"].label,
        help_text="Trials open to this sex (or to all).",
    )
    age = forms.FloatField(
        required=False,
        min_value=0,
        max_value=MAX_AGE_YEARS,
        label=BY_NAME["age"].label,
        widget=forms.NumberInput(
            attrs={"min": 0, "max": 150, "step": "any", "inputmode": "decimal"}
        ),
    )
    condition = forms.CharField(required=False, max_length=200, label="Condition")
    country = forms.CharField(required=False, max_length=128, label="Site country")
    city = forms.CharField(required=False, max_length=128, label="Site city")
    near_city = forms.CharField(
        required=False,
        max_length=200,
        label="Near city",
        help_text='"City" or "City, Country"',
        widget=forms.TextInput(attrs={"list": "city-list", "autocomplete": "off"}),
    )
    near = forms.CharField(
        required=False,
        max_length=60,
        label="Near point (lat,lon)",
        help_text="Decimal degrees, e.g. 39.9,116.4",
    )
    within_km = forms.FloatField(
        required=False,
        label=BY_NAME["within_km"].label,
        widget=forms.NumberInput(attrs={"min": 1, "step": "any", "inputmode": "decimal"}),
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
        error_messages=_paging_messages("page", MAX_PAGE),
    )
    per_page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PER_PAGE,
        widget=forms.HiddenInput,
        error_messages=_paging_messages("per_page", MAX_PER_PAGE),
    )

    #: The fields shown on the search page (country/city/page come from links).
    visible = ("text", "condition", "status", "phase", "study_type", "sex", "age")
    location_fields = ("near_city", "near", "within_km")
    #: Paging parameters: hidden, their errors are shown above the form.
    paging_fields = ("page", "per_page")

    def __init__(self, data=None, *args: Any, **kwargs: Any) -> None:
        # ``q`` (the name most search sites use) is an alias of ``text``: moved into
        # ``text`` here, so the form shows it in the search box and never renders ``q``.
        self.conflicting_q = False
        if data is not None and "q" in data:
            q = (data.get("q") or "").strip()
            text = (data.get("text") or "").strip()
            data = data.copy()
            del data["q"]
            if q and text and q != text:
                self.conflicting_q = True
            elif q:
                data["text"] = q
        super().__init__(data, *args, **kwargs)

    @property
    def filter_errors(self) -> dict[str, Any]:
        """The errors of the search filters (not of the paging parameters), by field."""
        return {k: v for k, v in self.errors.items() if k not in self.paging_fields}

    @property
    def paging_errors(self) -> list[str]:
        """The errors of ``page`` and ``per_page`` (hidden fields), for the page's top."""
        return [str(e) for name in self.paging_fields for e in self.errors.get(name, ())]

    def clean_text(self) -> str:
        if self.conflicting_q:
            raise forms.ValidationError(
                "Give the search words once: q is another name for text, and they differ.",
                code="conflict",
            )
        return (self.cleaned_data.get("text") or "").strip()

    def clean_age(self) -> float | None:
        age = self.cleaned_data.get("age")
        if age is not None and not math.isfinite(age):
            raise forms.ValidationError("Enter a number of years.", code="invalid")
        return age

    def clean_near(self) -> tuple[float, float] | None:
        raw = (self.cleaned_data.get("near") or "").strip()
        if not raw:
            return None
        parts = [p.strip() for p in raw.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise forms.ValidationError(
                'Enter "latitude,longitude" in decimal degrees, e.g. 39.9,116.4.', code="invalid"
            ) from None
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise forms.ValidationError("Latitude must be between -90 and 90.", code="range")
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise forms.ValidationError("Longitude must be between -180 and 180.", code="range")
        return (lat, lon)

    def clean_within_km(self) -> float | None:
        km = self.cleaned_data.get("within_km")
        if km is None:
            return None
        if not math.isfinite(km) or km <= 0:
            raise forms.ValidationError("Enter a distance above 0 km.", code="min_value")
        if km > MAX_WITHIN_KM:
            raise forms.ValidationError(
                "Enter a distance of at most %(max)s km.",
                code="max_value",
                params={"max": int(MAX_WITHIN_KM)},
            )
        return km

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("near") and data.get("near_city"):
            self.add_error("near", "Give a city or a point, not both.")
        elif data.get("within_km") is not None and not (data.get("near") or data.get("near_city")):
            if "near" not in self.errors and "near_city" not in self.errors:
                self.add_error("within_km", "Give a city or a point to measure the distance from.")
        if not self.errors:
            try:
                self.query = self._build_query(data)
            except SearchError as exc:
                self.add_search_error(exc)
        return data

    def _build_query(self, data: dict[str, Any]) -> SearchQuery:
        kwargs: dict[str, Any] = {}
        for f in FILTERS:  # each declared filter from its parameter(s)
            for name, param in f.query_parameters:
                value = data.get(param)
                kwargs[name] = value if value not in ("", ()) else None
        return SearchQuery(
            text=data.get("text") or "",
            condition=data.get("condition") or None,
            near=data.get("near"),
            near_city=data.get("near_city") or None,
            page=data.get("page") or 1,
            per_page=data.get("per_page") or 20,
            **{k: v for k, v in kwargs.items() if v is not None},
        )

    def add_search_error(self, exc: SearchError) -> None:
        """Attach a ``SearchError`` to the field its message names (else to the form)."""
        message = str(exc)
        names = {f.name: f.parameter for f in FILTERS} | {"status": "status", "phase": "phase"}
        head = message.split(" ", 1)[0].rstrip(":")
        field = names.get(head, head)
        self.add_error(field if field in self.fields else None, message)

    def is_location_search(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("near") or data.get("near_city"))

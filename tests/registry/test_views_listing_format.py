"""The listing's wording helpers (pure functions; no database).

Expected strings follow the seed listings (shared/seeds/*.txt: "18 to 75 years old",
"12 estimated patients", "20 patients") and ClinicalTrials.gov's display labels.
"""

from __future__ import annotations

import pytest

from trialdesk.registry.templatetags.registry_contacts import mailto_href, tel_href
from trialdesk.registry.templatetags.registry_labels import label, phases_label
from trialdesk.registry.templatetags.registry_listing import (
    ages_text,
    dates,
    enrollment_text,
    list_styles,
)


@pytest.mark.parametrize(
    ("minimum", "maximum", "expected"),
    [
        ("18 Years", "75 Years", "18 to 75 years old"),
        ("6 Months", "17 Years", "6 months to 17 years old"),
        ("18 Years", None, "18+ years old"),
        (None, "17 Years", "Up to 17 years old"),
        ("1 Year", "2 Years", "1 to 2 years old"),
        (None, "1 Year", "Up to 1 year old"),
        (None, None, "All ages"),
    ],
)
def test_ages_text(minimum, maximum, expected):
    assert ages_text(minimum, maximum) == expected


@pytest.mark.parametrize(
    ("count", "kind", "expected"),
    [
        (12, "ESTIMATED", "12 estimated patients"),
        (20, "ACTUAL", "20 patients"),
        (1, "ACTUAL", "1 patient"),
        (None, "ACTUAL", ""),
    ],
)
def test_enrollment_text(count, kind, expected):
    assert enrollment_text(count, kind) == expected


def test_list_styles_follow_the_source_markers():
    text = (
        "Inclusion Criteria:\n\n1. Adult\n2. Consent\n\n"
        "Exclusion Criteria:\n\n* Pregnancy\n  1. first trimester\n* Infection"
    )
    assert list_styles(text) == {"inclusion": ("ol", "1"), "exclusion": ("ul", "")}
    lettered = "Key Inclusion Criteria:\na) Adult\nb) Consent\nEXCLUSION CRITERIA\n(1) Pregnancy"
    assert list_styles(lettered) == {"inclusion": ("ol", "a"), "exclusion": ("ol", "1")}
    # No markers at all: no style (the page then uses a bulleted list).
    assert list_styles("Inclusion Criteria:\nAdult\nConsent") == {}
    assert list_styles(None) == {}


def test_labels_are_ctgov_wording_and_unknown_codes_stay_readable():
    assert label("status", "RECRUITING") == "Recruiting"
    assert label("status", "ACTIVE_NOT_RECRUITING") == "Active, not recruiting"
    assert label("masking", "NONE") == "None (Open label)"
    assert label("allocation", "NA") == "N/A"
    assert label("intervention_model", "SINGLE_GROUP") == "Single Group Assignment"
    assert label("agency_class", "INDUSTRY") == "Industry"
    assert phases_label(["PHASE1", "PHASE2"]) == "Phase 1/Phase 2"
    assert label("status", "SOMETHING_NEW") == "Something new"
    assert label("status", None) == ""


@pytest.mark.parametrize(
    ("phone", "ext", "href"),
    [
        ("+86 10 6693 3333", None, "tel:+861066933333"),
        ("+86 10 6693 3333", "12", "tel:+861066933333;ext=12"),
        ("(024) 3974-3556", "ext 8", "tel:02439743556;ext=8"),
        ("115", None, "tel:115"),
        ("12", None, ""),  # too short to be a number
        ("javascript:alert(1)", None, ""),
        ("call the hospital", None, ""),
        ("", None, ""),
        (None, None, ""),
    ],
)
def test_tel_href(phone, ext, href):
    assert tel_href(phone, ext) == href


@pytest.mark.parametrize(
    ("email", "href"),
    [
        ("wangfs@example.org", "mailto:wangfs@example.org"),
        (" a.b+trial@site.example.com ", "mailto:a.b+trial@site.example.com"),
        ("a&b@example.org", "mailto:a%26b@example.org"),
        ("a@example.org?bcc=x@example.org", ""),
        ("not an address", ""),
        ('"><script>@x', ""),
        (None, ""),
    ],
)
def test_mailto_href(email, href):
    assert mailto_href(email) == href


def test_dates_keep_the_registered_form_and_type():
    from trialdesk.interop.ctgov_models import StatusModule

    status = StatusModule.model_validate(
        {
            "startDateStruct": {"date": "2024-03", "type": "ACTUAL"},
            "completionDateStruct": {"date": "2027-06-30", "type": "ESTIMATED"},
            "lastUpdatePostDateStruct": {"date": "2026-10-01"},
        }
    )
    assert dates(status) == (
        {"what": "Study start", "date": "2024-03", "kind": "actual"},
        {"what": "Study completion", "date": "2027-06-30", "kind": "estimated"},
        {"what": "Last updated", "date": "2026-10-01", "kind": ""},
    )
    assert dates(None) == ()

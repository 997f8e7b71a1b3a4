"""The public listing page ``/trials/<NCT id>/`` shows every fact of the seed listings, in order.

Reference: the two seed listing pages (shared/seeds/NCT05227846.txt and NCT05331872.txt,
ClinicalTrials.Veeva renderings of the ClinicalTrials.gov records). Their wording is kept,
except the status, which follows ClinicalTrials.gov's label ("Recruiting", where the seed
page says "Enrolling"). The records come from protocols/<NCT id>/record.json, imported
through the registry importer.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"

pytestmark = pytest.mark.django_db

# The order a patient reads NCT05227846's listing (shared/seeds/NCT05227846.txt).
NCT05227846_FACTS = [
    "Human Umbilical Cord-derived Mesenchymal Stem Cells for Decompensated Cirrhosis (MSC-DLC-1)",
    "Beijing 302 Hospital",
    "Status and phase",
    "Recruiting",
    "Phase 1",
    "Conditions",
    "Decompensated Cirrhosis",
    "Treatments",
    "Biological: Human Umbilical Cord-derived Mesenchymal Stem Cells",
    "Study type",
    "Interventional",
    "Funder types",
    "Other",
    "Industry",
    "Identifiers",
    "NCT05227846",
    "MSC-DLC-1",
    "Details and patient eligibility",
    "About",
    "This is a Phase 1, open label, dose escalation clinical trial of human umbilical "
    "cord-derived mesenchymal stem cells for the treatment of decompensated cirrhosis.",
    "Full description",
    "The primary objective of this study is to assess the safety of intravenous infusion",
    "Enrollment",
    "12 estimated patients",
    "Sex",
    "All",
    "Ages",
    "18 to 75 years old",
    "Volunteers",
    "No Healthy Volunteers",
    "Inclusion criteria",
    "Willing to provide written informed consent;",
    "Aged 18 to 75 years (including 18 and 75 years), male or female;",
    "Child-Turcotte-Pugh (CTP) score 7 to 12 points.",
    "Exclusion criteria",
    "Appearance of active variceal bleeding, overt hepatic encephalopathy (HE)",
    "Hepatitis B virus (HBV) DNA ≥ detection limit at the time of screening.",
    "Severe electrolyte abnormality (serum sodium level < 125 mmol/L)",
    "HIV seropositivity.",
    "Any other clinical condition which the investigator considers would make the patient "
    "unsuitable for the trial.",
    "Trial design",
    "Primary purpose",
    "Treatment",
    "Allocation",
    "N/A",
    "Interventional model",
    "Single Group Assignment",
    "Masking",
    "None (Open label)",
    "12 participants in 1 patient group",
    "Human Umbilical Cord-derived Mesenchymal Stem Cells",
    "Experimental group",
    "Description:",
    "Standard of care (SOC) plus a dose-escalation with 4 cohorts with 3-6 subjects/cohort "
    "who receive doses of 5, 10,15 and 20 ×10E7 cells.",
    "Treatment:",
    "Biological: Human Umbilical Cord-derived Mesenchymal Stem Cells",
    "Trial contacts and locations",
    "1 trial site",
    "Beijing 302 Hospital (Fifth Medical Center of Chinese PLA General Hospital)",
    "Beijing, China",
    "Central trial contact",
    "Fu-Sheng Wang, MD,PhD",
    "Lei Shi, MD,PhD",
    "Primary outcome",
    "Safety of intravenous infusion of human umbilical cord-derived mesenchymal stem cells",
    "Data sourced from clinicaltrials.gov",
]

# shared/seeds/NCT05331872.txt
NCT05331872_FACTS = [
    "Umbilical Cord-derived Mesenchymal Stem Cell Infusion in the Management of Adult Liver "
    "Cirrhosis",
    "Vinmec Research Institute of Stem Cell and Gene Technology",
    "Status and phase",
    "Completed",
    "Phase 1",
    "Conditions",
    "Liver Cirrhosis",
    "Treatments",
    "Biological: Human umbilical cord-derived mesenchymal stem cell infusion",
    "Study type",
    "Interventional",
    "Funder types",
    "Other",
    "Identifiers",
    "NCT05331872",
    "ISC.19.29",
    "About",
    "This is a phase I, open label, single arm trial using UC-MSCs",
    "Full description",
    "Liver cirrhosis is defined as the histological development of regenerative nodules",
    "Enrollment",
    "20 patients",
    "Sex",
    "All",
    "Ages",
    "18 to 70 years old",
    "Volunteers",
    "No Healthy Volunteers",
    "Inclusion criteria",
    "Aged 18 to 70 years old.",
    "Be willing to complete the study and sign the consent form.",
    "Exclusion criteria",
    "Younger than 18 or older than 70 years old",
    "Any clinically significant blood coagulation disorder(s)",
    "Trial design",
    "Primary purpose",
    "Treatment",
    "Allocation",
    "N/A",
    "Interventional model",
    "Single Group Assignment",
    "Masking",
    "None (Open label)",
    "20 participants in 1 patient group",
    "human umbilical cord-derived mesenchymal stem cell transplantation for patients with "
    "liver cirrhosis",
    "Experimental group",
    "Description:",
    "Umbilical cords from healthy donor are processed with 24 hours after vaginal delivery.",
    "Treatment:",
    "Biological: Human umbilical cord-derived mesenchymal stem cell infusion",
    "Trial contacts and locations",
    "1 trial site",
    "Hanoi, Vietnam",
    "Central trial contact",
    "Phuong Nguyen, MSc",
    "Data sourced from clinicaltrials.gov",
]


def assert_in_order(text: str, facts: list[str]) -> None:
    position = 0
    for fact in facts:
        found = text.find(fact, position)
        assert found >= 0, (
            f"{fact!r} not shown after position {position}; "
            f"next text: {text[position : position + 300]!r}"
        )
        position = found + len(fact)


@pytest.mark.parametrize(
    ("nct_id", "facts"),
    [("NCT05227846", NCT05227846_FACTS), ("NCT05331872", NCT05331872_FACTS)],
)
def test_listing_shows_every_seed_fact_in_order(client, seed_trials, page_text, nct_id, facts):
    response = client.get(f"/trials/{nct_id}/")
    assert response.status_code == 200
    assert_in_order(page_text(response.content), facts)


def test_listing_markup_keeps_enums_and_list_kinds(client, seed_trials):
    html = client.get("/trials/NCT05227846/").content.decode()
    # The human label is shown; the CT.gov enum stays machine-readable.
    assert re.search(r'data-status="RECRUITING"[^>]*>Recruiting<', html)
    # The title already carries the acronym: it is not repeated.
    title = re.search(r'<h1 id="trial-title">(.*?)</h1>', html, re.S).group(1)
    assert title.count("(MSC-DLC-1)") == 1
    # Numbered criteria in the source -> ordered lists; 4 inclusion and 20 exclusion items.
    inclusion = re.search(
        r'<ol class="criteria" aria-labelledby="inclusion-criteria"[^>]*>(.*?)</ol>', html, re.S
    )
    exclusion = re.search(
        r'<ol class="criteria" aria-labelledby="exclusion-criteria"[^>]*>(.*?)</ol>', html, re.S
    )
    assert inclusion and inclusion.group(1).count("<li>") == 4
    assert exclusion and exclusion.group(1).count("<li>") == 20
    # The source's "1." markers are not repeated inside the items.
    assert "<li>1. " not in html
    # A link to the record's JSON.
    assert 'href="/api/trials/NCT05227846"' in html

    html = client.get("/trials/NCT05331872/").content.decode()
    # Bulleted criteria in the source -> unordered lists; 3 and 4 items.
    inclusion = re.search(
        r'<ul class="criteria" aria-labelledby="inclusion-criteria">(.*?)</ul>', html, re.S
    )
    exclusion = re.search(
        r'<ul class="criteria" aria-labelledby="exclusion-criteria">(.*?)</ul>', html, re.S
    )
    assert inclusion and inclusion.group(1).count("<li>") == 3
    assert exclusion and exclusion.group(1).count("<li>") == 4
    assert 'data-status="COMPLETED"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/trials/NCT00000000/",  # well-formed, not in the registry
        "/trials/NCT123/",  # malformed
        "/trials/nct05227846/",  # malformed (lower case)
        "/trials/NCT05227846x/",
        "/trials/NCT052278460/",
    ],
)
def test_unknown_or_malformed_nct_id_is_404(client, seed_trials, path):
    assert client.get(path).status_code == 404


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hostile_record() -> dict:
    """A valid record whose free text is markup, to prove every field is escaped."""
    with open(PROTOCOLS / "NCT05227846" / "record.json", encoding="utf-8") as fh:
        record = json.load(fh)
    record = copy.deepcopy(record)
    ps = record["protocolSection"]
    ps["identificationModule"]["nctId"] = "NCT09999999"
    ps["identificationModule"]["briefTitle"] = f"Title {HOSTILE}"
    ps["identificationModule"]["acronym"] = "<b>AC</b>"
    ps["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = f"Sponsor {HOSTILE}"
    ps["descriptionModule"]["briefSummary"] = f"Summary {HOSTILE}"
    ps["conditionsModule"]["conditions"] = [f"Condition {HOSTILE}"]
    ps["eligibilityModule"]["eligibilityCriteria"] = (
        f"Inclusion Criteria:\n\n* Included {HOSTILE}\n\nExclusion Criteria:\n\n"
        f"* Excluded {HOSTILE}\n  * sub {HOSTILE}"
    )
    ps["armsInterventionsModule"]["armGroups"][0]["description"] = f"Arm {HOSTILE}"
    ps["contactsLocationsModule"]["centralContacts"][0]["name"] = f"Contact {HOSTILE}"
    ps["contactsLocationsModule"]["centralContacts"][0]["email"] = 'a@b.c" onmouseover="x'
    ps["contactsLocationsModule"]["locations"][0]["facility"] = f"Site {HOSTILE}"
    return record


def test_record_text_is_always_escaped(client, import_records, page_text):
    import_records(hostile_record())
    pages = [
        "/trials/NCT09999999/",
        "/trials/?text=title",
        "/trials/?near_city=Beijing&within_km=10",
        "/trials/locations/China/Beijing/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html, url
    html = client.get("/trials/NCT09999999/").content.decode()
    assert "<b>AC</b>" not in html
    assert 'onmouseover="x' not in html
    text = page_text(html)
    # Escaped, the markup reads as the plain text it was registered as.
    for shown in ("Title ", "Included ", "Excluded ", "sub ", "Arm ", "Contact ", "Site "):
        assert shown + HOSTILE in text


def test_listing_of_a_sparse_record(client, import_records, page_text):
    """A record with only the required identification still renders (no crash on None)."""
    import_records(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT08888888", "briefTitle": "Bare trial"}
            }
        }
    )
    response = client.get("/trials/NCT08888888/")
    assert response.status_code == 200
    text = page_text(response.content)
    assert_in_order(
        text,
        [
            "Bare trial",
            "Unknown status",
            "Identifiers",
            "NCT08888888",
            "0 trial sites",
            "Data sourced from clinicaltrials.gov",
        ],
    )


def test_home_page_counts_trials_and_offers_search(client, seed_trials, page_text):
    response = client.get("/")
    assert response.status_code == 200
    text = page_text(response.content)
    assert "The registry holds 2 trials, of which 1 is recruiting." in text
    html = response.content.decode()
    assert 'action="/trials/"' in html and 'name="text"' in html
    for href in ('href="/trials/"', 'href="/trials/locations/"', 'href="/api/docs"'):
        assert href in html

"""The listing's "Dates" block, outcome time frames and contact details (issue 15, item 6).

The seed listing pages (shared/seeds/*.txt) show no dates, no phone numbers or e-mail
addresses and (NCT05227846) no outcome time frame, so the seed records hold none
(docs/protocols/*.md): their listings show each central contact and no Dates block. A
record that registers everything (made here, in the CT.gov API v2 shape of
shared/reference/ctgov-v2.md) shows each date with its type, each time frame and each
contact's name, role, phone and e-mail as tel:/mailto: links.
"""

from __future__ import annotations

import re

import pytest
from registry_studies import make_study

pytestmark = pytest.mark.django_db


def full_record() -> dict:
    study = make_study("NCT07777777", title="Dated trial")
    ps = study["protocolSection"]
    ps["statusModule"].update(
        {
            "startDateStruct": {"date": "2024-03", "type": "ACTUAL"},
            "primaryCompletionDateStruct": {"date": "2026-12-31", "type": "ESTIMATED"},
            "completionDateStruct": {"date": "2027-06", "type": "ESTIMATED"},
            "studyFirstPostDateStruct": {"date": "2024-02-07", "type": "ACTUAL"},
            "lastUpdatePostDateStruct": {"date": "2026-10-01", "type": "ACTUAL"},
        }
    )
    ps["outcomesModule"] = {
        "primaryOutcomes": [
            {"measure": "Dose-limiting toxicity", "timeFrame": "28 days after infusion"}
        ],
        "secondaryOutcomes": [{"measure": "Change in MELD score", "timeFrame": "6 months"}],
    }
    contacts = ps["contactsLocationsModule"]
    contacts["centralContacts"] = [
        {
            "name": "Fu-Sheng Wang, MD,PhD",
            "role": "CONTACT",
            "phone": "+86 10 6693 3333",
            "phoneExt": "12",
            "email": "wangfs@example.org",
        },
        {"name": "Lei Shi, MD,PhD", "role": "CONTACT", "email": "shilei@example.org"},
    ]
    contacts["locations"][0]["contacts"] = [
        {"name": "Site Nurse", "role": "CONTACT", "phone": "010-6693-3000"},
    ]
    return study


DATE_FACTS = [
    "Dates",
    "Study start",
    "2024-03 (actual)",
    "Primary completion",
    "2026-12-31 (estimated)",
    "Study completion",
    "2027-06 (estimated)",
    "First posted",
    "2024-02-07 (actual)",
    "Last updated",
    "2026-10-01 (actual)",
]


def _in_order(text: str, facts: list[str]) -> None:
    position = 0
    for fact in facts:
        found = text.find(fact, position)
        assert found >= 0, f"{fact!r} not after {text[position : position + 200]!r}"
        position = found + len(fact)


def test_listing_shows_each_date_with_its_type(client, import_records, page_text):
    import_records(full_record())
    html = client.get("/trials/NCT07777777/").content.decode()
    _in_order(page_text(html), DATE_FACTS)
    assert '<time datetime="2026-12-31">2026-12-31</time> (estimated)' in html
    assert '<h2 id="dates-heading">Dates</h2>' in html


def test_listing_shows_outcome_time_frames(client, import_records, page_text):
    import_records(full_record())
    text = page_text(client.get("/trials/NCT07777777/").content)
    _in_order(
        text,
        [
            "Primary outcome",
            "Dose-limiting toxicity",
            "Time frame: 28 days after infusion",
            "Secondary outcome",
            "Change in MELD score",
            "Time frame: 6 months",
        ],
    )


def test_listing_shows_each_contact_with_links(client, import_records, page_text):
    import_records(full_record())
    html = client.get("/trials/NCT07777777/").content.decode()
    _in_order(
        page_text(html),
        [
            "Site Nurse (Contact)",
            "Phone: 010-6693-3000",
            "Central trial contact",
            "Fu-Sheng Wang, MD,PhD (Contact)",
            "Phone: +86 10 6693 3333 ext. 12",
            "E-mail: wangfs@example.org",
            "Lei Shi, MD,PhD (Contact)",
            "E-mail: shilei@example.org",
        ],
    )
    assert '<a href="tel:+861066933333;ext=12" data-field="contact-phone">' in html
    assert '<a href="tel:01066933000" data-field="contact-phone">010-6693-3000</a>' in html
    assert '<a href="mailto:wangfs@example.org" data-field="contact-email">' in html
    assert '<a href="mailto:shilei@example.org" data-field="contact-email">' in html


def test_contact_values_that_are_not_a_number_or_address_are_shown_but_not_linked(
    client, import_records, page_text
):
    study = full_record()
    central = study["protocolSection"]["contactsLocationsModule"]["centralContacts"]
    central[0]["phone"] = "javascript:alert(1)"
    central[0]["phoneExt"] = None
    central[1]["email"] = '"><script>alert(1)</script>'
    central.append({"name": "Mail injector", "email": "a@example.org?bcc=all@example.org"})
    import_records(study)
    html = client.get("/trials/NCT07777777/").content.decode()
    assert 'href="javascript:' not in html and "tel:javascript" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "mailto:wangfs@example.org" in hrefs  # the valid address of the first contact
    assert not any("bcc" in href for href in hrefs)
    assert "a@example.org?bcc=all@example.org" in page_text(html)
    text = page_text(html)
    assert "Phone: javascript:alert(1)" in text  # shown as registered, as text


@pytest.mark.parametrize("nct_id", ["NCT05227846", "NCT05331872"])
def test_seed_listing_has_its_contacts_and_no_dates_block(client, seed_trials, page_text, nct_id):
    html = client.get(f"/trials/{nct_id}/").content.decode()
    names = {
        "NCT05227846": ["Fu-Sheng Wang, MD,PhD", "Lei Shi, MD,PhD"],
        "NCT05331872": ["Phuong Nguyen, MSc"],
    }[nct_id]
    _in_order(
        page_text(html),
        ["Central trial contact", *[f"{name} (Contact)" for name in names]],
    )
    assert html.count('data-field="central-contact"') == len(names)
    # The seed pages show no dates, phone numbers or e-mail addresses: none is invented.
    assert 'id="dates-heading"' not in html
    assert "tel:" not in html and "mailto:" not in html


def test_a_record_with_some_dates_shows_only_those(client, import_records, page_text):
    study = make_study("NCT07777778", title="Half dated")
    study["protocolSection"]["statusModule"]["completionDateStruct"] = {"date": "2027"}
    import_records(study)
    text = page_text(client.get("/trials/NCT07777778/").content)
    _in_order(text, ["Dates", "Study start", "2024-03 (actual)", "Study completion", "2027"])
    assert "2027 (" not in text  # no type registered: no "(actual)"/"(estimated)"
    for absent in ("Primary completion", "First posted", "Last updated"):
        assert absent not in text

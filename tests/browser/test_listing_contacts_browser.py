"""The listing's contacts, laid out in real Chromium (Debian's, never downloaded).

Each contact (name, role, phone, e-mail) is a block of its own: two contacts one after the
other, and a site after the last contact of the site before it, are separated by visible
space, on a 375 px phone and a 1280 px screen (the issue-15 acceptance pass found the
central contacts run together: "E-mail: wangfs@example.org" directly above "Lei Shi").
The record is the seed NCT05227846 with the contact details a CT.gov record may carry
(shared/reference/ctgov-v2.md: contacts with phone, phoneExt, email; several sites).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright
from tests.browser._db import close_playwright_connections

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
#: The least space between two contacts' blocks, in CSS px (about a third of a line).
MIN_GAP_PX = 6

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record_with_contacts() -> dict:
    study = json.loads((ROOT / "protocols/NCT05227846/record.json").read_text())
    module = study["protocolSection"]["contactsLocationsModule"]
    module["centralContacts"] = [
        {
            "name": "Fu-Sheng Wang, MD,PhD",
            "role": "CONTACT",
            "phone": "+86 10 6693 3333",
            "phoneExt": "12",
            "email": "wangfs@example.org",
        },
        {"name": "Lei Shi, MD,PhD", "role": "CONTACT", "email": "shilei@example.org"},
    ]
    first = module["locations"][0]
    first["contacts"] = [
        {"name": "Site Nurse", "role": "CONTACT", "phone": "010-6693-3000"},
        {
            "name": "Site Investigator",
            "role": "PRINCIPAL_INVESTIGATOR",
            "email": "investigator@example.org",
        },
    ]
    second = copy.deepcopy(first)
    second["facility"] = "Second Site Hospital"
    module["locations"].append(second)
    return study


def _gaps(page, selector: str) -> list[float]:
    """Vertical space between consecutive elements matching ``selector`` (CSS px)."""
    return page.eval_on_selector_all(
        selector,
        """els => els.slice(1).map((e, i) =>
            e.getBoundingClientRect().top - els[i].getBoundingClientRect().bottom)""",
    )


@pytest.mark.parametrize("width", [375, 1280])
def test_contacts_and_sites_are_separated(import_records, live_server, monkeypatch, width):
    import_records(record_with_contacts())
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    host = urlparse(live_server.url).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.route(
                "**/*",
                lambda r: r.continue_() if urlparse(r.request.url).netloc == host else r.abort(),
            )
            page.goto(f"{live_server.url}/trials/NCT05227846/")
            central = _gaps(page, '[data-field="central-contact"]')
            site_contacts = _gaps(page, ".sites > li:first-child .contact")
            sites = _gaps(page, ".sites > li")
        finally:
            close_playwright_connections()  # tests/browser/_db.py
            browser.close()
    assert len(central) == 1 and len(site_contacts) == 1 and len(sites) == 1
    assert central[0] >= MIN_GAP_PX, f"central contacts {central[0]} px apart"
    assert site_contacts[0] >= MIN_GAP_PX, f"site contacts {site_contacts[0]} px apart"
    # a site is further from the site before it than two contacts are from each other
    assert sites[0] > site_contacts[0], f"sites {sites[0]} px apart"

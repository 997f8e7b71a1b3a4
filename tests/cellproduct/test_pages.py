"""The cell-product pages: login and role required, site scoping (another site's donor, lot,
unit or participant is a 404), the lab's forms through the services, the label PDF read back,
the bedside refusal shown with its reason, the trace page both ways."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from tests.cellproduct.conftest import (
    PASSWORD,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
)

from trialdesk.cellproduct.models import BedsideCheck, Collection, Donor
from trialdesk.cellproduct.services import doses, release

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(cell_setup):
    s = cell_setup
    people = enrolled_vinmec(s, 2)
    donor, collection = donor_with_collection(s)
    lot = processed_lot(s, collection, "VM-L1")
    record_results(s, lot)
    release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
    lot.refresh_from_db()
    unit = doses.prepare_dose(lot, people[0], lab(s), body_weight_kg=Decimal(60))
    return s, donor, collection, lot, people, unit


def urls(donor, collection, lot, people, unit):
    return [
        reverse("cellproduct:donor", args=[donor.pk]),
        reverse("cellproduct:collection", args=[collection.pk]),
        reverse("cellproduct:lot", args=[lot.pk]),
        reverse("cellproduct:label", args=[unit.pk]),
        reverse("cellproduct:bedside", args=[people[0].pk]),
    ]


def test_pages_need_a_login(client, prepared):
    s, donor, collection, lot, people, unit = prepared
    for url in [reverse("cellproduct:home"), reverse("cellproduct:trace"), *urls(*prepared[1:])]:
        response = client.get(url)
        assert response.status_code == 302 and "/conduct/login/" in response["Location"], url


def test_another_sites_staff_get_404_everywhere(client, prepared):
    s = prepared[0]
    for role in ("cell-lab staff", "investigator", "coordinator", "monitor"):
        client.force_login(s.users[("BJ302", role)])
        for url in urls(*prepared[1:]):
            status = client.get(url).status_code
            assert status in (403, 404), (role, url, status)
            if role in ("cell-lab staff", "investigator"):
                assert status == 404 or "bedside" in url, (role, url, status)
    client.force_login(s.users[("BJ302", "cell-lab staff")])
    page = client.get(reverse("cellproduct:home"))
    assert prepared[1].code not in page.content.decode()
    found = client.get(reverse("cellproduct:trace"), {"q": prepared[2].din.keyed})
    assert "no donation" in found.content.decode()
    back = client.get(reverse("cellproduct:trace"), {"q": prepared[4][0].participant_id})
    assert "neither a recorded donation id" in back.content.decode()


def test_roles_without_the_permission_get_403(client, prepared):
    s = prepared[0]
    client.force_login(s.users[("VINMEC", "safety review committee member")])
    assert client.get(reverse("cellproduct:home")).status_code == 403
    client.force_login(s.users[("VINMEC", "monitor")])  # may look, not scan at the bedside
    assert client.get(reverse("cellproduct:home")).status_code == 200
    assert client.get(reverse("cellproduct:bedside", args=[prepared[4][0].pk])).status_code == 403


def test_the_lab_records_through_the_pages(client, cell_setup):
    s = cell_setup
    client.force_login(lab(s))
    when = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("cellproduct:home"),
        {
            "study": s.vm.pk,
            "site": s.sites["VINMEC"].pk,
            "screened_at": when,
            "eligibility": "eligible",
            "consented_at": when,
        },
    )
    assert response.status_code == 302
    donor = Donor.objects.get()
    url = reverse("cellproduct:donor", args=[donor.pk])
    client.post(
        url,
        {
            "form": "test",
            "test-marker": "HBsAg",
            "test-sampled_at": when,
            "test-result": "negative",
        },
    )
    bad = client.post(
        url,
        {
            "form": "collection",
            "collection-din": "G123498654321J",
            "collection-delivered_at": when,
            "collection-delivery_mode": "vaginal",
            "collection-collection_site": "delivery room <b>2</b>",
        },
    )
    assert bad.status_code == 200
    assert "bad check character" in bad.content.decode()
    assert not Collection.objects.exists()
    good = client.post(
        url,
        {
            "form": "collection",
            "collection-din": "G1234 98 654321 H",
            "collection-delivered_at": when,
            "collection-delivery_mode": "vaginal",
            "collection-collection_site": "delivery room <b>2</b>",
        },
    )
    assert good.status_code == 302
    page = client.get(reverse("cellproduct:collection", args=[Collection.objects.get().pk]))
    html = page.content.decode()
    assert "G1234 98 654321 H" in html
    assert "delivery room &lt;b&gt;2&lt;/b&gt;" in html  # escaped, never rendered as markup


def test_the_label_pdf_carries_the_unit_and_no_name(client, prepared):
    s, donor, collection, lot, people, unit = prepared
    client.force_login(lab(s))
    response = client.get(reverse("cellproduct:label", args=[unit.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert lot.lot_number in text and people[0].participant_id in text
    assert "VR001" in text
    assert people[0].initials not in text.split()


def test_the_bedside_page_refuses_the_wrong_participant_with_the_reason(client, prepared):
    s, donor, collection, lot, people, unit = prepared
    client.force_login(s.users[("VINMEC", "investigator")])
    now = timezone.now().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("cellproduct:bedside", args=[people[1].pk]),
        {"scanned": unit.unit_id, "started_at": now, "ended_at": now, "route": "intravenous"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Refused" in html and f"prepared for participant {people[0].participant_id}" in html
    assert BedsideCheck.objects.filter(ok=False, participant=people[1]).count() == 1
    ok = client.post(
        reverse("cellproduct:bedside", args=[people[0].pk]),
        {"scanned": unit.unit_id, "started_at": now, "ended_at": now, "route": "intravenous"},
    )
    assert ok.status_code == 302
    unit.refresh_from_db()
    assert unit.dosing_record is not None


def test_the_trace_page_both_ways(client, prepared):
    s, donor, collection, lot, people, unit = prepared
    client.force_login(s.users[("VINMEC", "monitor")])
    forward = client.get(reverse("cellproduct:trace"), {"q": collection.din.display})
    html = forward.content.decode()
    assert donor.code in html and unit.unit_id in html and people[0].participant_id in html
    back = client.get(reverse("cellproduct:trace"), {"q": people[0].participant_id})
    assert collection.din.keyed in back.content.decode() and donor.code in back.content.decode()
    by_chain = client.get(reverse("cellproduct:trace"), {"q": unit.chain.coi})
    assert donor.code in by_chain.content.decode()


def test_the_lab_pages_show_the_chain(client, prepared):
    s, donor, collection, lot, people, unit = prepared
    client.force_login(lab(s))
    home = client.get(reverse("cellproduct:home")).content.decode()
    assert donor.code in home and lot.lot_number in home
    page = client.get(reverse("cellproduct:donor", args=[donor.pk])).content.decode()
    assert "HBsAg" in page and collection.din.display in page
    page = client.get(reverse("cellproduct:collection", args=[collection.pk])).content.decode()
    assert "sterile jar" in page and lot.lot_number in page
    page = client.get(reverse("cellproduct:lot", args=[lot.pk])).content.decode()
    assert "meets the specification" in page
    assert "Signed by <strong>Cell-Lab Staff VINMEC</strong>" in page
    assert "CD14 or CD11b" in page and "per dose" in page  # the endotoxin per kg item
    assert unit.unit_id in page and "population" in page.lower()
    assert "Prepare a dose unit" in page
    client.force_login(s.users[("VINMEC", "investigator")])
    home = client.get(reverse("cellproduct:home")).content.decode()
    assert "Dose units awaiting infusion" in home and unit.unit_id in home
    assert reverse("cellproduct:bedside", args=[people[0].pk]) in home
    page = client.get(reverse("cellproduct:bedside", args=[people[0].pk])).content.decode()
    assert unit.unit_id in page and "Dose unit id" in page

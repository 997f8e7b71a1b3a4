"""Fixtures for the cell product: conduct's sites, studies and users (tests/conduct), enrolled
NCT05331872 participants at Vinmec, and a donor whose cord is collected, received and
processed into lots, built through the services as the laboratory would."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import yaml
from django.apps import apps as django_apps
from django.utils import timezone
from tests.conduct.conftest import (  # noqa: F401 (fixtures)
    PASSWORD,
    setup,
    setup_roles,
)
from tests.conftest import REPO

from trialdesk.conduct.services.signing import ELIGIBILITY_MEANING

#: A valid ISBT 128 DIN: the UK Red Book, Annex 2 worked example (check character H).
DIN = "G123498654321H"
DIN_2 = "G123498654322"  # check character added by the tests from the core


@pytest.fixture(autouse=True)
def _protocols(monkeypatch, settings):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(REPO / "protocols"))
    # Test-only: a fast hasher (as tests/conduct).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cell_setup(setup):  # noqa: F811 (conduct's fixture)
    """conduct's setup plus the cell-product permissions of each role."""
    from trialdesk.cellproduct.roles import sync_roles

    sync_roles(django_apps)
    return setup


def lab(s):
    return s.users[("VINMEC", "cell-lab staff")]


def enrolled_vinmec(s, n: int, *, seed: int = 7):
    """``n`` enrolled NCT05331872 participants at Vinmec (screened with synthetic data that
    meets the computable criteria, attested, signed, consented, enrolled)."""
    from trialdesk.conduct import services
    from trialdesk.conduct.demo import synthetic_patient

    rng = random.Random(seed)
    study, site = s.vm, s.sites["VINMEC"]
    coordinator = s.users[("VINMEC", "coordinator")]
    investigator = s.users[("VINMEC", "investigator")]
    answers = {c.id: c.kind == "inclusion" for c in study.protocol().criteria if c.rule is None}
    version = study.consent_versions.order_by("-approved_on").first()
    on = date(2026, 11, 20)
    people = []
    for i in range(n):
        born = date(1960 + i, 5, 1)
        p = services.screen_participant(
            study,
            site,
            coordinator,
            initials="AB" + "CDEFGHKLMN"[i],
            sex="female",
            birth_date=born,
            screened_on=on,
            source="plain",
            data=yaml.safe_dump(synthetic_patient(study.nct_id, rng, born, on), sort_keys=False),
        )
        a = services.reassess(p.latest_assessment(), investigator, attestations=answers)
        services.sign_eligibility(a, investigator, password=PASSWORD, meaning=ELIGIBILITY_MEANING)
        consented = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
        services.record_consent(p, coordinator, form_version=version, consented_at=consented)
        p = services.enrol(p, coordinator, at=consented + timedelta(hours=1))
        people.append(p)
    return people


def donor_with_collection(s, *, din: str = DIN, delivered_ago: timedelta = timedelta(days=10)):
    """An eligible, consented, tested donor at Vinmec with her cord collected and received."""
    from trialdesk.cellproduct.services import records

    user = lab(s)
    now = timezone.now()
    delivered = now - delivered_ago
    donor = records.register_donor(
        s.vm,
        s.sites["VINMEC"],
        user,
        screened_at=delivered - timedelta(days=30),
        eligibility="eligible",
        consented_at=delivered - timedelta(days=30),
    )
    for marker in ("HIV-1/2 antibody", "HBsAg", "anti-HCV", "syphilis (TPHA)"):
        records.record_infectious_test(
            donor, user, marker=marker, result="negative", sampled_at=delivered - timedelta(days=29)
        )
    collection = records.record_collection(
        donor,
        user,
        din=din,
        delivered_at=delivered,
        delivery_mode="vaginal",
        collection_site="Vinmec Times City, delivery room 2",
    )
    records.record_receipt(
        collection,
        user,
        received_at=delivered + timedelta(hours=2),
        temperature_c=Decimal("4.0"),
        container="sterile jar in a validated 2-8 C shipper",
    )
    return donor, collection


#: Release results that meet NCT05331872's release specification (protocol.yaml).
GOOD_RESULTS = {
    "viable_cell_concentration": ("5", "10*6/mL"),
    "viability": ("92", "%"),
    "sterility": ("no growth", ""),
    "mycoplasma": ("not detected", ""),
    "endotoxin": ("0.1", "EU/mL"),
    "CD73": ("99.1", "%"),
    "CD90": ("98.7", "%"),
    "CD105": ("97.5", "%"),
    "CD34": ("0.4", "%"),
    "CD45": ("0.3", "%"),
    "CD14": ("0.5", "%"),
    "CD19": ("0.2", "%"),
    "HLA-DR": ("0.6", "%"),
}


def processed_lot(s, collection, lot_number: str, *, start_after: timedelta = timedelta(hours=5)):
    """A lot processed from ``collection`` (first step ``start_after`` the delivery), one
    passage, final product 5 x10^6 viable cells/ml in 100 ml."""
    from trialdesk.cellproduct.services import records

    user = lab(s)
    lot = records.start_lot(collection, user, lot_number=lot_number)
    start = collection.delivered_at + start_after
    records.record_step(
        lot,
        user,
        step="wash (PBS), mince, enzymatic digestion",
        started_at=start,
        ended_at=start + timedelta(hours=3),
        reagent_lots="collagenase NB6 lot 2291; PBS lot P-118",
        medium_lot="SF-XF MSC medium lot 7734",
        equipment="BSC-2, incubator INC-4 (37 C, 5% CO2)",
    )
    lot.refresh_from_db()
    records.record_passage(
        lot,
        user,
        number=0,
        seeded_at=start + timedelta(hours=4),
        seeded_cells=2_000_000,
        seeding_density=Decimal("4000"),
        harvested_at=start + timedelta(days=6),
        harvested_cells=64_000_000,
        viability_pct=Decimal("94.0"),
    )
    records.record_final_product(lot, user, viable_cells_per_ml=5_000_000, volume_ml=Decimal("100"))
    lot.refresh_from_db()
    return lot


def record_results(s, lot, results=None, *, when=None):
    from trialdesk.cellproduct.services import release

    when = when or timezone.now() - timedelta(days=1)
    for name, (value, unit) in (results or GOOD_RESULTS).items():
        release.record_release_test(lot, lab(s), name=name, value=value, unit=unit, tested_at=when)
    lot.refresh_from_db()
    return lot


def edited_protocols(tmp_path, monkeypatch, edit) -> None:
    """Copies of the seed protocols with ``edit(cell_product_section)`` applied to
    NCT05331872's, made the protocols the tests read."""
    for nct in ("NCT05227846", "NCT05331872"):
        (tmp_path / nct).mkdir()
        for f in (REPO / "protocols" / nct).iterdir():
            if f.is_file():
                (tmp_path / nct / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "NCT05331872" / "protocol.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data["cell_product"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(tmp_path))

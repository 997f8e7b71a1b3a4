"""Release: pass / fail computed by the core against NCT05331872's specification; a lot
that fails (here: endotoxin) cannot be released, by the service or by the database; the
release is an electronic signature (password re-entered)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from tests.cellproduct.conftest import (
    GOOD_RESULTS,
    PASSWORD,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
)

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import DoseUnit, LotRelease
from trialdesk.cellproduct.services import release
from trialdesk.conduct.errors import ConductError

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(cell_setup):
    _, collection = donor_with_collection(cell_setup)
    return processed_lot(cell_setup, collection, "VM-L1")


def test_a_passing_lot_is_released_with_a_signature(cell_setup, lot):
    record_results(cell_setup, lot)
    verdict = release.lot_verdict(lot)
    assert verdict.passed
    assert {t.name: t.passed for t in lot.tests.all()} == dict.fromkeys(GOOD_RESULTS, True)
    with pytest.raises(ConductError, match="meaning of a lot release signature is one of"):
        release.release_lot(lot, lab(cell_setup), password=PASSWORD, meaning="looks fine")
    with pytest.raises(ConductError, match="password is not correct"):
        release.release_lot(lot, lab(cell_setup), password="wrong", meaning=release.RELEASE_MEANING)
    assert not LotRelease.objects.exists()
    r = release.release_lot(
        lot, lab(cell_setup), password=PASSWORD, meaning=release.RELEASE_MEANING
    )
    assert r.passed and r.printed_name == "Cell-Lab Staff VINMEC"
    assert {i["name"] for i in r.verdict} >= {"endotoxin", "CD14 or CD11b", "endotoxin_dose"}
    with pytest.raises(CellProductError, match="already released"):
        release.release_lot(lot, lab(cell_setup), password=PASSWORD, meaning="again")
    with pytest.raises(CellProductError, match="results are final"):
        release.record_release_test(
            lot, lab(cell_setup), name="viability", value="50", unit="%", tested_at=timezone.now()
        )


def test_a_failed_endotoxin_test_blocks_release(cell_setup, lot):
    record_results(cell_setup, lot, {**GOOD_RESULTS, "endotoxin": ("0.8", "EU/mL")})
    endotoxin = lot.tests.get(name="endotoxin")
    assert endotoxin.passed is False
    assert "0.8" in endotoxin.reason and "<= 0.5" in endotoxin.reason
    with pytest.raises(CellProductError, match="cannot be released: endotoxin: .*does not meet"):
        release.release_lot(lot, lab(cell_setup), password=PASSWORD, meaning="release")
    assert not LotRelease.objects.exists()


def test_a_missing_test_blocks_release(cell_setup, lot):
    results = dict(GOOD_RESULTS)
    del results["mycoplasma"]
    record_results(cell_setup, lot, results)
    with pytest.raises(CellProductError, match="mycoplasma: no result"):
        release.release_lot(lot, lab(cell_setup), password=PASSWORD, meaning="release")


def test_the_database_refuses_a_failing_release_and_a_unit_from_an_unreleased_lot(cell_setup, lot):
    """Written around the service (as raw code could): the triggers and the check refuse."""
    s = cell_setup
    record_results(s, lot, {**GOOD_RESULTS, "endotoxin": ("0.8", "EU/mL")})
    fields = dict(
        lot=lot,
        verdict=[],
        signer=lab(s),
        printed_name="x",
        meaning="x",
        signed_at=timezone.now(),
        released_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LotRelease.objects.bulk_create([LotRelease(passed=True, **fields)])
    with pytest.raises(IntegrityError), transaction.atomic():
        LotRelease.objects.bulk_create([LotRelease(passed=False, **fields)])
    (p,) = enrolled_vinmec(s, 1)
    from trialdesk.cellproduct.models import ChainOfIdentity

    chain = ChainOfIdentity.objects.bulk_create(
        [ChainOfIdentity(participant=p, coi="COI0000000000000")]
    )[0]
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        DoseUnit.objects.bulk_create(
            [
                DoseUnit(
                    lot=lot, participant=p, chain=chain, division="A0", unit_id="X",
                    dose_level="DL1", cells=1, volume_ml=15, cells_per_ml=1,
                    prepared_at=now, expires_at=now + timedelta(hours=1),
                )
            ]
        )  # fmt: skip


def test_a_result_in_another_unit_is_converted_and_a_bad_one_named(cell_setup, lot):
    s = cell_setup
    t = release.record_release_test(
        lot, lab(s), name="viable_cell_concentration", value="5000", unit="10*3/mL",
        tested_at=timezone.now(),
    )  # fmt: skip
    assert t.passed is True  # 5000 x10^3/mL = 5 x10^6/mL >= 1 x10^6/mL
    with pytest.raises(CellProductError, match="viability") as err:
        release.record_release_test(
            lot, lab(s), name="viability", value="120", unit="%", tested_at=timezone.now()
        )
    assert err.value.field == "value"
    assert not lot.tests.filter(name="viability").exists()  # nothing half written
    with pytest.raises(CellProductError, match="not in the release specification"):
        release.record_release_test(
            lot, lab(s), name="potency", value="1", unit="%", tested_at=timezone.now()
        )

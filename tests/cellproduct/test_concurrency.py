"""Dose units prepared at the same moment from one donation get distinct division codes and
never draw more than the lot holds: real concurrent transactions on PostgreSQL (the donation
row is locked while a unit is prepared)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from tests.cellproduct.conftest import (
    PASSWORD,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
)

from trialdesk.cellproduct.models import DoseUnit
from trialdesk.cellproduct.services import doses, release
from trialdesk.conduct.errors import ConductError

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_simultaneous_preparations_from_one_lot(cell_setup):
    assert connection.vendor == "postgresql"
    s = cell_setup
    people = enrolled_vinmec(s, 10)
    _, collection = donor_with_collection(s)
    lot = processed_lot(s, collection, "VM-L1")  # 100 ml at 5 x10^6/ml: 8 doses of 12 ml
    record_results(s, lot)
    release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
    lot.refresh_from_db()
    barrier = threading.Barrier(len(people))
    results: dict[int, str] = {}

    def prepare(p):
        try:
            barrier.wait(timeout=60)
            unit = doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal(60))
            results[p.pk] = unit.division
        except ConductError as exc:
            results[p.pk] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=prepare, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 10
    made = [r for r in results.values() if len(r) == 2]
    assert sorted(made) == ["A0", "B0", "C0", "D0", "E0", "F0", "G0", "H0"], results
    refused = [r for r in results.values() if len(r) != 2]
    assert len(refused) == 2 and all("mL left" in r for r in refused), refused
    assert sum(u.lot_volume_ml for u in DoseUnit.objects.all()) == Decimal(96)

"""End to end (issue 13): one donor -> two lots -> four dose units -> four participants, each
infused after a bedside check; the wrong participant is refused; the trace runs both ways
(service, command line); the audit chain covers every record and verifies."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from django.utils import timezone
from tests.cellproduct.conftest import (
    PASSWORD,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
)
from tests.conduct.test_audit import tamper

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import BedsideCheck, DoseUnit
from trialdesk.cellproduct.services import bedside, doses, release
from trialdesk.cellproduct.services.trace import trace
from trialdesk.cli import main
from trialdesk.conduct.audit import verify
from trialdesk.conduct.models import AuditChainEntry, DosingRecord

pytestmark = pytest.mark.django_db


def nurse(s):
    return s.users[("VINMEC", "investigator")]


@pytest.fixture
def chain(cell_setup):
    """One donor, two released lots, four participants, four prepared units (two a lot)."""
    s = cell_setup
    people = enrolled_vinmec(s, 4)
    donor, collection = donor_with_collection(s)
    lots = []
    for number in ("VM-L1", "VM-L2"):
        lot = processed_lot(s, collection, number)
        record_results(s, lot)
        release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
        lot.refresh_from_db()
        lots.append(lot)
    weights = [Decimal(55), Decimal(60), Decimal(65), Decimal(70)]
    units = [
        doses.prepare_dose(lots[i // 2], p, lab(s), body_weight_kg=weights[i])
        for i, p in enumerate(people)
    ]
    return s, donor, collection, lots, people, units


def infuse(s, p, scanned, **over):
    start = timezone.now()
    args = dict(started_at=start, ended_at=start, route="intravenous")
    args.update(over)
    return bedside.infuse(p, scanned, nurse(s), **args)


def test_one_donor_two_lots_four_doses_four_participants(chain):
    s, donor, collection, lots, people, units = chain
    assert [u.division for u in units] == ["A0", "B0", "C0", "D0"]
    assert len({u.unit_id for u in units}) == 4
    for p, u in zip(people, units, strict=True):
        infused = infuse(s, p, u.unit_id)
        assert infused.dosing_record.participant == p
        assert infused.dosing_record.cells == u.cells
        assert infused.dosing_record.product_lot == u.unit_id
    assert DosingRecord.objects.count() == 4
    assert BedsideCheck.objects.filter(ok=True).count() == 4

    (forward,) = trace(collection.din.display)
    assert forward.donor == donor.code
    assert [lot.lot for lot in forward.lots] == ["VM-L1", "VM-L2"]
    assert [len(lot.units) for lot in forward.lots] == [2, 2]
    assert forward.participants == sorted(p.participant_id for p in people)
    assert all(u.infused_at is not None for lot in forward.lots for u in lot.units)
    for p in people:
        (back,) = trace(p.participant_id)
        assert back.donors == [donor.code]
        assert [src.donation_id for src in back.sources] == [collection.din.keyed]

    runner = CliRunner()
    out = runner.invoke(main, ["trace", collection.din.keyed])
    assert out.exit_code == 0, out.output
    assert f"donor {donor.code}" in out.output
    for p in people:
        assert f"participant {p.participant_id}" in out.output
    back = runner.invoke(main, ["trace", people[3].participant_id, "--json"])
    assert back.exit_code == 0, back.output
    (data,) = json.loads(back.output)
    assert data["sources"][0]["donor"] == donor.code
    assert data["sources"][0]["unit"]["lot"] == "VM-L2"
    bad = runner.invoke(main, ["trace", "G123498654321J"])
    assert bad.exit_code == 1 and "bad check character" in bad.output


def test_the_wrong_participant_is_refused_at_the_bedside(chain):
    s, _, _, _, people, units = chain
    with pytest.raises(CellProductError, match="prepared for participant .* not for") as err:
        infuse(s, people[1], units[0].unit_id)
    assert err.value.field == "scanned"
    refusal = BedsideCheck.objects.get(ok=False)
    assert refusal.participant == people[1] and refusal.unit is None
    assert f"prepared for participant {people[0].participant_id}" in refusal.reasons
    assert not DosingRecord.objects.exists()
    assert refusal.history.get().history_user == nurse(s)  # the refusal is in the audit trail


def test_bedside_refuses_a_mistyped_id_an_expired_and_a_used_unit(chain):
    s, _, _, _, people, units = chain
    unit = units[0]
    typo = unit.unit_id[:-1] + ("A" if unit.unit_id[-1] != "A" else "B")
    with pytest.raises(CellProductError, match="check character"):
        infuse(s, people[0], typo)
    late = unit.expires_at + timedelta(minutes=5)
    check = bedside.check_unit(people[0], unit.unit_id, nurse(s), now=late)
    assert not check.ok and "expired" in check.reasons
    infuse(s, people[0], unit.unit_id)
    with pytest.raises(CellProductError, match="already infused"):
        infuse(s, people[0], unit.unit_id)
    assert DosingRecord.objects.count() == 1
    assert BedsideCheck.objects.filter(ok=False).count() == 3


def test_the_audit_chain_covers_the_cell_product_and_verifies(chain):
    s, _, collection, lots, people, units = chain
    infuse(s, people[0], units[0].unit_id)
    tables = set(AuditChainEntry.objects.values_list("table", flat=True))
    assert {
        "cellproduct_historicaldonor",
        "cellproduct_historicalcollection",
        "cellproduct_historicalproductlot",
        "cellproduct_historicallotrelease",
        "cellproduct_historicaldoseunit",
        "cellproduct_historicalbedsidecheck",
    } <= tables
    assert verify() == []
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    exported = CliRunner().invoke(main, ["audit", "export", "--format", "json"])
    rows = json.loads(exported.stdout)
    kinds = {r["record_type"] for r in rows if r["user"] == lab(s).username}
    assert {"donor", "collection", "productlot", "lotrelease", "doseunit"} <= kinds
    # an edit of a cell-product history row is found
    history = DoseUnit.history.model
    row = history.objects.filter(id=units[0].pk).first()
    tamper(
        history._meta.db_table,
        f"UPDATE {history._meta.db_table} SET cells = 1 WHERE history_id = %s",
        [row.history_id],
    )
    problems = verify()
    assert any("cellproduct_historicaldoseunit" in p and "changed" in p for p in problems)


@pytest.mark.postgres_only
def test_postgresql_keeps_the_cell_product_history_append_only(chain):
    from django.db import DatabaseError, connection, transaction

    table = DoseUnit.history.model._meta.db_table
    for sql in (f"UPDATE {table} SET cells = 1", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="history is append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)
    assert verify() == []


@pytest.mark.parametrize("on_breach", ["block", "deviation"])
def test_a_thaw_too_long_before_the_infusion(cell_setup, tmp_path, monkeypatch, on_breach):
    """A protocol limit thaw -> infusion_start of 4 h (neither seed protocol freezes its
    product: this one is added to a copy): 5 h after the thaw the infusion is refused
    (block) or given and recorded as a deviation."""
    from tests.cellproduct.conftest import edited_protocols

    from trialdesk.cellproduct.models import ProductDeviation
    from trialdesk.cellproduct.services import records

    def add(section):
        section["time_limits"].append(
            {"id": "thaw_to_infusion", "from": "thaw", "to": "infusion_start", "hours": 4,
             "on_breach": on_breach, "source": "test"}
        )  # fmt: skip

    edited_protocols(tmp_path, monkeypatch, add)
    s = cell_setup
    (p,) = enrolled_vinmec(s, 1)
    _, collection = donor_with_collection(s)
    lot = processed_lot(s, collection, "VM-L1")
    cryo = records.record_cryopreservation(
        lot, lab(s), frozen_at=lot.processing_started_at + timedelta(days=7),
        cryoprotectant="10% DMSO", containers=2, storage_location="LN2 tank 2",
    )  # fmt: skip
    start = timezone.now()
    records.record_thaw(
        cryo, lab(s), thawed_at=start - timedelta(hours=5), post_thaw_viability_pct=90
    )
    record_results(s, lot)
    release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
    lot.refresh_from_db()
    unit = doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal(60))
    if on_breach == "block":
        with pytest.raises(CellProductError, match="exceeds the limit of 4 h"):
            infuse(s, p, unit.unit_id)
        assert not DosingRecord.objects.exists()
    else:
        infuse(s, p, unit.unit_id)
        (deviation,) = ProductDeviation.objects.all()
        assert deviation.limit == "thaw_to_infusion" and unit.unit_id in deviation.description

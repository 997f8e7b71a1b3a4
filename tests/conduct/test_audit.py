"""The audit trail's hash chain and export: ``trialdesk audit verify`` finds an edited or
deleted history row, a row written around the chain and a tampered chain."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from django.db import connection
from tests.conduct.conftest import screen_bj

from trialdesk.cli import main
from trialdesk.conduct import services
from trialdesk.conduct.models import AuditChainEntry, Participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def screened(setup):
    p = screen_bj(setup)
    services.correct_participant(
        p, setup.users[("BJ302", "data manager")], reason="initials misread", initials="NVB"
    )
    return p


def run(*args):
    return CliRunner().invoke(main, ["audit", *args])


def test_intact_history_verifies(screened):
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert "audit trail intact" in result.output
    assert AuditChainEntry.objects.count() >= 4


def table(model):
    return model.history.model._meta.db_table


def tamper(table_name, sql, params):
    """Run ``sql`` as someone with DDL rights on the table would: on PostgreSQL the
    append-only trigger is switched off first (a role without those rights cannot)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
            cur.execute(f'ALTER TABLE "{table_name}" DISABLE TRIGGER USER')
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute(f'ALTER TABLE "{table_name}" ENABLE TRIGGER USER')


def test_an_edited_history_row_is_found(screened):
    tamper(
        table(Participant),
        f"UPDATE {table(Participant)} SET initials = 'ZZZ' WHERE history_change_reason = %s",
        ["initials misread"],
    )
    result = run("verify")
    assert result.exit_code == 1
    assert "was changed after it was written" in result.output


def test_a_deleted_history_row_is_found(screened):
    tamper(
        table(Participant),
        f"DELETE FROM {table(Participant)} WHERE history_change_reason = %s",
        ["initials misread"],
    )
    result = run("verify")
    assert result.exit_code == 1
    assert "the history row was deleted" in result.output


def test_a_removed_chain_entry_and_an_unchained_row_are_found(screened):
    last = AuditChainEntry.objects.order_by("-id").first()
    entries = AuditChainEntry._meta.db_table
    tamper(entries, f"DELETE FROM {entries} WHERE id = %s", [last.pk])
    output = run("verify").output
    assert "not in the chain" in output
    assert "does not match the entries" in output


def test_export_csv_and_json(screened, tmp_path):
    result = run("export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    change = [r for r in rows if r["reason"] == "initials misread"]
    assert len(change) == 1
    assert change[0]["user"] == "bj302-data-manager" and change[0]["action"] == "changed"
    assert change[0]["at_utc"].endswith("+00:00")
    out = tmp_path / "audit.json"
    assert run("export", "--format", "json", "--out", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    assert {r["record_type"] for r in data} >= {"participant", "eligibilityassessment"}


@pytest.mark.postgres_only
def test_postgresql_refuses_edits_and_deletions_of_history(screened):
    from django.db import DatabaseError, transaction

    for sql in (
        f"UPDATE {table(Participant)} SET initials = 'ZZZ'",
        f"DELETE FROM {table(Participant)}",
        f"DELETE FROM {AuditChainEntry._meta.db_table}",
    ):
        with pytest.raises(DatabaseError, match="history is append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)
    assert run("verify").exit_code == 0

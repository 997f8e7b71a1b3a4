"""``trialdesk audit export`` and ``trialdesk audit verify``: the conduct audit trail."""

from __future__ import annotations

import csv
import json
import sys

import click

from trialdesk.cli._django import setup

FIELDS = ["record_type", "record_id", "history_id", "action", "at_utc", "user", "reason", "values"]


@click.group()
def audit() -> None:
    """The audit trail of clinical data (history tables with a hash chain)."""


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
def export(fmt: str, out: str | None) -> None:
    """Every history row: who, when (UTC), action, reason and the values written."""
    setup()
    import getpass

    from trialdesk.conduct.audit import export_rows
    from trialdesk.conduct.models import AccessEvent

    rows = list(export_rows())
    AccessEvent.objects.create(
        kind="audit_export",
        username=getpass.getuser(),
        detail=f"{len(rows)} rows as {fmt} to {out or 'stdout'}"[:300],
    )
    stream = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            json.dump(rows, stream, ensure_ascii=False, indent=1)
            stream.write("\n")
        else:
            writer = csv.DictWriter(stream, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if out:
            stream.close()
    if out:
        click.echo(f"{len(rows)} history rows written to {out}", err=True)


@audit.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 naming every edited, deleted or unchained row."""
    setup()
    from trialdesk.conduct.audit import head_summary
    from trialdesk.conduct.audit import verify as run_verify
    from trialdesk.conduct.models import AuditChainHead

    problems = run_verify()
    if problems:
        for p in problems:
            click.echo(p, err=True)
        click.echo(head_summary(), err=True)
        raise click.ClickException(f"audit trail check failed: {len(problems)} problem(s)")
    head = AuditChainHead.objects.filter(pk=1).first()
    n = head.length if head else 0
    last = head.last_hash if head else "-"
    click.echo(f"audit trail intact: {n} history rows chained, head {last}")


COMMANDS = [audit]

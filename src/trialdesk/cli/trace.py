"""``trialdesk trace ID``: a donation forward to every lot, dose unit and participant, or a
participant (id, screening number or chain-of-identity id) back to the donors."""

from __future__ import annotations

import json

import click

from trialdesk.cli._django import setup


def _when(value) -> str:  # noqa: ANN001
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "not yet"


@click.command("trace")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
def trace(identifier: str, as_json: bool) -> None:
    """Trace a DONATION-ID (ISBT 128 DIN with its check character) or a PARTICIPANT-ID."""
    setup()
    from dataclasses import asdict

    from trialdesk.cellproduct.services.trace import DonationTrace
    from trialdesk.cellproduct.services.trace import trace as run_trace
    from trialdesk.conduct.errors import ConductError

    try:
        results = run_trace(identifier)
    except ConductError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], indent=1, default=str))
        return
    for r in results:
        if isinstance(r, DonationTrace):
            click.echo(f"donation {r.donation_id}  donor {r.donor}  {r.study}")
            click.echo(f"  delivered {_when(r.delivered_at)}")
            for lot in r.lots:
                status = f"released by {lot.released_by}" if lot.released else "not released"
                click.echo(f"  lot {lot.lot} ({status})")
                for u in lot.units:
                    click.echo(
                        f"    unit {u.unit_id} -> participant {u.participant} ({u.site}, "
                        f"{u.chain_of_identity}) {u.cells} cells, infused {_when(u.infused_at)}"
                    )
                if not lot.units:
                    click.echo("    no dose unit")
            click.echo(f"  participants: {', '.join(r.participants) or 'none'}")
        else:
            coi = r.chain_of_identity or "no chain of identity yet"
            click.echo(f"participant {r.participant}  {r.study}  {r.site}  {coi}")
            for src in r.sources:
                u = src.unit
                click.echo(
                    f"  unit {u.unit_id} (lot {u.lot}, infused {_when(u.infused_at)}) <- "
                    f"donation {src.donation_id} <- donor {src.donor}"
                )
            if not r.sources:
                click.echo("  no dose unit")
            click.echo(f"  donors: {', '.join(r.donors) or 'none'}")


COMMANDS = [trace]

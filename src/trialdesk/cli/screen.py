"""Eligibility commands: ``trialdesk screen``, ``trialdesk match``, ``trialdesk prescreen``,
``trialdesk cohort-synth``.

- ``screen NCT_ID PATIENT [--date] [--json]``: one patient, one trial (docs/eligibility.md).
- ``match PATIENT``: every registry trial, eligible first, then fewest unknowns.
- ``prescreen NCT_ID COHORT --out RESULT``: a whole cohort (Parquet/CSV), vectorized.
- ``cohort-synth N OUT``: a synthetic cirrhosis cohort for tests and benchmarks.

Protocols are read from $TRIALDESK_PROTOCOLS (default ./protocols).
"""

from __future__ import annotations

import json
from datetime import date

import click


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from None


def _attestations(values: tuple[str, ...]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for item in values:
        cid, _, answer = item.partition("=")
        answer = answer.strip().lower()
        if not cid or answer not in ("yes", "no", "true", "false"):
            raise click.BadParameter(f"{item!r}: write ID=yes or ID=no", param_hint="--attest")
        out[cid.strip()] = answer in ("yes", "true")
    return out


def _load_patient(path: str, complete: bool | None, attest: tuple[str, ...]):  # noqa: ANN202
    from dataclasses import replace

    from trialdesk.eligibility import PatientError, load_patient

    try:
        patient = load_patient(path, history_complete=complete)
    except PatientError as exc:
        raise click.ClickException(str(exc)) from None
    answers = _attestations(attest)
    if answers:
        patient = replace(patient, attestations={**patient.attestations, **answers})
    return patient


def _load_protocol(nct_id: str):  # noqa: ANN202
    from trialdesk.protocol import ProtocolError, find_protocol, load_protocol

    try:
        return load_protocol(find_protocol(nct_id))
    except ProtocolError as exc:
        raise click.ClickException(str(exc)) from None


_STYLE = {
    "MET": "green",
    "NOT_MET": "red",
    "UNKNOWN": "yellow",
    "ELIGIBLE": "bold green",
    "INELIGIBLE": "bold red",
    "INCOMPLETE": "bold yellow",
}


def _print_result(result) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"{result.nct_id} — patient {result.patient_id} — screening "
        f"{result.screening_date.isoformat()}",
        show_lines=False,
        expand=True,
    )
    table.add_column("criterion", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("reason")
    for c in result.criteria:
        shown = c.status
        if c.kind == "exclusion" and c.status == "MET":
            shown = "MET (excluded)"
        if c.attestation_pending:
            shown = "PENDING"
        table.add_row(c.id, f"[{_STYLE[c.status]}]{shown}[/]", c.reason)
    console.print(table)
    console.print(f"Overall: [{_STYLE[result.overall]}]{result.overall}[/]")
    for r in result.reasons if result.overall != "ELIGIBLE" else ():
        console.print(f"  - {r}", markup=False)
    if result.missing:
        console.print("Missing: " + "; ".join(result.missing), markup=False)
    if result.pending_attestations:
        console.print("Attestations pending (investigator):", markup=False)
        for a in result.pending_attestations:
            console.print(f"  - {a}", markup=False)
    for n in result.notes:
        console.print(f"note: {n}", markup=False)


@click.command()
@click.argument("nct_id")
@click.argument("patient", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--date",
    "screening_date",
    metavar="YYYY-MM-DD",
    help="Screening date (default: the patient file's, else today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--complete-history/--no-complete-history",
    default=None,
    help="Treat the record as listing every condition, procedure and medication "
    "(absent = not present). Default: what the patient file says.",
)
@click.option(
    "--attest",
    multiple=True,
    metavar="ID=yes|no",
    help="An investigator attestation, e.g. --attest inc-1=yes (repeatable).",
)
def screen(
    nct_id: str,
    patient: str,
    screening_date: str | None,
    as_json: bool,
    complete_history: bool | None,
    attest: tuple[str, ...],
) -> None:
    """Screen one PATIENT (FHIR R4 Bundle or plain JSON/YAML) against trial NCT_ID."""
    from trialdesk.eligibility import screen as run_screen

    protocol = _load_protocol(nct_id)
    person = _load_patient(patient, complete_history, attest)
    result = run_screen(protocol, person, _parse_date(screening_date))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _print_result(result)


COMMANDS = [screen]

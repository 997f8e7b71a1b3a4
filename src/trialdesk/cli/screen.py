"""Eligibility commands for one patient: ``trialdesk screen``, ``trialdesk match``.

- ``screen NCT_ID PATIENT [--date] [--json]``: one patient, one trial (docs/eligibility.md).
- ``match PATIENT``: every registry trial, eligible first, then fewest unknowns.

Whole cohorts (``prescreen``, ``cohort-sql``, ``cohort-synth``) are in ``cli/cohort.py``.

Protocols are read from $TRIALDESK_PROTOCOLS (default ./protocols).
"""

from __future__ import annotations

import json
from datetime import date

import click


def parse_date_option(value: str | None) -> date | None:
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


def _screening_date(person, value: str | None, path: str) -> date:  # noqa: ANN001
    """The screening date (``--date``, else the patient file's, else today); a birth date
    after it is an error naming the file."""
    from trialdesk.eligibility import PatientError
    from trialdesk.eligibility.patient import check_birth_date

    when = parse_date_option(value) or person.screening_date or date.today()
    try:
        check_birth_date(person.birth_date, f"{path}: birth date", when)
    except PatientError as exc:
        raise click.ClickException(str(exc)) from None
    return when


def open_protocol(nct_id: str):  # noqa: ANN202
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

    protocol = open_protocol(nct_id)
    person = _load_patient(patient, complete_history, attest)
    result = run_screen(protocol, person, _screening_date(person, screening_date, patient))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _print_result(result)


_RANK = {"ELIGIBLE": 0, "INCOMPLETE": 1, "INELIGIBLE": 2}


def match_patient(person, when: date | None) -> list[dict]:  # noqa: ANN001
    """Screen ``person`` against every registry trial (Django must be set up).

    Order: ELIGIBLE, INCOMPLETE, INELIGIBLE, then trials without a protocol.yaml ("no
    computable criteria"); within each, fewest unknown criteria first, then NCT id.
    """
    from trialdesk.eligibility import screen as run_screen
    from trialdesk.protocol import ProtocolError, load_protocol, protocols_dir
    from trialdesk.registry.models import Trial

    base = protocols_dir()
    rows: list[dict] = []
    for nct_id, title in Trial.objects.order_by("nct_id").values_list("nct_id", "brief_title"):
        path = base / nct_id / "protocol.yaml"
        row: dict = {"trial": nct_id, "title": title}
        if not path.is_file():
            row.update(overall="no computable criteria", unknown=None, rank=3)
        else:
            try:
                protocol = load_protocol(path)
            except ProtocolError as exc:
                row.update(overall="protocol error", error=str(exc), unknown=None, rank=4)
            else:
                result = run_screen(protocol, person, when)
                row.update(
                    overall=result.overall,
                    unknown=result.unknown_count,
                    rank=_RANK[result.overall],
                    blocking=[c.id for c in result.criteria if c.blocks],
                    pending_attestations=len(result.pending_attestations),
                    missing=list(result.missing),
                )
        rows.append(row)
    rows.sort(
        key=lambda r: (r["rank"], r["unknown"] if r["unknown"] is not None else 0, r["trial"])
    )
    for r in rows:
        r.pop("rank")
    return rows


@click.command()
@click.argument("patient", type=click.Path(exists=True, dir_okay=False))
@click.option("--date", "screening_date", metavar="YYYY-MM-DD", help="Screening date.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--complete-history/--no-complete-history",
    default=None,
    help="Treat the record as listing every condition, procedure and medication.",
)
@click.option(
    "--attest",
    multiple=True,
    metavar="ID=yes|no",
    help="An investigator attestation (applies to every trial with that id).",
)
def match(
    patient: str,
    screening_date: str | None,
    as_json: bool,
    complete_history: bool | None,
    attest: tuple[str, ...],
) -> None:
    """Every trial in the registry for one PATIENT: eligible first, then fewest unknowns."""
    from trialdesk.cli._django import setup

    person = _load_patient(patient, complete_history, attest)
    when = _screening_date(person, screening_date, patient)
    setup()
    rows = match_patient(person, when)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "patient": person.id,
                    "screening_date": when.isoformat(),
                    "trials": rows,
                },
                ensure_ascii=False,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Trials for patient {person.id}", expand=True)
    table.add_column("trial", no_wrap=True)
    table.add_column("overall", no_wrap=True)
    table.add_column("unknown", justify="right")
    table.add_column("title / why")
    for r in rows:
        style = _STYLE.get(r["overall"], "dim")
        why = r["title"]
        if r.get("blocking"):
            why += f" [red](excluded by {', '.join(r['blocking'])})[/]"
        if r.get("error"):
            why += f" [red]{r['error']}[/]"
        table.add_row(
            r["trial"],
            f"[{style}]{r['overall']}[/]",
            "" if r["unknown"] is None else str(r["unknown"]),
            why,
        )
    Console().print(table)
    if not rows:
        click.echo("The registry has no trials (import some with 'trialdesk registry import').")


COMMANDS = [screen, match]

"""Eligibility commands for whole cohorts: ``trialdesk prescreen``, ``trialdesk cohort-sql``,
``trialdesk cohort-synth``.

- ``prescreen NCT_ID COHORT --out RESULT``: a whole cohort (Parquet/CSV), vectorized.
- ``cohort-sql NCT_ID``: the same screening as one SQL query (DuckDB, PostgreSQL, Spark).
- ``cohort-synth N OUT``: a synthetic cirrhosis cohort for tests and benchmarks.

Protocols are read from $TRIALDESK_PROTOCOLS (default ./protocols).
"""

from __future__ import annotations

import json
from datetime import date

import click

from trialdesk.cli.screen import open_protocol, parse_date_option


def _progress_bar(label: str):  # noqa: ANN202
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


@click.command()
@click.argument("nct_id")
@click.argument("cohort", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Result file (Parquet): patient_id, overall, n_unknown, one status per criterion.",
)
@click.option(
    "--date",
    "screening_date",
    metavar="YYYY-MM-DD",
    help="Screening date for every patient (default: today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def prescreen(
    nct_id: str, cohort: str, out: str, screening_date: str | None, as_json: bool
) -> None:
    """Screen a whole COHORT table (Parquet or CSV, one row per patient) against NCT_ID."""
    import sys
    import time

    from polars.exceptions import PolarsError

    from trialdesk.eligibility.cohort import CompileError
    from trialdesk.eligibility.vectorized import prescreen_file

    protocol = open_protocol(nct_id)
    when = parse_date_option(screening_date) or date.today()
    started = time.perf_counter()
    show = not as_json and sys.stderr.isatty()
    try:
        if show:
            with _progress_bar("prescreen") as bar:
                task = bar.add_task(f"{nct_id}", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                summary = prescreen_file([protocol], cohort, out, when, progress)
        else:
            shown = [-1]  # last tenth printed: at most 11 lines, however many batches

            def progress(done: int, total: int) -> None:
                tenth = 10 * done // total if total else 10
                if not as_json and tenth > shown[0]:
                    shown[0] = tenth
                    click.echo(f"{done}/{total} patients", err=True)

            summary = prescreen_file([protocol], cohort, out, when, progress)
    except (CompileError, OSError, ValueError) as exc:
        message = str(exc)  # the core's errors may name the file already
        named = message if message.startswith(f"{cohort}:") else f"{cohort}: {message}"
        raise click.ClickException(named) from None
    except PolarsError as exc:  # a file that is not the table its name says (binary, zip)
        raise click.ClickException(
            f"{cohort}: not a readable cohort table ({type(exc).__name__}: {exc}); "
            "expected a Parquet file or a UTF-8 CSV file, one row per patient"
        ) from None
    elapsed = time.perf_counter() - started
    counts = summary["counts"][protocol.nct_id]
    result = {
        "trial": protocol.nct_id,
        "screening_date": when.isoformat(),
        "patients": summary["rows"],
        "overall": counts,
        "out": out,
        "missing_columns": summary["missing_columns"],
        "seconds": round(elapsed, 3),
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"{protocol.nct_id}: {summary['rows']} patients in {elapsed:.2f} s -> {out}")
    for status in ("ELIGIBLE", "INCOMPLETE", "INELIGIBLE"):
        click.echo(f"  {status:<11} {counts.get(status, 0)}")
    if summary["missing_columns"]:
        click.echo(
            "  columns not in the cohort (unknown for everyone): "
            + ", ".join(summary["missing_columns"])
        )


@click.command("cohort-sql")
@click.argument("nct_id")
@click.option("--date", "screening_date", metavar="YYYY-MM-DD", help="Screening date.")
@click.option("--table", default="cohort", show_default=True, help="Table to read.")
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "postgresql", "spark"]),
    default="duckdb",
    show_default=True,
)
def cohort_sql_command(nct_id: str, screening_date: str | None, table: str, dialect: str) -> None:
    """Print the SQL (DuckDB / PostgreSQL) that screens a cohort table against NCT_ID."""
    from trialdesk.eligibility.cohort import CompileError
    from trialdesk.eligibility.vectorized import cohort_sql

    protocol = open_protocol(nct_id)
    try:
        click.echo(
            cohort_sql(
                protocol, parse_date_option(screening_date) or date.today(), table, dialect=dialect
            )
        )
    except CompileError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("cohort-synth")
@click.argument("n", type=click.IntRange(min=0))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--date",
    "screening_date",
    metavar="YYYY-MM-DD",
    help="Screening date the synthetic dates are relative to (default: today).",
)
def cohort_synth(n: int, out: str, seed: int, screening_date: str | None) -> None:
    """Write N synthetic cirrhosis patients to OUT (.parquet or .csv)."""
    from trialdesk.eligibility.synth import write_synthetic_cohort

    if not out.lower().endswith((".parquet", ".csv")):
        raise click.BadParameter("OUT must end in .parquet or .csv", param_hint="OUT")
    when = parse_date_option(screening_date) or date.today()
    with _progress_bar("synth") as bar:
        task = bar.add_task("cohort", total=n)
        write_synthetic_cohort(
            out, n, seed, when, progress=lambda done, total: bar.update(task, completed=done)
        )
    click.echo(f"wrote {n} patients to {out}")


COMMANDS = [prescreen, cohort_sql_command, cohort_synth]

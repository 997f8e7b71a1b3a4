"""``trialdesk registry``: import, export and search the public trial registry."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import click

from trialdesk.cli._django import setup


@click.group()
def registry() -> None:
    """The public trial registry (CT.gov API v2 records): import, export, search."""


def _database_errors():
    from django.db import OperationalError, ProgrammingError

    return (OperationalError, ProgrammingError)


def _no_tables(exc: Exception) -> click.ClickException:
    return click.ClickException(f"the database is not ready ({exc}); run `trialdesk migrate` first")


@registry.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Processes that read and validate files (default: one per CPU, at most 4; 0 = none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def import_(paths: tuple[str, ...], workers: int | None, as_json: bool) -> None:
    """Import study JSON from files, folders and .zip archives (API v2: one study, a list, or
    pages {"studies": [...]}).

    Each file is one transaction: a file with any bad record imports nothing and is named
    with the JSON path of the problem; the other files still import. Re-importing updates
    changed trials and never duplicates. Exits non-zero when any file failed.
    """
    setup()
    from trialdesk.registry.importer import import_paths

    try:
        if sys.stderr.isatty():
            report = _import_with_bar(paths, workers)
        else:

            def progress(p) -> None:
                state = "ok" if p.ok else "FAILED"
                click.echo(
                    f"[{p.sources_done}/{p.sources_total}] {p.source}: {state} "
                    f"({p.records_done} records so far, {p.elapsed:.1f} s)",
                    err=True,
                )

            report = import_paths(paths, progress=progress, workers=workers)
    except _database_errors() as exc:
        raise _no_tables(exc) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(report.summary())
    for source, error in report.failures:
        click.echo(f"FAILED {source}: {error}", err=True)
    if report.failures:
        names = ", ".join(source for source, _ in report.failures)
        raise click.ClickException(f"{len(report.failures)} file(s) failed: {names}")


def _import_with_bar(paths, workers):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from trialdesk.registry.importer import import_paths

    console = Console(stderr=True)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]} records  {task.fields[name]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("import", total=None, records=0, name="")

        def progress(p) -> None:
            bar.update(
                task,
                total=p.sources_total,
                completed=p.sources_done,
                records=p.records_done,
                name=os.path.basename(p.source),
            )
            if not p.ok:
                console.print(f"[red]FAILED[/red] {p.source}")

        return import_paths(paths, progress=progress, workers=workers)


@registry.command()
def reindex() -> None:
    """Rebuild the SQLite text index (Tantivy, beside the database file) from the database.

    Imports keep it up to date; a search uses it only while it holds the database's current
    state, and otherwise answers through SQLite FTS5 (slower for common words). Run this
    after changes the index could not follow (e.g. while another process held it)."""
    setup()
    from django.db import connection

    from trialdesk.registry import textindex, textsync

    path = textindex.path_for(connection)
    if path is None:
        raise click.ClickException(
            "no text index here: it serves SQLite databases (PostgreSQL searches its own "
            "tsvector), and TRIALDESK_TEXT_INDEX=0 turns it off"
        )
    start = time.perf_counter()
    try:
        n = textsync.rebuild(connection)
    except textindex.IndexBusy:
        raise click.ClickException(
            f"{path} is being written by another process (an import?); try again after it"
        ) from None
    except _database_errors() as exc:
        raise _no_tables(exc) from None
    click.echo(f"indexed {n:,} trial(s) in {path} ({time.perf_counter() - start:.1f} s)")


@registry.command()
@click.argument("nct_ids", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
def export(nct_ids: tuple[str, ...], out: str | None) -> None:
    """Write stored records back as CT.gov JSON: one study as an object, several as
    {"studies": [...]} in the order given. An unknown NCT id is an error (nothing written)."""
    setup()
    from trialdesk.registry.models import Trial

    wanted = [n.strip().upper() for n in nct_ids]
    try:
        records = dict(Trial.objects.filter(nct_id__in=wanted).values_list("nct_id", "record"))
    except _database_errors() as exc:
        raise _no_tables(exc) from None
    missing = [n for n in wanted if n not in records]
    if missing:
        raise click.ClickException(f"unknown NCT id(s): {', '.join(missing)}")
    if len(wanted) == 1:
        data = records[wanted[0]]
    else:
        data = {"studies": [records[n] for n in dict.fromkeys(wanted)]}
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, out)  # all or nothing
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    click.echo(f"wrote {len(wanted)} record(s) to {out}", err=True)


def _point(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lat, lon = (float(p) for p in value.split(","))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not LAT,LON (e.g. 21.03,105.85)", param_hint="--near"
        ) from None
    return lat, lon


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _filter_options(command):
    """The search command's filter options, made from the filter declarations
    (``registry.filters.FILTERS``), as the search form's and the API's are: an option per
    filter parameter (``--study-type``), typed and helped by its declaration, so a new
    filter needs no change here."""
    from trialdesk.registry.filters import FILTERS

    for f in reversed(FILTERS):  # click lists options in decorator order
        for name, param in reversed(f.query_parameters):
            text = f.help if name == f.name else f"The site's {name}. {f.help}"
            if f.codes:
                text += f" One of: {', '.join(f.codes)}."
            if f.multiple:
                text += " The option may be repeated."
            command = click.option(
                f"--{param.replace('_', '-')}",
                name,
                multiple=f.multiple,
                type=None if f.value_type is str else f.value_type,
                help=text,
            )(command)
    return command


def _filter_values(values: dict) -> dict:
    """``SearchQuery`` keywords from the filter options given (``_filter_options``)."""
    from trialdesk.registry.filters import FILTERS

    out = {}
    for f in FILTERS:
        for name, _ in f.query_parameters:
            value = values.pop(name)
            if f.multiple:  # repeated, and text also split at commas
                value = (_split(value) if f.value_type is str else tuple(value)) or None
            if value is not None and value != "":
                out[name] = value
    return out


@registry.command()
@click.argument("query", required=False, default="")
@_filter_options
@click.option("--condition", help="All these words in the trial's conditions.")
@click.option("--near", help="LAT,LON to measure site distances from.")
@click.option("--near-city", help='"City" or "City, Country" (from the stored sites).')
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def search(
    query: str,
    condition: str | None,
    near: str | None,
    near_city: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    **filter_options,
) -> None:
    """Search trials by text (words, "phrases", OR, -exclude) and filters.

    With text, results are ranked by relevance (titles weigh most); without, by NCT id.
    The filter options are those of the search page and the API (each declared once).
    """
    setup()
    from trialdesk.registry.search import SearchError, SearchQuery
    from trialdesk.registry.search import search as run_search

    try:
        q = SearchQuery(
            text=query,
            condition=condition,
            near=_point(near),
            near_city=near_city,
            page=page,
            per_page=per_page,
            **_filter_values(filter_options),
        )
        result = run_search(q)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    except _database_errors() as exc:
        raise _no_tables(exc) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    _print_table(result)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    located = result.origin is not None
    table = Table(show_lines=False)
    table.add_column("NCT id", no_wrap=True)
    table.add_column("Title")
    table.add_column("Status", no_wrap=True)
    table.add_column("Phase", no_wrap=True)
    table.add_column("Conditions")
    if result.text_query:
        table.add_column("Score", justify="right")
    if located:
        table.add_column("Nearest site")
        table.add_column("km", justify="right")
    for hit in result.results:
        row = [
            hit.nct_id,
            hit.brief_title,
            hit.overall_status,
            "/".join(hit.phases),
            "; ".join(hit.conditions),
        ]
        if result.text_query:
            row.append(f"{hit.score:.3g}" if hit.score is not None else "")
        if located:
            site = hit.nearest_site
            row.append(", ".join(p for p in (site.facility, site.city) if p) if site else "")
            row.append(f"{site.distance_km:.1f}" if site else "")
        table.add_row(*row)
    console.print(table)
    total = f"{result.total}" if result.total_exact else f"more than {result.total}"
    console.print(f"page {result.page} of {result.pages}, {total} trial(s)")


COMMANDS = [registry]

"""``trialdesk report NCT_ID --format html|pdf [--out FILE] [--data-cut DATE]``: the data
monitoring committee's safety and efficacy report of a trial conducted here (all sites)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

import click

from trialdesk.cli._django import setup


def write_whole(path: str, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all (a temporary file beside it, then
    renamed over it)."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".trialdesk-", suffix=".part")
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from e


def data_cut_option(value: str | None) -> datetime | None:
    """``YYYY-MM-DD`` -> the end of that day, UTC (everything recorded on it is in)."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--data-cut"
        ) from e
    return datetime.combine(day, time.max, tzinfo=UTC)


@click.command("report")
@click.argument("nct_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf"]),
    default="html",
    show_default=True,
    help="HTML (one self-contained file) or PDF.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="File to write (default: <NCT id>-dmc-report.<format>; '-' for stdout).",
)
@click.option(
    "--data-cut",
    metavar="YYYY-MM-DD",
    help="Data recorded up to the end of this day (UTC); default: now.",
)
def report(nct_id: str, fmt: str, out: str | None, data_cut: str | None) -> None:
    """The data monitoring committee's safety and efficacy report of NCT_ID: participant
    flow, dose escalation, change in MELD, adverse events and plots, from every site.
    Identical data (and data cut) gives identical bytes."""
    cut = data_cut_option(data_cut)
    setup()
    from trialdesk.conduct.services.report import ReportError, load_for_report, render

    try:
        ds, scope = load_for_report(nct_id, data_cut=cut)
        content = render(ds, fmt, scope=scope)
    except ReportError as e:
        raise click.ClickException(str(e)) from e
    target = out or f"{ds.nct_id}-dmc-report.{fmt}"
    if target == "-":
        sys.stdout.buffer.write(content)
        return
    write_whole(target, content)
    click.echo(
        f"{ds.nct_id}: {fmt.upper()} report, data cut {ds.data_cut:%Y-%m-%d %H:%M} UTC, "
        f"{len(ds.participants)} participants -> {target} ({len(content):,} bytes)",
        err=True,
    )


PLOTS = ("meld", "meld-na", "meld3", "ctp", "escalation", "swimmer", "flow")


@click.command("plot")
@click.argument("nct_id")
@click.argument("which", type=click.Choice(PLOTS))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="PNG or SVG file (by its suffix).",
)
@click.option("--data-cut", metavar="YYYY-MM-DD", help="As for trialdesk report.")
def plot(nct_id: str, which: str, out: str, data_cut: str | None) -> None:
    """One of the DMC report's plots of NCT_ID (every site) as PNG or SVG: a score over
    time (meld, meld-na, meld3, ctp), the escalation history, the swimmer plot of follow-up,
    or the participant flow. Identical data gives identical bytes."""
    fmt = out.rsplit(".", 1)[-1].lower()
    if fmt not in ("png", "svg"):
        raise click.BadParameter(f"{out!r}: the file must end in .png or .svg", param_hint="--out")
    cut = data_cut_option(data_cut)
    setup()
    from trialdesk.analysis import plots
    from trialdesk.conduct.services.report import ReportError, load_for_report
    from trialdesk.conduct.services.report_tables import flow_counts

    try:
        ds, _ = load_for_report(nct_id, data_cut=cut)
    except ReportError as e:
        raise click.ClickException(str(e)) from e
    scores = {"meld": "meld", "meld-na": "meld_na", "meld3": "meld3", "ctp": "ctp_points"}
    if which in scores:
        fig = plots.score_over_time(ds, scores[which])
    elif which == "escalation":
        if ds.design != "escalation":
            raise click.ClickException(f"{ds.nct_id} is a single-arm trial: no escalation plot")
        fig = plots.escalation_history(ds)
    elif which == "swimmer":
        fig = plots.swimmer_plot(ds)
    else:
        stages, reasons = flow_counts(ds)
        fig = plots.participant_flow(stages, reasons, title=f"Participant flow, {ds.nct_id}")
    content = plots.render(fig, fmt)
    write_whole(out, content)
    click.echo(f"{ds.nct_id}: {which} plot -> {out} ({len(content):,} bytes)", err=True)


COMMANDS = [report, plot]

"""Standard exports of a conducted trial's data.

    trialdesk export sdtm NCT05331872 --out DIR [--data-cut 2027-06-30] [--treatment NAME]
    trialdesk export odm NCT05331872 --out DIR
    trialdesk export results NCT05331872 --out DIR [--threshold 5] [--window-rule include]

``sdtm``: DM, EX, AE, DS, MH, IE, LB, VS as CSV, SAS XPT v5 and CDISC Dataset-JSON v1.1, with
``define.json``/``define.csv`` (dataset metadata); ``odm``: CDISC ODM 1.3.2 XML, validated
against its schema; ``results``: a ClinicalTrials.gov results-style JSON summary. Every file is
built and checked before any is moved into ``--out`` (nothing half written). The data is read
through ``trialdesk.conduct.services.dataset.load_dataset`` (all sites: an export is a
data-management task run on the server). docs/exports.md says what each file holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from trialdesk.cli._django import setup

_out = click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder."
)
_cut = click.option(
    "--data-cut",
    default=None,
    help="Data cut, ISO date or date-time in UTC (default: now). Records after it are left out.",
)


def _load(nct_id: str, data_cut: str | None):
    setup()
    from trialdesk.conduct.models import Study
    from trialdesk.conduct.services.dataset import load_dataset

    study = Study.objects.filter(nct_id=nct_id.upper()).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("nct_id", flat=True)) or "none"
        raise click.ClickException(f"{nct_id}: no such study conducted here (known: {known})")
    cut = None
    if data_cut:
        try:
            cut = datetime.fromisoformat(data_cut)
        except ValueError:
            raise click.ClickException(f"--data-cut {data_cut!r}: not an ISO date") from None
        cut = cut.replace(tzinfo=UTC) if cut.tzinfo is None else cut
    dataset = load_dataset(study, data_cut=cut)
    if not dataset.participants:
        raise click.ClickException(f"{study.nct_id}: no participants yet, nothing to export")
    return dataset


def _treatment(nct_id: str, given: str | None) -> str:
    """EXTRT: --treatment, else the first intervention of the trial's registry listing, else
    of its record.json beside protocol.yaml (protocols/<NCT id>/)."""
    if given:
        return given
    from trialdesk.registry.models import TrialIntervention

    first = TrialIntervention.objects.filter(trial__nct_id=nct_id).order_by("position").first()
    if first is not None:
        return first.name
    from trialdesk.interop.ctgov import load_studies
    from trialdesk.interop.errors import RecordError
    from trialdesk.protocol.loader import find_protocol

    record = find_protocol(nct_id).parent / "record.json"
    if record.is_file():
        try:
            (study,) = load_studies(record)
        except (RecordError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        arms = study.protocol_section.arms_interventions_module
        if arms is not None and arms.interventions:
            return arms.interventions[0].name
    raise click.ClickException(f"{nct_id}: no intervention named in the registry; give --treatment")


def _run(write) -> None:
    from trialdesk.interop.errors import ExportError

    try:
        written = write()
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(str(path))


@click.group("export")
def export() -> None:
    """CDISC SDTM, CDISC ODM and ClinicalTrials.gov results exports of a trial."""


@export.command("sdtm")
@click.argument("nct_id")
@_out
@_cut
@click.option("--treatment", default=None, help="EXTRT (default: the registry's intervention).")
def sdtm_cmd(nct_id: str, out: Path, data_cut: str | None, treatment: str | None) -> None:
    """SDTM datasets as CSV, XPT v5 and Dataset-JSON v1.1, with dataset metadata."""
    from trialdesk.interop.exports import export_sdtm

    dataset = _load(nct_id, data_cut)
    name = _treatment(dataset.nct_id, treatment)
    _run(lambda: export_sdtm(dataset, out, treatment=name))


@export.command("odm")
@click.argument("nct_id")
@_out
@_cut
@click.option("--treatment", default=None, help="EXTRT (default: the registry's intervention).")
def odm_cmd(nct_id: str, out: Path, data_cut: str | None, treatment: str | None) -> None:
    """CDISC ODM 1.3.2 XML of the clinical data (validated against the ODM 1.3.2 XSD)."""
    from trialdesk.interop.exports import export_odm

    dataset = _load(nct_id, data_cut)
    name = _treatment(dataset.nct_id, treatment)
    _run(lambda: export_odm(dataset, out, treatment=name))


@export.command("results")
@click.argument("nct_id")
@_out
@_cut
@click.option(
    "--threshold",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 100),
    help="Other (non-serious) AEs are listed from this frequency (%) in any group.",
)
@click.option(
    "--window-rule",
    type=click.Choice(["include", "exclude", "nearest"]),
    default="include",
    show_default=True,
    help="Out-of-window visits in the MELD outcome (docs/analysis.md, Endpoints).",
)
def results_cmd(
    nct_id: str, out: Path, data_cut: str | None, threshold: float, window_rule: str
) -> None:
    """A ClinicalTrials.gov results-style JSON summary (flow, baseline, outcomes, AEs)."""
    from trialdesk.interop.exports import export_results

    dataset = _load(nct_id, data_cut)
    _run(lambda: export_results(dataset, out, threshold=threshold, window_rule=window_rule))


COMMANDS = [export]

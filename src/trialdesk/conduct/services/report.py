"""The data monitoring committee's safety and efficacy report, as HTML and PDF.

The report is built from a :class:`~trialdesk.analysis.dataset.TrialDataset` (read by
``load_dataset``; the caller decides which sites it covers) in three steps:

1. :func:`report_context` asks the pure core for everything the report says: the endpoint
   and safety tables (``trialdesk.analysis.endpoints`` / ``.safety``), the listings, and the
   plots (``trialdesk.analysis.plots``, rendered as SVG);
2. the Django template ``conduct/report/dsmb.html`` lays them out (autoescaped: no text from
   the data is ever rendered as markup); the same body is included in the app's page;
3. :func:`render_pdf` prints the HTML with WeasyPrint.

Identical data gives identical bytes: the report says "as of the data cut", never "now";
plots are deterministic (see ``plots._render``); the PDF's dates are the data cut and its
file identifier is derived from the HTML, and it embeds matplotlib's own DejaVu Sans font file
(the same on every machine).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialdesk.analysis.dataset import TrialDataset

FORMATS = ("html", "pdf")


class ReportError(ValueError):
    """The report cannot be made (unknown trial, no data, bad format); the message says why."""


@dataclass(frozen=True, slots=True)
class Table:
    """One table of the report: caption, header, rows of cells (already formatted text)."""

    id: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    empty: str = "None."


@dataclass(frozen=True, slots=True)
class Figure:
    id: str
    caption: str
    svg: bytes = field(repr=False)

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    text: str = ""


def fmt(value: Any, digits: int = 2) -> str:
    """A cell: ``None`` -> an en dash (missing, never 0); floats with ``digits`` decimals."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _figure(id: str, caption: str, build: Any, draw: bool) -> Figure:  # noqa: A002
    """The figure ``build()`` makes, as SVG; with ``draw`` false (the app's page, which
    draws the interactive version) nothing is rendered."""
    from trialdesk.analysis.plots import render

    return Figure(id, caption, render(build(), "svg") if draw else b"")


def _listing_rows(rows: Sequence[Sequence[Any]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(fmt(c) for c in r) for r in rows)


def decisions_table(ds: TrialDataset) -> Table:
    rows = [
        (
            d.cohort,
            d.dose_level,
            d.outcomes or "–",
            d.recommended or "stop",
            d.decision.replace("_", "-"),
            d.chosen or "–",
            f"{d.decided_at:%Y-%m-%d}",
            "yes" if d.departs_from_recommendation else "no",
        )
        for d in ds.decisions
    ]
    return Table(
        "decisions",
        "Safety review committee decisions (signed)",
        (
            "After cohort",
            "Dose level",
            "Outcomes",
            "Engine recommends",
            "Decision",
            "Next dose level",
            "Decided (UTC)",
            "Departs",
        ),
        _listing_rows(rows),
        note="Outcomes in the dose-finding notation: cohort number then one letter per "
        "participant (N no DLT, T DLT).",
        empty="No decision signed yet.",
    )


def deviations_table(ds: TrialDataset) -> Table:
    rows = [(d.subject_id, d.visit_code, d.kind, d.description) for d in ds.deviations]
    return Table(
        "deviations",
        "Protocol deviations",
        ("Participant", "Visit", "Kind", "Description"),
        _listing_rows(rows),
        empty="No deviation recorded.",
    )


def _doses_table(ds: TrialDataset) -> Table:
    rows = [
        (
            d.subject_id,
            d.dose_level,
            f"{d.started_at:%Y-%m-%d}",
            f"{d.cells:.3g}",
            d.body_weight_kg,
            d.lot,
            d.infusion_reactions or "none",
        )
        for d in ds.doses
    ]
    return Table(
        "doses",
        "Doses given",
        ("Participant", "Dose level", "Date (UTC)", "Cells", "Weight (kg)", "Lot", "Reactions"),
        tuple(tuple(fmt(c, 1) for c in r) for r in rows),
        empty="No dose given yet.",
    )


def report_context(ds: TrialDataset, *, scope: str, static_plots: bool = True) -> dict[str, Any]:
    """Everything the template shows. ``scope`` says which sites the data covers;
    ``static_plots=False`` leaves the SVG plots out (the page draws plotly's instead)."""
    from trialdesk.analysis import plots
    from trialdesk.conduct.services import report_tables as tables

    if not ds.participants:
        raise ReportError(f"{ds.nct_id}: no participant screened yet: nothing to report")
    stages, exclusions = tables.flow_counts(ds)
    sections = [
        Section(
            "flow",
            "Participant flow",
            tables=(tables.flow_table(ds), tables.baseline_table(ds)),
            figures=(
                _figure(
                    "flow-plot",
                    "Participant flow, screened to completed, with screen-failure reasons.",
                    lambda: plots.participant_flow(
                        stages, exclusions, title=f"Participant flow, {ds.nct_id}"
                    ),
                    static_plots,
                ),
            ),
        ),
    ]
    if ds.design == "escalation":
        sections.append(
            Section(
                "escalation",
                "Dose escalation",
                tables=(tables.dlt_table(ds), decisions_table(ds)),
                figures=(
                    _figure(
                        "escalation-plot",
                        "Participants in order of dosing at their dose level, cohort by "
                        "cohort; DLTs marked; the signed decision after each cohort below it.",
                        lambda: plots.escalation_history(ds),
                        static_plots,
                    ),
                ),
            )
        )
    sections.append(
        Section(
            "efficacy",
            "Efficacy: change from baseline",
            tables=tables.endpoint_tables(ds),
            figures=(
                _figure(
                    "meld-plot",
                    "MELD of each participant by study day (grey) and the mean with its 95% "
                    "t-interval at the baseline and each scheduled visit after it (blue).",
                    lambda: plots.score_over_time(ds, "meld"),
                    static_plots,
                ),
            ),
        )
    )
    sections.append(
        Section(
            "safety",
            "Safety",
            tables=(*tables.safety_tables(ds), _doses_table(ds)),
            figures=(
                _figure(
                    "swimmer-plot",
                    "Follow-up of each dosed participant from the first dose: visits, adverse "
                    "events (serious ones in vermilion) and how follow-up ended.",
                    lambda: plots.swimmer_plot(ds),
                    static_plots,
                ),
            ),
        )
    )
    sections.append(Section("deviations", "Protocol deviations", tables=(deviations_table(ds),)))
    return {
        "ds": ds,
        "scope": scope,
        "data_cut": ds.data_cut,
        "sections": sections,
        "n_participants": len(ds.participants),
    }


#: The report's own stylesheet (screen and print), read once.
CSS_PATH = Path(__file__).resolve().parent.parent / "static" / "conduct" / "report.css"


def render_html(ds: TrialDataset, *, scope: str) -> str:
    """The report as one self-contained HTML document (styles inline, plots as SVG data)."""
    from django.template.loader import render_to_string

    context = report_context(ds, scope=scope)
    context["css"] = CSS_PATH.read_text(encoding="utf-8")
    return render_to_string("conduct/report/document.html", context)


def _font_css() -> str:
    """matplotlib's bundled DejaVu Sans for the PDF: the same font file on every machine."""
    import matplotlib

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = [
        ("DejaVuSans.ttf", "normal", "normal"),
        ("DejaVuSans-Bold.ttf", "bold", "normal"),
        ("DejaVuSans-Oblique.ttf", "normal", "italic"),
    ]
    return (
        "\n".join(
            f'@font-face {{ font-family: "Report Sans"; src: url("{(fonts / f).as_uri()}"); '
            f"font-weight: {w}; font-style: {s}; }}"
            for f, w, s in faces
        )
        + '\nbody { font-family: "Report Sans"; }\n'
    )


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF by WeasyPrint; the same HTML gives the same bytes (the
    document's dates come from its ``dcterms`` meta tags, the data cut; the file identifier
    is the HTML's SHA-256)."""
    import weasyprint

    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    doc = weasyprint.HTML(string=html, base_url=str(CSS_PATH.parent))
    return doc.write_pdf(
        stylesheets=[weasyprint.CSS(string=_font_css())],
        pdf_identifier=identifier,
        uncompressed_pdf=False,
    )


def render(ds: TrialDataset, fmt: str, *, scope: str) -> bytes:
    """The report in ``fmt`` ("html" or "pdf") as bytes."""
    if fmt not in FORMATS:
        raise ReportError(f"report format {fmt!r}: use html or pdf")
    html = render_html(ds, scope=scope)
    return html.encode("utf-8") if fmt == "html" else render_pdf(html)


def load_for_report(
    nct_id: str, *, data_cut: Any = None, sites: Sequence[Any] | None = None
) -> tuple[TrialDataset, str]:
    """The dataset of the study ``nct_id`` (all sites, or ``sites`` only) and a sentence
    naming the sites covered. Unknown trial or no data: :class:`ReportError`."""
    from trialdesk.conduct.models import Participant, Study
    from trialdesk.conduct.services.dataset import load_dataset

    key = nct_id.strip().upper()
    study = Study.objects.filter(nct_id=key).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("nct_id", flat=True)) or "none"
        raise ReportError(f"{nct_id}: no trial conducted here with that NCT id (known: {known})")
    rows = Participant.objects.filter(study=study)
    if sites is not None:
        rows = rows.filter(site__in=list(sites))
    if not rows.exists():
        raise ReportError(
            f"{key}: no conduct data yet (no participant screened"
            + (" at your sites)" if sites is not None else ")")
        )
    all_sites = sorted(study.sites.all(), key=lambda s: s.code)
    covered = all_sites if sites is None else [s for s in all_sites if s in set(sites)]
    names = "; ".join(f"{s.name} ({s.code})" for s in covered)
    scope = f"all sites: {names}" if sites is None or covered == all_sites else names
    return load_dataset(study, data_cut=data_cut, sites=sites), scope


def interactive_specs(ds: TrialDataset) -> list[tuple[str, dict[str, Any]]]:
    """(element id, plotly spec) of the page's interactive plots; the ids match the
    figures' ``<id>-data`` of :func:`report_context`."""
    from trialdesk.analysis.plots import interactive
    from trialdesk.conduct.services import report_tables as tables

    stages, exclusions = tables.flow_counts(ds)
    specs = [("flow-plot-data", interactive.participant_flow(stages, exclusions))]
    if ds.design == "escalation":
        specs.append(("escalation-plot-data", interactive.escalation_history(ds)))
    specs.append(("meld-plot-data", interactive.score_over_time(ds, "meld")))
    specs.append(("swimmer-plot-data", interactive.swimmer_plot(ds)))
    return specs

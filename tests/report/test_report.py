"""The DMC report rendered from the hand-built trial of tests/report/fixtures.py: the HTML
holds the hand-computed tables, the PDF renders and reads back (pypdf) with the expected
text and data-cut dates, identical data gives identical bytes, and imported text is
escaped. No database: the report is built from a TrialDataset."""

from __future__ import annotations

import io
import math
import re
from dataclasses import replace
from datetime import date
from html import unescape

import pytest
from pypdf import PdfReader
from scipy import stats
from tests.report.fixtures import small_trial

from trialdesk.analysis.synthetic import adverse_event
from trialdesk.conduct.services import report

SCOPE = "all sites: Site One (S1)"


@pytest.fixture(scope="module")
def html() -> str:
    return report.render_html(small_trial(), scope=SCOPE)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return report.render(small_trial(), "pdf", scope=SCOPE)


def table(html: str, table_id: str) -> list[list[str]]:
    """The rows of the table ``table-<id>`` as lists of cell texts (header row first)."""
    m = re.search(rf'<table[^>]*id="table-{table_id}".*?</table>', html, re.S)
    assert m, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(0), re.S)
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_flow_table_by_hand(html):
    rows = {r[0]: r[1:] for r in table(html, "flow")[1:]}
    # 7 screened (P01-P06, S-07); S-07 failed screening; 6 eligible, consented, enrolled, dosed
    assert rows["Screened"][0] == "7"
    assert [rows[s][0] for s in ("Eligible", "Consented", "Enrolled", "Dosed")] == ["6"] * 4
    assert rows["Completed"] == ["0", "–"]
    assert rows["Screen failure: exc-4.1"] == ["1", "S-07"]
    assert rows["Dosed, follow-up withdrawn"] == ["1", "P05"]


def test_baseline_table_by_hand(html):
    rows = {r[0]: r[1:] for r in table(html, "baseline")}
    assert rows[""] == ["All (N=6)", "DL1 (N=3)", "DL2 (N=3)"]
    # MELD at D1: 15 18 12 20 16 14: mean 95/6 = 15.83; squared deviations add to 40.83,
    # SD sqrt(40.83/5) = 2.86; median (15+16)/2 = 15.5. DL1: 15 18 12; DL2: 20 16 14
    assert rows["MELD at baseline"] == [
        "15.83 (2.86); median 15.5 (12 to 20)",
        "15.00 (3.00); median 15.0 (12 to 18)",
        "16.67 (3.06); median 16.0 (14 to 20)",
    ]
    assert rows["Sex: male"] == ["6 (100.0%)", "3 (100.0%)", "3 (100.0%)"]
    assert rows["MELD-Na at baseline"][0] == "– (missing 6)"  # never 0


def test_dlt_and_decision_tables_by_hand(html):
    dlt = table(html, "dlt")
    assert dlt[0][:5] == ["Cohort", "Dose level", "Enrolled", "Evaluable", "With DLT"]
    # cohort 1: P01-P03 no DLT; cohort 2: P04 DLT, P05 no DLT, P06 window still open
    assert dlt[1] == ["1", "DL1", "3", "3", "0", "–", "–"]
    assert dlt[2] == ["2", "DL2", "3", "2", "1", "P06", "P04: Liver failure (grade 3)"]
    decisions = table(html, "decisions")
    assert decisions[1] == ["1", "DL1", "1NNN", "DL2", "escalate", "DL2", "2026-02-20", "no"]


def test_meld_change_table_by_hand(html):
    rows = table(html, "change-meld")
    m3 = next(r for r in rows if r[:2] == ["All", "M3"])
    # M3 - D1: P01 13-15 = -2, P02 16-18 = -2, P03 12-12 = 0, P04 17-20 = -3, P06 11-14 = -3;
    # P05 withdrew (2026-05-01) before its M3 window. Mean -10/5 = -2.0; squared deviations
    # 0+0+4+1+1 = 6, SD = sqrt(6/4) = 1.2247; baseline 15 18 12 20 14 -> 15.80 (SD 3.19);
    # M3 values 13 16 12 17 11 -> 13.80 (SD 2.59)
    assert m3[2:5] == ["6", "5", "withdrawn 1"]
    assert m3[5] == "15.80 (3.19)"
    assert m3[6] == "13.80 (2.59)"
    assert m3[7] == "-2.00 (1.22)"
    # 95% CI: -2 +/- t(0.975, 4) 2.776445 * 1.224745 / sqrt(5) = -2 +/- 1.5207
    assert m3[8] == "-3.52 to -0.48"
    # median -2, linear quartiles of (-3 -3 -2 -2 0): Q1 -3, Q3 -2
    assert m3[9] == "-2.00 (-3.00 to -2.00)"
    # paired t: t = -2 / (1.224745 / sqrt 5) = -3.6515, df 4 -> p = 0.0217
    t = -2 / (math.sqrt(1.5) / math.sqrt(5))
    assert m3[10] == f"{2 * stats.t.sf(abs(t), 4):.3f}" == "0.022"
    # Wilcoxon on the non-zero differences (-2 -2 -3 -3; ties: normal approximation)
    w = stats.wilcoxon([-2, -2, -3, -3], method="approx", correction=False)
    assert m3[11] == f"{w.pvalue:.3f}"
    dl2_m3 = next(r for r in rows if r[:2] == ["DL2", "M3"])
    # DL2 at M3: P04 -3, P06 -3 (P05 withdrawn): mean -3, SD 0
    assert dl2_m3[2:5] == ["3", "2", "withdrawn 1"] and dl2_m3[7] == "-3.00 (0.00)"
    assert dl2_m3[10] == "n.e."  # all differences equal: no t-test
    missing = table(html, "missing-meld")
    assert ["M3", "All", "P05", "withdrawn"] == missing[1][:4]


def test_safety_tables_by_hand(html):
    overview = {r[0]: r[1:] for r in table(html, "ae-overview")}
    assert overview[""] == ["All (N=6)", "DL1 (N=3)", "DL2 (N=3)"]
    # any AE: P01 (Fever, DL1), P04 (Liver failure, DL2), P06 (Nausea, DL2)
    assert overview["Any adverse event"] == ["3 (50.0%) [3]", "1 (33.3%) [1]", "2 (66.7%) [2]"]
    assert overview["Any serious adverse event"] == [
        "1 (16.7%) [1]",
        "0 (0.0%) [0]",
        "1 (33.3%) [1]",
    ]
    # related or possibly: Fever (possibly), Liver failure (related)
    related = {r[0]: r[1:] for r in table(html, "ae-by-relatedness")}
    assert related["Related or possibly related"][0] == "2 (33.3%) [2]"
    by_term = {r[0]: r[1:] for r in table(html, "ae-by-term")}
    assert by_term["Liver failure"] == ["1 (16.7%) [1]", "0 (0.0%) [0]", "1 (33.3%) [1]"]
    sae = table(html, "sae-listing")
    # onset 2026-03-20, first dose 2026-03-02: study day 18 + 1 = 19
    assert sae[1][:6] == ["P04", "DL2", "Liver failure", "3", "2026-03-20", "19"]
    assert table(html, "deaths")[1] == ["No death."]


def test_report_head_and_plots(html):
    assert "NCT05227846: Small escalation trial" in html
    assert "2027-06-30 00:00 UTC" in html
    assert SCOPE in html
    for fig in ("flow-plot", "escalation-plot", "meld-plot", "swimmer-plot"):
        assert f'<figure id="{fig}">' in html
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert "<script" not in html  # a report is a document, not a program


def test_identical_data_identical_bytes(html, pdf):
    again = small_trial()  # built anew: equal values, other objects
    assert report.render(again, "html", scope=SCOPE) == html.encode("utf-8")
    assert report.render(again, "pdf", scope=SCOPE) == pdf
    later = replace(again, adverse_events=again.adverse_events[:-1])
    assert report.render_html(later, scope=SCOPE) != html


def test_pdf_renders_with_the_expected_text(pdf):
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in (
        "NCT05227846: Small escalation trial",
        "Dose-limiting toxicities by cohort",
        "Change from baseline (D1) in MELD",
        "-2.00 (1.22)",
        "Liver failure",
        "Serious adverse events (listing)",
        "Page 1 of",
    ):
        assert expected in text, expected
    meta = reader.metadata
    assert meta.title.startswith("DMC safety and efficacy report · NCT05227846")
    assert meta.creation_date.date() == date(2027, 6, 30)  # the data cut, not today
    fonts = {
        f["/BaseFont"]
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
    }
    # matplotlib's DejaVu Sans, embedded as subsets (e.g. "/XKQQSR+DejaVu-Sans"), and no other
    assert fonts and all(re.search(r"\+DejaVu-Sans(-Bold|-Oblique)?$", str(f)) for f in fonts)


def test_imported_text_is_escaped():
    ds = small_trial()
    evil = adverse_event("P01", "<script>alert(1)</script>", 1, date(2026, 1, 7))
    ds = replace(ds, adverse_events=(*ds.adverse_events, evil))
    out = report.render_html(ds, scope="<b>sites</b>")
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;sites&lt;/b&gt;" in out


def test_bad_format_and_no_data_are_refused():
    with pytest.raises(report.ReportError, match="report format 'docx': use html or pdf"):
        report.render(small_trial(), "docx", scope=SCOPE)
    with pytest.raises(report.ReportError, match="NCT05227846: no participant screened yet"):
        report.render(
            small_trial(participants=(), doses=(), visits=(), adverse_events=(), decisions=()),
            "html",
            scope=SCOPE,
        )

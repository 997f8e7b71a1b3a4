"""The report's plots: the series they draw (hand-computed on tests/report/fixtures.py),
valid PNG and SVG output, byte-identical renders of identical data (also across processes),
and the interactive plotly specs."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

import pytest
from matplotlib import image
from scipy import stats
from tests.conftest import REPO
from tests.report.fixtures import small_trial

from trialdesk.analysis import plots
from trialdesk.analysis.plots import interactive
from trialdesk.analysis.plots.series import (
    escalation,
    swimmer,
    trajectories,
    visit_summaries,
)
from trialdesk.analysis.synthetic import decision

FLOW = [("Screened", 7), ("Eligible", 6), ("Enrolled", 6), ("Dosed", 6), ("Completed", 0)]


def figures(ds):
    return {
        "meld": plots.score_over_time(ds),
        "escalation": plots.escalation_history(ds),
        "swimmer": plots.swimmer_plot(ds),
        "flow": plots.participant_flow(FLOW, [("exc-4.1", 1)]),
    }


def test_meld_series_by_hand():
    ds = small_trial()
    rows = {s.code: s for s in visit_summaries(ds)}
    assert list(rows) == ["D1", "M3", "M6"]  # schedule order; visits with no value left out
    # D1: 15 18 12 20 16 14 -> 95 / 6; M3: 13 16 12 17 11 -> 69 / 5; M6: 12 11 -> 11.5
    assert (rows["D1"].n, rows["D1"].mean) == (6, pytest.approx(95 / 6))
    assert (rows["M3"].n, rows["M3"].mean) == (5, pytest.approx(13.8))
    assert (rows["M6"].n, rows["M6"].mean) == (2, 11.5)
    # M6: s = sqrt(0.5), t(0.975, 1) = 12.706205: 11.5 +/- 12.706205 * sqrt(0.5) / sqrt(2)
    assert rows["M6"].low == pytest.approx(11.5 - 12.706205 * 0.5, abs=1e-6)
    # and against SciPy's t.interval with the standard error, computed independently
    ref = stats.t.interval(0.95, 4, loc=13.8, scale=stats.sem([13, 16, 12, 17, 11]))
    assert (rows["M3"].low, rows["M3"].high) == pytest.approx(ref)
    t = {x.subject_id: x for x in trajectories(ds)}
    assert t["P01"].days == (1, 91, 181) and t["P01"].values == (15.0, 13.0, 12.0)
    assert t["P05"].codes == ("D1",)
    with pytest.raises(ValueError, match="score 'bilirubin'"):
        trajectories(ds, "bilirubin")


def test_escalation_series():
    points, blocks = escalation(small_trial())
    assert [(p.subject_id, p.position, p.dose_order) for p in points] == [
        ("P01", 1, 1),
        ("P02", 2, 1),
        ("P03", 3, 1),
        ("P04", 4, 2),
        ("P05", 5, 2),
        ("P06", 6, 2),
    ]
    assert [p.dlt_outcome for p in points][3:] == ["dlt", "no_dlt", "pending"]
    assert [(b.cohort, b.first, b.last, b.decision) for b in blocks] == [
        (1, 1, 3, "escalate to DL2"),
        (2, 4, 6, None),
    ]
    ds = small_trial()
    stay = decision(1, "DL1", "DL1", date(2026, 2, 20), decision="stay")
    _, blocks = escalation(replace(ds, decisions=(stay,)))
    assert blocks[0].decision == "stay at DL1"


def test_swimmer_series_by_hand():
    rows = {r.subject_id: r for r in swimmer(small_trial())}
    # P05 withdrew 2026-05-01, dosed 2026-03-09: 22 + 30 + 1 = 53 days
    assert (rows["P05"].end_day, rows["P05"].end_status) == (53, "withdrawn")
    # P01 ongoing: dosed 2026-01-05, data cut 2027-06-30
    assert rows["P01"].end_day == (date(2027, 6, 30) - date(2026, 1, 5)).days == 541
    assert rows["P01"].end_status == "ongoing"
    assert rows["P01"].visit_days == (0, 90, 180)
    assert rows["P01"].ae_days == (1,) and rows["P01"].ae_terms == ("Fever",)
    assert rows["P04"].sae_days == (18,) and rows["P04"].sae_terms == ("Liver failure",)
    assert "S-07" not in rows  # never dosed


def test_png_and_svg_are_valid():
    for name, fig in figures(small_trial()).items():
        png = plots.render(fig, "png")
        pixels = image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 300 and pixels.shape[1] > 900, name  # 7 in wide at 150 dpi
        root = ET.fromstring(plots.render(fig, "svg"))
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        # no date or version in the file
        assert b"<dc:date>" not in plots.render(fig, "svg")
    with pytest.raises(ValueError, match="plot format 'gif'"):
        plots.render(plots.swimmer_plot(small_trial()), "gif")


def test_renders_are_byte_identical():
    first = {
        k: (plots.render(f, "png"), plots.render(f, "svg"))
        for k, f in figures(small_trial()).items()
    }
    second = {
        k: (plots.render(f, "png"), plots.render(f, "svg"))
        for k, f in figures(small_trial()).items()
    }
    assert first == second
    # and in another interpreter (another hash seed, fresh font cache state)
    code = (
        "import sys, hashlib; sys.path[:0] = [{!r}, {!r}]\n"
        "from tests.report.fixtures import small_trial\n"
        "from trialdesk.analysis import plots\n"
        "f = plots.escalation_history(small_trial())\n"
        "print(hashlib.sha256(plots.render(f, 'svg') + plots.render(f, 'png')).hexdigest())\n"
    ).format(str(REPO / "src"), str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    import hashlib

    png, svg = first["escalation"]
    assert out == hashlib.sha256(svg + png).hexdigest()


def test_different_data_gives_different_bytes():
    a = plots.render(plots.score_over_time(small_trial()), "svg")
    b = plots.render(plots.score_over_time(small_trial(visits=())), "svg")
    assert a != b
    assert b"<svg" in b  # an empty trial still renders: "No MELD recorded yet"


def test_flow_refuses_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        plots.participant_flow([("Screened", -1)])


def test_interactive_specs():
    ds = small_trial()
    meld = interactive.score_over_time(ds)
    json.dumps(meld)  # plain JSON values
    names = [t["name"] for t in meld["data"]]
    assert names == ["P01", "P02", "P03", "P04", "P05", "P06", "mean, 95% CI"]
    mean = meld["data"][-1]
    assert mean["y"][0] == pytest.approx(95 / 6)
    esc = interactive.escalation_history(ds)
    assert [t["name"] for t in esc["data"]] == ["DLT", "no DLT", "DLT window open"]
    assert esc["data"][0]["x"] == [4]
    swim = interactive.swimmer_plot(ds)
    assert swim["data"][0]["x"][0] == 541
    assert swim["data"][2]["text"] == ["Liver failure"]
    flow = interactive.participant_flow(FLOW, [("exc-4.1", 1)])
    assert flow["data"][0]["x"] == [7, 6, 6, 6, 0]
    assert math.isclose(mean["error_y"]["array"][2], 12.706205 * 0.5, rel_tol=1e-6)

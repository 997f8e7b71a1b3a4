"""Dose paths (Brock et al. 2021, escalation::get_dose_paths), exact path probabilities,
and the printable decision tables."""

import json

import pytest
from click.testing import CliRunner

from trialdesk.cli import main
from trialdesk.dosefinding import BOIN, StopAtN, ThreePlusThree, exact_oc, make_design
from trialdesk.dosefinding.paths import dose_paths, paths_oc, render_png, render_text
from trialdesk.dosefinding.tables import path_rows, to_csv, to_pdf

TRUTH = (0.05, 0.12, 0.30, 0.45)


def test_paths_enumerate_every_cohort_outcome():
    root = dose_paths(BOIN(doses=4, target=0.3), "1NNN", cohorts=2)
    assert root.decision.next_dose == 2
    assert [str(c.cohort) for c in root.children] == ["2NNN", "2NNT", "2NTT", "2TTT"]
    assert len(root.leaves()) == 16
    # each child's decision is what next_dose says for that history
    design = BOIN(doses=4, target=0.3)
    for _, node in root.walk():
        assert node.decision == design.next_dose(str(node.outcomes))


def test_path_probabilities_are_binomial_and_sum_to_one():
    root = dose_paths(ThreePlusThree(doses=4), "", cohorts=3, truth=TRUTH)
    assert abs(sum(leaf.probability for leaf in root.leaves()) - 1) < 1e-12
    # first cohort at dose 1: P(0 DLTs) = 0.95^3
    assert abs(root.children[0].probability - 0.95**3) < 1e-15


def test_exact_oc_from_paths_equals_automaton_enumeration():
    design = BOIN(doses=4, target=0.3) | StopAtN(12)
    root = dose_paths(design, "", cohorts=4, truth=TRUTH)
    summ = paths_oc(root, 4)
    ex = exact_oc(BOIN(doses=4, target=0.3), TRUTH, cohort_size=3, n_cohorts=4)
    assert all(
        abs(a - b) < 1e-12 for a, b in zip(summ["prob_stop_with_mtd"], ex.prob_select, strict=True)
    )
    assert abs(summ["prob_stop_no_mtd"] - ex.prob_no_mtd) < 1e-12
    assert all(
        abs(a - b) < 1e-9 for a, b in zip(summ["mean_n_per_dose"], ex.mean_n_per_dose, strict=True)
    )


def test_tree_text_and_picture(tmp_path):
    root = dose_paths(ThreePlusThree(doses=4), "1NNN 2NTN", cohorts=1)
    text = render_text(root)
    assert text.splitlines()[0] == "1NNN 2NTN -> dose 2"
    assert "└── 2TTT -> dose 1" in text
    png = tmp_path / "tree.png"
    render_png(root, png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_paths_cli_json():
    r = CliRunner().invoke(
        main,
        [
            "design",
            "paths",
            "crm",
            "--doses",
            "4",
            "--target",
            "0.25",
            "--outcomes",
            "1NNN",
            "--cohorts",
            "2",
            "--truth",
            "0.05,0.12,0.30,0.45",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["n_paths"] == 16 and out["paths"]["next_dose"] == 2
    assert abs(sum(out["exact"]["prob_next_dose"]) + out["exact"]["prob_stop"] - 1) < 1e-9


@pytest.mark.parametrize(
    "design",
    [ThreePlusThree(doses=4), BOIN(doses=4, target=0.3), make_design("crm", 4, target=0.3)],
)
def test_decision_tables_csv_and_pdf(design, tmp_path):
    text = to_csv(design, "1NNN", cohorts=2)
    assert "1NNN 2NNN" in text and "reason" in text
    rows = path_rows(design, "1NNN", cohorts=2)
    assert (
        len(rows) == 1 + 4 + 16 - sum(1 for r in rows[1:5] if r["decision"].startswith("stop")) * 4
    )
    pdf = to_pdf(design, tmp_path / "t.pdf", "1NNN", cohorts=2)
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_boin_table_csv_has_the_boundaries():
    text = to_csv(BOIN(doses=4, target=0.3), cohorts=1)
    assert "6,1,3,4" in text  # n = 6: escalate <= 1, de-escalate >= 3, eliminate >= 4


def test_table_cli(tmp_path):
    r = CliRunner().invoke(
        main,
        [
            "design",
            "table",
            "3+3",
            "--doses",
            "4",
            "--csv",
            str(tmp_path / "t.csv"),
            "--pdf",
            str(tmp_path / "t.pdf"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "t.csv").read_text().startswith("# 3+3 rules")
    assert (tmp_path / "t.pdf").stat().st_size > 1000

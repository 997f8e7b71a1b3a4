"""``trialdesk design ...`` command-line contracts (issue 5)."""

import json

from click.testing import CliRunner

from trialdesk.cli import main


def run(*args):
    return CliRunner().invoke(main, ["design", *args])


def test_boundaries_json_is_the_published_table():
    r = run("boundaries", "boin", "--target", "0.3", "--max-n", "12", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert isinstance(rows, list) and len(rows) == 12
    assert set(rows[0]) == {
        "n",
        "escalate_if_at_most",
        "deescalate_if_at_least",
        "eliminate_if_at_least",
    }
    assert rows[0]["eliminate_if_at_least"] is None  # elimination needs n >= 3
    # Yuan et al. (2016) Table 1, target 0.3, n = 6: escalate <= 1, de-escalate >= 3, elim >= 4
    assert rows[5] == {
        "n": 6,
        "escalate_if_at_most": 1,
        "deescalate_if_at_least": 3,
        "eliminate_if_at_least": 4,
    }


def test_boundaries_text_shows_lambdas():
    r = run("boundaries", "boin", "--target", "0.3", "--max-n", "6")
    assert r.exit_code == 0 and "lambda_e = 0.2365" in r.output and "lambda_d = 0.3585" in r.output


def test_next_json_for_each_design():
    for name, extra, expect in [
        ("3+3", [], 2),
        ("boin", ["--target", "0.3"], 2),
        ("crm", ["--target", "0.25"], 2),
    ]:
        r = run("next", name, "--doses", "4", "--outcomes", "1NNN 2NTN", *extra, "--json")
        assert r.exit_code == 0, r.output
        out = json.loads(r.output)
        assert out["next_dose"] == expect and out["reason"]
        assert [s["n"] for s in out["summary"]] == [3, 3, 0, 0]


def test_next_stop_is_null():
    r = run("next", "3+3", "--doses", "4", "--outcomes", "1NNN 2TTN 1NNN", "--json")
    out = json.loads(r.output)
    assert out["next_dose"] is None and out["mtd"] == 1 and "MTD" in out["reason"]


def test_next_text_output():
    r = run("next", "3+3", "--doses", "4", "--outcomes", "1NNN 2NTN")
    assert r.exit_code == 0 and "expand dose 2" in r.output


def test_bad_inputs_are_clear_errors():
    r = run("next", "3+3", "--doses", "4", "--outcomes", "1NNN 7NTN")
    assert r.exit_code != 0 and "dose level 7 is out of range 1..4" in r.output
    r = run("next", "boin", "--doses", "4", "--outcomes", "1NQN", "--target", "0.3")
    assert r.exit_code != 0 and "letter 'Q'" in r.output
    r = run("next", "crm", "--doses", "3", "--target", "0.25", "--skeleton", "0.3,0.2,0.4")
    assert r.exit_code != 0 and "skeleton: must be strictly increasing" in r.output
    r = run("next", "crm", "--doses", "4", "--target", "0.25", "--skeleton", "0.1,0.2,0.4")
    assert r.exit_code != 0 and "expected 4 values" in r.output
    r = run("next", "boin", "--doses", "4")
    assert r.exit_code != 0 and "target" in r.output
    r = run("boundaries", "boin", "--target", "1.3")
    assert r.exit_code != 0 and "target" in r.output


def test_simulate_json_keys_and_reproducible():
    args = [
        "simulate",
        "boin",
        "--target",
        "0.3",
        "--truth",
        "0.05,0.12,0.30,0.45",
        "--cohort-size",
        "3",
        "--max-n",
        "24",
        "--trials",
        "2000",
        "--seed",
        "1",
        "--json",
    ]
    r1, r2 = run(*args), run(*args)
    assert r1.exit_code == 0, r1.output
    a, b = json.loads(r1.output), json.loads(r2.output)
    assert a == b
    for key in (
        "prob_select",
        "mean_n_per_dose",
        "prob_no_mtd",
        "mean_n",
        "mean_dlt",
        "pct_above_mtd",
    ):
        assert key in a
    assert len(a["prob_select"]) == 4 and len(a["mean_n_per_dose"]) == 4
    assert abs(sum(a["prob_select"]) + a["prob_no_mtd"] - 1) < 1e-9
    assert abs(sum(a["mean_n_per_dose"]) - a["mean_n"]) < 1e-9


def test_simulate_errors():
    r = run("simulate", "boin", "--target", "0.3", "--truth", "0.05,0.12,1.3", "--trials", "10")
    assert r.exit_code != 0 and "truth[3]" in r.output
    r = run(
        "simulate",
        "crm",
        "--target",
        "0.3",
        "--truth",
        "0.05,0.12,0.3",
        "--skeleton",
        "0.1,0.2,0.3,0.4",
        "--trials",
        "10",
    )
    assert r.exit_code != 0 and "skeleton: expected 3 values" in r.output
    r = run("simulate", "boin", "--target", "0.3", "--truth", "0.05,x", "--trials", "10")
    assert r.exit_code != 0 and "--truth" in r.output


def test_simulate_3p3_text_and_plot(tmp_path):
    png = tmp_path / "oc.png"
    r = run(
        "simulate", "3+3", "--truth", "0.05,0.12,0.30,0.45", "--trials", "1000", "--plot", str(png)
    )
    assert r.exit_code == 0, r.output
    assert "P(no MTD)" in r.output and png.stat().st_size > 1000


def test_compare_cli_json_and_plot(tmp_path):
    png = tmp_path / "grid.png"
    r = run(
        "compare",
        "--scenario",
        "0.05,0.12,0.30,0.45",
        "--scenario",
        "0.1,0.3,0.45,0.6",
        "--target",
        "0.3",
        "--max-n",
        "12",
        "--trials",
        "300",
        "--plot",
        str(png),
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert len(out["rows"]) == 2 * 3 and {row["design"] for row in out["rows"]} == {
        "3+3",
        "boin",
        "crm",
    }
    assert png.stat().st_size > 5000
    r = run(
        "compare",
        "--scenario",
        "0.05,0.12",
        "--scenario",
        "0.1,0.3,0.45",
        "--target",
        "0.3",
        "--trials",
        "10",
    )
    assert r.exit_code != 0 and "expected 2 values" in r.output


def test_paths_cli_png(tmp_path):
    png = tmp_path / "tree.png"
    r = run(
        "paths",
        "boin",
        "--doses",
        "4",
        "--target",
        "0.3",
        "--outcomes",
        "1NNN",
        "--cohorts",
        "1",
        "--png",
        str(png),
    )
    assert r.exit_code == 0, r.output
    assert "2NNN -> dose 3" in r.output and png.read_bytes()[:4] == b"\x89PNG"


def test_simulate_exact_json():
    r = run(
        "simulate",
        "boin",
        "--target",
        "0.3",
        "--truth",
        "0.05,0.12,0.30,0.45",
        "--max-n",
        "12",
        "--exact",
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["method"] == "exact" and out["trials"] is None
    assert abs(sum(out["prob_select"]) + out["prob_no_mtd"] - 1) < 1e-12

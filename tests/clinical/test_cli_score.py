"""The `trialdesk score ...` and `trialdesk grade ...` commands (contract of issue 3)."""

import json

import pytest
from click.testing import CliRunner

from trialdesk.cli import main


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result


def run_json(*args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


BASE = ["--bilirubin", "2.0 mg/dL", "--inr", "1.5", "--creatinine", "1.2 mg/dL"]


def test_meld_json():
    # calculatorhub.com worked example: MELD 15
    out = run_json("score", "meld", *BASE)
    assert out["score"] == 15 and out["name"] == "MELD"
    assert out["inputs"]["creatinine"]["used"] == "1.2"
    assert "OPTN" in out["reference"]


def test_meld_dialysis_flag():
    out = run_json("score", "meld", *BASE, "--dialysis")
    assert out["inputs"]["creatinine"]["used"] == "4"
    assert out["score"] == 27  # 10 x 2.6858 -> bracket 2.7 -> 27 (see test_meld.py oracle)


def test_meld_na_json():
    # calculatorhub.com worked example with Na 135: 16.65 -> 17
    out = run_json("score", "meld-na", *BASE, "--sodium", "135 mmol/L")
    assert out["score"] == 17


def test_meld3_json_any_unit():
    a = run_json(
        "score",
        "meld3",
        *BASE,
        "--sodium",
        "131 mmol/L",
        "--albumin",
        "3.1 g/dL",
        "--sex",
        "female",
    )
    # the same labs in SI units (exact conversions of 2.0 mg/dL and 1.2 mg/dL are not round
    # numbers, so use units that are exact: mg/L and g/L, meq/L)
    b = run_json(
        "score",
        "meld3",
        "--bilirubin",
        "20 mg/L",
        "--inr",
        "1.5",
        "--creatinine",
        "12 mg/L",
        "--sodium",
        "131 meq/L",
        "--albumin",
        "31 g/L",
        "--sex",
        "female",
    )
    assert a["score"] == b["score"] == 21


def test_child_pugh_json():
    out = run_json(
        "score",
        "child-pugh",
        "--bilirubin",
        "2.0 mg/dL",
        "--albumin",
        "3.1 g/dL",
        "--inr",
        "1.5",
        "--ascites",
        "mild",
        "--encephalopathy",
        "none",
    )
    assert (out["score"], out["class"]) == (8, "B")
    out = run_json(
        "score",
        "child-pugh",
        "--bilirubin",
        "5 mg/dL",
        "--albumin",
        "3.1 g/dL",
        "--inr",
        "1.5",
        "--ascites",
        "mild",
        "--encephalopathy",
        "none",
        "--cholestatic",
    )
    assert out["points"]["bilirubin"] == 2


def test_albi_json():
    out = run_json("score", "albi", "--bilirubin", "20 umol/L", "--albumin", "40 g/L")
    assert out["grade"] == 2 and out["score"] == -2.54


def test_grade_json():
    out = run_json("grade", "ALT increased", "--value", "100 U/L", "--uln", "40 U/L")
    assert out["grade"] == 1 and out["meddra_code"] == "10001551"
    out = run_json(
        "grade", "ALT increased", "--value", "100 U/L", "--uln", "40 U/L", "--baseline", "80 U/L"
    )
    assert out["grade"] == 0
    out = run_json(
        "grade", "Platelet count decreased", "--value", "40 x10^9/L", "--lln", "150 10*9/L"
    )
    assert out["grade"] == 3
    out = run_json(
        "grade", "Hyponatremia", "--value", "127 mmol/L", "--lln", "135 mmol/L", "--symptomatic"
    )
    assert out["grade"] == 3


def test_readable_summary_has_inputs_and_reference():
    result = run(
        "score", "meld", "--bilirubin", "0.5 mg/dL", "--inr", "1.5", "--creatinine", "1.2 mg/dL"
    )
    assert result.exit_code == 0
    assert "inputs after bounding" in result.output
    assert "bilirubin 1 mg/dL (below 1, set to 1)" in result.output
    assert "reference: OPTN Policy 9.1.D" in result.output
    result = run("grade", "ALT increased", "--value", "100 U/L", "--uln", "40 U/L")
    assert "grade 1" in result.output and "reference:" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            [
                "score",
                "meld",
                "--bilirubin",
                "2.0 mg/dL",
                "--inr",
                "1.5",
                "--creatinine",
                "1.2 U/L",
            ],
            "creatinine 1.2 U/L",
        ),
        (
            ["score", "meld", "--bilirubin", "-1 mg/dL", "--inr", "1.5", "--creatinine", "1 mg/dL"],
            "bilirubin -1 mg/dL",
        ),
        (["grade", "ALT increased", "--value", "100 U/L"], "needs the ULN"),
        (["grade", "Nonsense", "--value", "1 U/L"], "unknown CTCAE term"),
        (["score", "albi", "--bilirubin", "2 mg/dL", "--albumin", "3 furlongs"], "albumin"),
    ],
)
def test_errors_exit_nonzero_with_message(args, needle):
    result = run(*args)
    assert result.exit_code != 0
    assert needle in result.output


def test_clinical_term_definitions():
    out = run_json("grade", "Cytokine release syndrome")
    assert out["meddra_code"] == "10052015" and out["grades"]["5"] == "Death"

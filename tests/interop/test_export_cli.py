"""``trialdesk export sdtm|odm|results`` on the demo trials (real database, real files): every
file re-read (XPT by pandas' SAS reader, ODM against the XSD), and the errors a user meets
(unknown NCT, a study with no participants, an unwritable --out) named, nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from tests.conduct.conftest import _protocols, setup, setup_roles  # noqa: F401

from trialdesk.cli import main

pytestmark = pytest.mark.django_db
pandas = pytest.importorskip("pandas")


@pytest.fixture
def demo(setup_roles):  # noqa: F811
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output


def test_export_all_three_for_the_demo(demo, tmp_path):
    import xmlschema

    from trialdesk.interop.odm import schema_path

    runner = CliRunner()
    for kind in ("sdtm", "odm", "results"):
        result = runner.invoke(
            main,
            ["export", kind, "NCT05331872", "--out", str(tmp_path), "--data-cut", "2027-12-31"],
        )
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"dm.xpt", "lb.xpt", "ae.json", "define.csv", "NCT05331872_odm.xml",
            "NCT05331872_results.json"} <= set(names)  # fmt: skip
    dm = pandas.read_sas(tmp_path / "dm.xpt", format="xport", encoding="ascii")
    assert len(dm) == len(set(dm["USUBJID"])) >= 20  # 20 enrolled, plus any screen failures
    assert set(dm["COUNTRY"]) == {"VNM"}
    lb = pandas.read_sas(tmp_path / "lb.xpt", format="xport", encoding="ascii")
    assert {"BILI", "CREAT", "INR"} <= set(lb["LBTESTCD"])
    ex = pandas.read_sas(tmp_path / "ex.xpt", format="xport", encoding="ascii")
    assert len(ex) == 20 and set(ex["EXROUTE"]) == {"INTRAVENOUS"}
    assert set(ex["EXTRT"]) == {"Human umbilical cord-derived mesenchymal stem cell infusion"}
    xmlschema.XMLSchema(str(schema_path())).validate(str(tmp_path / "NCT05331872_odm.xml"))
    results = json.loads((tmp_path / "NCT05331872_results.json").read_text())
    flow = results["resultsSection"]["participantFlowModule"]
    started = next(m for m in flow["periods"][0]["milestones"] if m["type"] == "STARTED")
    assert [a["numSubjects"] for a in started["achievements"]] == ["20"]

    # an --out that cannot be made is named, and nothing is written
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(main, ["export", "odm", "NCT05331872", "--out", str(blocker / "sub")])
    assert result.exit_code != 0
    assert f"output folder {blocker / 'sub'}: cannot be written" in result.output


def test_escalation_trial_groups_by_dose_level(demo, tmp_path):
    for kind in ("sdtm", "results"):
        result = CliRunner().invoke(main, ["export", kind, "NCT05227846", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
    # the screen failure's exclusion criterion: its text has "≥" and "μmol/L", written in ASCII
    ie = pandas.read_sas(tmp_path / "ie.xpt", format="xport", encoding="ascii")
    assert len(ie) == 1 and ie["IECAT"][0] == "EXCLUSION" and ie["IEORRES"][0] == "Y"
    assert "bilirubin level >= 170umol/L" in ie["IETEST"][0]
    dm = pandas.read_sas(tmp_path / "dm.xpt", format="xport", encoding="ascii")
    assert sorted(set(dm["ACTARMCD"]) - {""}) == ["DL1", "DL2"]
    ae = json.loads((tmp_path / "NCT05227846_results.json").read_text())["resultsSection"][
        "adverseEventsModule"
    ]
    at_risk = [g["seriousNumAtRisk"] for g in ae["eventGroups"]]
    assert sum(at_risk) == 7  # 7 dosed in the demo (3 + 3 + 1)
    # cohort 1 at DL1; cohort 2 at DL2, then "stay": the one participant of cohort 3 at DL2
    assert at_risk[:2] == [3, 4] and not any(at_risk[2:])


def test_unknown_nct_is_named(setup_roles, tmp_path):  # noqa: F811
    result = CliRunner().invoke(main, ["export", "sdtm", "NCT99999999", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "NCT99999999: no such study conducted here" in result.output
    assert list(tmp_path.iterdir()) == []


def test_study_without_participants_is_refused(setup, tmp_path):  # noqa: F811
    result = CliRunner().invoke(
        main, ["export", "sdtm", "NCT05331872", "--out", str(tmp_path), "--treatment", "UC-MSC"]
    )
    assert result.exit_code != 0
    assert "NCT05331872: no participants yet, nothing to export" in result.output
    assert list(tmp_path.iterdir()) == []

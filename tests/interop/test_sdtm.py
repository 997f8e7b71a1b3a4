"""SDTM domains of the fixed dataset (tests/interop/export_fixtures.py), row by row against
values worked out by hand from SDTMIG 3.3 and CDISC CT 2024-03-29."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from export_fixtures import TREATMENT, fixed_dataset

from trialdesk.analysis.dataset import Lab
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm import DOMAINS, build_sdtm


@pytest.fixture(scope="module")
def sdtm():
    return build_sdtm(fixed_dataset(), treatment=TREATMENT)


def test_every_domain_is_built_in_order(sdtm):
    assert tuple(sdtm) == DOMAINS == ("DM", "EX", "AE", "DS", "MH", "IE", "LB", "VS")


def test_dm_rows(sdtm):
    rows = {r["USUBJID"]: r for r in sdtm["DM"].records()}
    assert list(rows) == ["NCT00000000-P01", "NCT00000000-P02", "NCT00000000-S03"]
    p01 = rows["NCT00000000-P01"]
    assert p01 == {
        "STUDYID": "NCT00000000",
        "DOMAIN": "DM",
        "USUBJID": "NCT00000000-P01",
        "SUBJID": "P01",
        "RFSTDTC": "2026-01-10T09:00",
        "RFENDTC": None,
        "RFXSTDTC": "2026-01-10T09:00",
        "RFXENDTC": "2026-01-10T10:00",
        "RFICDTC": "2026-01-02T08:00",
        "RFPENDTC": None,
        "DTHDTC": None,
        "DTHFL": None,
        "SITEID": "S1",
        "BRTHDTC": "1970-06-15",
        "AGE": 55,
        "AGEU": "YEARS",
        "SEX": "M",
        "ARMCD": "DL1",
        "ARM": "0.5 x 10^6 cells/kg",
        "ACTARMCD": "DL1",
        "ACTARM": "0.5 x 10^6 cells/kg",
        "ARMNRS": None,
        "COUNTRY": "VNM",
    }
    p02 = rows["NCT00000000-P02"]
    # death known from the fatal AE (resolution 2026-02-25) and the end status 'died'
    assert (p02["SEX"], p02["AGE"], p02["DTHDTC"], p02["DTHFL"]) == ("F", 45, "2026-02-25", "Y")
    assert (p02["RFENDTC"], p02["RFPENDTC"], p02["COUNTRY"]) == ("2026-02-25", "2026-02-25", "VNM")
    s03 = rows["NCT00000000-S03"]
    assert (s03["ARMCD"], s03["ACTARMCD"], s03["ARMNRS"], s03["RFSTDTC"]) == (
        None,
        None,
        "SCREEN FAILURE",
        None,
    )


def test_ex_rows(sdtm):
    assert sdtm["EX"].records()[1] == {
        "STUDYID": "NCT00000000",
        "DOMAIN": "EX",
        "USUBJID": "NCT00000000-P02",
        "EXSEQ": 1,
        "EXTRT": "UC-MSC",
        "EXDOSE": 60.0,
        "EXDOSU": "10^6 cells",
        "EXDOSFRM": "SUSPENSION",
        "EXROUTE": "INTRAVENOUS",
        "EXLOT": "LOT-P02",
        "EXVAMT": 100.0,
        "EXVAMTU": "mL",
        "EXSTDTC": "2026-02-01T09:00",
        "EXENDTC": "2026-02-01T10:00",
        "EXSTDY": 1,
        "EXENDY": 1,
    }


def test_ae_rows(sdtm):
    fever, sepsis = sdtm["AE"].records()
    assert fever == {
        "STUDYID": "NCT00000000",
        "DOMAIN": "AE",
        "USUBJID": "NCT00000000-P01",
        "AESEQ": 1,
        "AETERM": "Fever",
        "AEDECOD": "Fever",
        "AESER": "N",
        "AEACN": "NOT APPLICABLE",  # onset the day after the only infusion ended
        "AEACNOTH": None,
        "AEREL": "POSSIBLY RELATED",
        "AEOUT": "RECOVERED/RESOLVED",
        "AESCONG": None,
        "AESDISAB": None,
        "AESDTH": None,
        "AESHOSP": None,
        "AESLIFE": None,
        "AESMIE": None,
        "AETOXGR": "1",
        "AESTDTC": "2026-01-11",
        "AEENDTC": "2026-01-12",
        "AESTDY": 2,
        "AEENDY": 3,
    }
    assert (sepsis["AESER"], sepsis["AEOUT"], sepsis["AEREL"], sepsis["AEACNOTH"]) == (
        "Y",
        "FATAL",
        "NOT RELATED",
        "TREATMENT GIVEN",
    )
    flags = [sepsis[f] for f in ("AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE")]
    assert flags == ["N", "N", "N", "Y", "Y", "N"]
    # 2026-02-01 is day 1, so 2026-02-20 is day 20
    assert (sepsis["AETOXGR"], sepsis["AESTDY"], sepsis["AEENDY"]) == ("4", 20, 25)


def test_ds_rows(sdtm):
    got = [
        (r["USUBJID"][-3:], r["DSSEQ"], r["DSDECOD"], r["DSCAT"], r["DSSTDTC"], r["DSSTDY"])
        for r in sdtm["DS"].records()
    ]
    assert got == [
        # consent the day after screening: before the infusion, so a negative day (no day 0)
        ("P01", 1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", "2026-01-02T08:00", -8),
        ("P02", 1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", "2026-01-21T08:00", -11),
        ("P02", 2, "DEATH", "DISPOSITION EVENT", "2026-02-25", 25),
        ("S03", 1, "SCREEN FAILURE", "DISPOSITION EVENT", "2026-01-05", None),
    ]
    assert sdtm["DS"].records()[-1]["DSTERM"] == "Age out of range"


def test_ie_lists_only_the_criteria_failed(sdtm):
    got = [
        (r["USUBJID"][-3:], r["IESEQ"], r["IETESTCD"], r["IECAT"], r["IEORRES"], r["IETEST"])
        for r in sdtm["IE"].records()
    ]
    assert got == [
        ("S03", 1, "E1", "EXCLUSION", "Y", "Hepatocellular carcinoma"),
        ("S03", 2, "I2", "INCLUSION", "N", "Age 18 to 70 years"),
    ]


def test_mh_rows(sdtm):
    (row,) = sdtm["MH"].records()
    assert (row["MHTERM"], row["MHSTDTC"], row["MHENRTPT"], row["MHENTPT"], row["MHSEQ"]) == (
        "Hypertension",
        "2015-03-01",
        "ONGOING",
        "2026-01-01",
        1,
    )


def test_lb_rows(sdtm):
    got = [
        (
            r["LBSEQ"],
            r["LBTESTCD"],
            r["LBTEST"],
            r["LBORRES"],
            r["LBORRESU"],
            r["LBSTRESC"],
            r["LBSTRESN"],
            r["LBSTRESU"],
            r["VISITNUM"],
            r["VISIT"],
            r["VISITDY"],
            r["LBDY"],
        )
        for r in sdtm["LB"].records()
    ]
    assert got == [
        (1, "BILI", "Bilirubin", "34.2", "umol/L", "2", 2.0, "mg/dL", 2, "INFUSION DAY", 1, 1),
        (
            2,
            "INR",
            "Prothrombin Intl. Normalized Ratio",
            "1.5",
            None,
            "1.5",
            1.5,
            None,
            2,
            "INFUSION DAY",
            1,
            1,
        ),
        (3, "CREAT", "Creatinine", "<0.5", "mg/dL", "<0.5", None, "mg/dL", 3, "DAY 7", 7, 7),
    ]


def test_vs_rows(sdtm):
    got = [(r["VSTESTCD"], r["VSSTRESN"], r["VSSTRESU"], r["VSDY"]) for r in sdtm["VS"].records()]
    assert got == [("HR", 80.0, "beats/min", 1), ("TEMP", 36.8, "C", 1)]  # by VSTESTCD


def test_an_analyte_without_lbtestcd_is_refused_by_name():
    data = fixed_dataset()
    visit = replace(data.visits[0], labs=(Lab("hbv_dna", 20.0, "[IU]/mL", "", "20 IU/mL"),))
    bad = replace(data, visits=(visit, *data.visits[1:]))
    with pytest.raises(ExportError, match=r"analyte 'hbv_dna' \(visit D1 of P01\).*LBTESTCD"):
        build_sdtm(bad, treatment=TREATMENT)


def test_an_unknown_route_is_refused():
    data = fixed_dataset()
    bad = replace(data, doses=(replace(data.doses[0], route="intrathecal"), *data.doses[1:]))
    with pytest.raises(ExportError, match="route 'intrathecal'"):
        build_sdtm(bad, treatment=TREATMENT)


def test_study_day_has_no_day_zero():
    data = fixed_dataset()
    from trialdesk.interop.sdtm.context import Context

    ctx = Context.of(data)
    assert [ctx.day("P01", date(2026, 1, d)) for d in (9, 10, 11)] == [-1, 1, 2]


def test_protocol_text_is_written_in_ascii():
    # the seed protocols' criteria use "≥" and "μmol/L" (NCT05227846, exclusion criteria)
    data = fixed_dataset()
    s03 = data.participant("S03")
    crit = replace(s03.criteria[1], text="Serum bilirubin ≥ 170 μmol/L – Sjögren")
    s03 = replace(s03, criteria=(s03.criteria[0], crit, *s03.criteria[2:]))
    data = replace(data, participants=(*data.participants[:2], s03))
    ie = build_sdtm(data, treatment=TREATMENT)["IE"].records()
    assert ie[0]["IETEST"] == "Serum bilirubin >= 170 umol/L - Sjogren"


def test_a_character_without_an_ascii_form_is_refused_naming_the_row(tmp_path):
    from trialdesk.interop.exports import export_sdtm

    data = fixed_dataset()
    fever = replace(data.adverse_events[0], term="Fever 发热")
    data = replace(data, adverse_events=(fever, *data.adverse_events[1:]))
    with pytest.raises(
        ExportError, match=r"dataset AE, variable AETERM, row 1: value .* not ASCII"
    ):
        export_sdtm(data, tmp_path / "out", treatment=TREATMENT)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_ietest_is_cut_at_200_characters_after_the_ascii_form():
    data = fixed_dataset()
    s03 = data.participant("S03")
    long_text = "Temperature ± 1 °C " * 20  # "±" -> "+/-", "°" -> "deg": longer in ASCII
    crit = replace(s03.criteria[1], text=long_text)
    s03 = replace(s03, criteria=(s03.criteria[0], crit, *s03.criteria[2:]))
    data = replace(data, participants=(*data.participants[:2], s03))
    test = build_sdtm(data, treatment=TREATMENT)["IE"].records()[0]["IETEST"]
    assert len(test) <= 200 and test.isascii()
    assert test.startswith("Temperature +/- 1 degC Temperature")


def test_times_are_written_in_utc():
    from datetime import datetime, timedelta, timezone

    hanoi = timezone(timedelta(hours=7))
    data = fixed_dataset()
    start = datetime(2026, 1, 10, 6, 0, tzinfo=hanoi)  # 2026-01-09 23:00 UTC
    dose = replace(data.doses[0], started_at=start, ended_at=start + timedelta(hours=2))
    data = replace(data, doses=(dose, *data.doses[1:]))
    dm = build_sdtm(data, treatment=TREATMENT)["DM"].records()[0]
    assert (dm["RFSTDTC"], dm["RFXENDTC"]) == ("2026-01-09T23:00", "2026-01-10T01:00")
    ex = build_sdtm(data, treatment=TREATMENT)["EX"].records()[0]
    assert (ex["EXSTDY"], ex["EXENDY"]) == (1, 2)  # day 1 is the UTC date of the infusion

"""trialdesk.interop.ctgov: typed model, parse/load, errors, export."""

import json

import pytest
from interop_samples import DELETE, SAMPLE, sample

from trialdesk.interop.ctgov import (
    AGE_UNIT_DAYS,
    OverallStatus,
    Phase,
    RecordError,
    SourceError,
    Study,
    age_to_days,
    dump_study,
    dump_study_json,
    load_studies,
    parse_studies,
)

PS = "protocolSection"


def _error(data, source="src.json") -> RecordError:
    with pytest.raises(RecordError) as info:
        parse_studies(data, source)
    return info.value


def test_round_trip_keeps_every_field_including_unknown_ones():
    study = parse_studies(SAMPLE, "s")[0]
    assert dump_study(study) == SAMPLE
    assert json.loads(dump_study_json(study)) == SAMPLE
    # unknown fields survive (derivedSection, expandedAccessInfo, responsibleParty)
    assert dump_study(study)["derivedSection"] == SAMPLE["derivedSection"]


def test_round_trip_from_bytes_and_minimal_record():
    minimal = {PS: {"identificationModule": {"nctId": "NCT00000001"}}}
    raw = json.dumps([SAMPLE, minimal]).encode()
    studies = load_studies(raw, "b")
    assert [dump_study(s) for s in studies] == [SAMPLE, minimal]
    # explicit nulls are kept as nulls, not dropped
    with_null = sample(**{f"{PS}.identificationModule.acronym": None})
    assert dump_study(parse_studies(with_null, "n")[0]) == with_null


def test_convenience_properties():
    study = parse_studies(SAMPLE, "s")[0]
    assert study.nct_id == "NCT01234567"
    assert study.brief_title == "A trial"
    assert study.conditions == ["Decompensated Cirrhosis"]
    assert study.phases == [Phase.PHASE1, Phase.PHASE2]
    assert study.overall_status is OverallStatus.RECRUITING
    assert study.min_age_days == 18 * 365.25
    assert study.max_age_days == 75 * 365.25
    assert study.lead_sponsor_name == "Acme Bio"
    loc = study.locations[0]
    assert (loc.geo_point.lat, loc.geo_point.lon) == (39.9075, 116.39723)
    bare = parse_studies({PS: {"identificationModule": {"nctId": "NCT00000001"}}}, "b")[0]
    assert bare.min_age_days is None and bare.max_age_days is None
    assert bare.conditions == [] and bare.phases == [] and bare.brief_title is None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("18 Years", 6574.5),  # 18 x 365.25
        ("1 Year", 365.25),
        ("6 Months", 182.625),  # 6 x 365.25 / 12
        ("2 Weeks", 14.0),
        ("28 Days", 28.0),
        ("12 Hours", 0.5),
        ("720 Minutes", 0.5),
        (None, None),
    ],
)
def test_age_to_days(text, days):
    assert age_to_days(text) == days


def test_age_units_are_the_api_list():
    assert set(AGE_UNIT_DAYS) == {
        u + s for u in ("Year", "Month", "Week", "Day", "Hour", "Minute") for s in ("", "s")
    }
    with pytest.raises(ValueError, match="18 years"):
        age_to_days("18 years")


def test_snake_case_names_also_validate():
    study = Study.model_validate(
        {"protocol_section": {"identification_module": {"nct_id": "NCT00000002"}}}
    )
    assert study.nct_id == "NCT00000002"
    assert dump_study(study) == {PS: {"identificationModule": {"nctId": "NCT00000002"}}}


def test_shapes_single_list_and_page():
    page = {"studies": [SAMPLE, SAMPLE], "nextPageToken": "abc", "totalCount": 2}
    assert len(parse_studies(page, "p")) == 2
    assert len(parse_studies([SAMPLE], "l")) == 1
    assert len(parse_studies(SAMPLE, "o")) == 1
    assert parse_studies({"studies": []}, "empty") == []
    err = _error(42)
    assert err.path == "$" and "got int" in err.message


def test_error_path_names_the_field_in_a_page():
    page = {"studies": [SAMPLE] * 5}
    page = json.loads(json.dumps(page))
    page["studies"][3][PS]["statusModule"]["overallStatus"] = "ENROLLING"
    err = _error(page, "pages/p1.json")
    assert err.source == "pages/p1.json"
    assert err.path == "$.studies[3].protocolSection.statusModule.overallStatus"
    assert "'ENROLLING'" in err.message and "RECRUITING" in err.message
    assert str(err) == f"pages/p1.json: {err.path}: {err.message}"
    assert isinstance(err, ValueError)


def test_first_error_plus_count_of_others():
    bad = sample(**{f"{PS}.statusModule.overallStatus": "X", f"{PS}.eligibilityModule.sex": "Y"})
    err = _error([SAMPLE, bad])
    assert err.path == "$[1].protocolSection.statusModule.overallStatus"
    assert err.message.endswith("(and 1 more error)")


def test_missing_and_malformed_nct_id_are_named():
    err = _error(sample(**{f"{PS}.identificationModule.nctId": DELETE}))
    assert err.path == "$.protocolSection.identificationModule.nctId"
    assert "nctId" in err.message and "missing" in err.message
    for bad in ("NCT123", "nct01234567", "NCT012345678", " NCT01234567"):
        err = _error(sample(**{f"{PS}.identificationModule.nctId": bad}))
        assert err.path.endswith("identificationModule.nctId")
        assert "malformed nctId" in err.message and repr(bad) in err.message
    err = _error({"hasResults": False})
    assert err.path == "$.protocolSection" and "missing" in err.message


@pytest.mark.parametrize("good", ["2023", "2023-02", "2023-02-28", "2024-02-29", "2023-12-31"])
def test_partial_dates_accepted(good):
    study = parse_studies(sample(**{f"{PS}.statusModule.startDateStruct.date": good}), "d")[0]
    assert study.protocol_section.status_module.start_date_struct.date == good


@pytest.mark.parametrize(
    "bad", ["2023-13", "2023-00", "2023-02-30", "2023-02-29", "23-01", "2023/01", "2023-1", ""]
)
def test_partial_dates_rejected(bad):
    err = _error(sample(**{f"{PS}.statusModule.startDateStruct.date": bad}))
    assert err.path == "$.protocolSection.statusModule.startDateStruct.date"
    assert repr(bad) in err.message


def test_full_dates_must_be_full():
    err = _error(sample(**{f"{PS}.statusModule.studyFirstSubmitDate": "2024-01"}))
    assert err.path.endswith("statusModule.studyFirstSubmitDate")


@pytest.mark.parametrize("bad", ["18", "18 years", "18 Yrs", "-1 Years", "18  Years", "N/A"])
def test_ages_follow_the_api_pattern(bad):
    err = _error(sample(**{f"{PS}.eligibilityModule.minimumAge": bad}))
    assert err.path == "$.protocolSection.eligibilityModule.minimumAge"
    assert "does not match" in err.message


@pytest.mark.parametrize(("lat", "lon"), [(90.5, 0), (-91, 0), (0, 180.01), (0, -181)])
def test_geo_points_range_checked(lat, lon):
    loc = f"{PS}.contactsLocationsModule.locations.0.geoPoint"
    err = _error(sample(**{loc: {"lat": lat, "lon": lon}}))
    assert err.path.startswith("$.protocolSection.contactsLocationsModule.locations[0].geoPoint.")


def test_types_are_strict():
    for path, bad in [
        (f"{PS}.designModule.enrollmentInfo.count", "12"),
        (f"{PS}.designModule.enrollmentInfo.count", -1),
        (f"{PS}.eligibilityModule.healthyVolunteers", "false"),
        (f"{PS}.eligibilityModule.healthyVolunteers", 0),
        (f"{PS}.identificationModule.briefTitle", 5),
        (f"{PS}.conditionsModule.conditions", "Cirrhosis"),
        ("hasResults", "no"),
    ]:
        err = _error(sample(**{path: bad}))
        assert err.path == "$." + path.replace(".0.", "[0]."), (path, err)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (f"{PS}.designModule.phases", ["PHASE1", "PHASE5"]),
        (f"{PS}.designModule.studyType", "INTERVENTION"),
        (f"{PS}.designModule.designInfo.allocation", "N/A"),
        (f"{PS}.designModule.designInfo.maskingInfo.masking", "OPEN"),
        (f"{PS}.sponsorCollaboratorsModule.leadSponsor.class", "COMPANY"),
        (f"{PS}.eligibilityModule.stdAges", ["ADULT", "ELDERLY"]),
        (f"{PS}.armsInterventionsModule.interventions.0.type", "CELL"),
        (f"{PS}.contactsLocationsModule.overallOfficials.0.role", "PI"),
        (f"{PS}.designModule.enrollmentInfo.type", "ANTICIPATED"),
    ],
)
def test_unknown_enumeration_values_are_errors(path, bad):
    err = _error(sample(**{path: bad}))
    assert "is not one of" in err.message
    assert err.path.startswith("$." + path.split(".0.")[0].replace(".0", ""))


def test_load_studies_from_path_text_and_bytes(tmp_path):
    target = tmp_path / "one.json"
    target.write_text(json.dumps(SAMPLE), encoding="utf-8")
    assert load_studies(target)[0].nct_id == "NCT01234567"
    assert load_studies(str(target))[0].nct_id == "NCT01234567"
    assert load_studies(json.dumps([SAMPLE]))[0].nct_id == "NCT01234567"
    with_bom = b"\xef\xbb\xbf" + json.dumps(SAMPLE).encode()
    assert dump_study(load_studies(with_bom)[0]) == SAMPLE
    page = json.dumps({"studies": [SAMPLE], "totalCount": 1}).encode()
    assert [dump_study(s) for s in load_studies(page)] == [SAMPLE]


def test_load_studies_errors(tmp_path):
    with pytest.raises(RecordError) as info:
        load_studies(b'{"studies": [\n  {"protocolSection": \n', "broken.json")
    assert info.value.source == "broken.json" and "malformed JSON" in info.value.message
    assert "line 3 column" in info.value.message
    with pytest.raises(RecordError, match="empty input"):
        load_studies(b"  ", "blank.json")
    with pytest.raises(RecordError, match="expected a study object"):
        load_studies(b"42", "num.json")
    with pytest.raises(SourceError) as missing:
        load_studies(tmp_path / "nope.json")
    assert str(tmp_path / "nope.json") in str(missing.value)
    page = {"studies": [SAMPLE, sample(**{f"{PS}.statusModule.overallStatus": "OPEN"})]}
    with pytest.raises(RecordError) as info:
        load_studies(json.dumps(page).encode(), "p.json")
    assert info.value.path == "$.studies[1].protocolSection.statusModule.overallStatus"
    single = sample(**{f"{PS}.identificationModule.nctId": "NCT1"})
    with pytest.raises(RecordError) as info:
        load_studies(json.dumps(single).encode(), "s.json")
    assert info.value.path == "$.protocolSection.identificationModule.nctId"


def test_models_are_immutable():
    study = parse_studies(SAMPLE, "s")[0]
    with pytest.raises(ValueError):
        study.has_results = True


def test_garbage_collector_state_is_restored():
    import gc

    assert gc.isenabled()
    load_studies(json.dumps(SAMPLE).encode())
    parse_studies([SAMPLE], "l")
    assert gc.isenabled()
    with pytest.raises(RecordError):
        load_studies(b"[1]", "bad")
    assert gc.isenabled()
    gc.disable()
    try:
        load_studies(json.dumps(SAMPLE).encode())
        assert not gc.isenabled()  # a caller's disabled collector stays disabled
    finally:
        gc.enable()

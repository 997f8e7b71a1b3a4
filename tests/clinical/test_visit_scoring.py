"""MELD, MELD-Na, MELD 3.0 and Child-Pugh at a visit, through trialdesk.clinical.scores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trialdesk.clinical import encephalopathy_category, visit_scores
from trialdesk.clinical.scores import child_pugh, meld

LABS = {
    "bilirubin": "2.0 mg/dL",
    "inr": 1.5,
    "creatinine": "1.2 mg/dL",
    "sodium": "130 mmol/L",
    "albumin": "3.0 g/dL",
}


def test_hand_computed_scores():
    s = visit_scores(LABS, "mild", 2, sex="female")
    # MELD = 10 x (0.957 ln 1.2 + 0.378 ln 2 + 1.120 ln 1.5 + 0.643) = 10 x 1.5336 -> 15
    assert s.meld.value == 15 and s.meld.status == "computed"
    # MELD-Na = 15 + 1.32 x 7 - 0.033 x 15 x 7 = 20.775 -> 21
    assert s.meld_na.value == 21
    # MELD 3.0 = 1.33 + 4.56 ln2 + 0.82x7 - 0.24x7 ln2 + 9.09 ln1.5 + 11.14 ln1.2
    #            + 1.85x0.5 - 1.83x0.5 ln1.2 + 6 = 21.54 -> 22
    assert s.meld3.value == 22
    # Child-Pugh: bilirubin 2-3 (2) + albumin 2.8-3.5 (2) + INR <1.7 (1) + mild ascites (2)
    #             + HE grade 1-2 (2) = 9, class B (Pugh 1973)
    assert (s.child_pugh.value, s.child_pugh.klass) == (9, "B")
    assert s.child_pugh.result.points["encephalopathy"] == 2
    assert [o.name for o in s] == ["MELD", "MELD-Na", "MELD 3.0", "Child-Pugh"]
    assert s.to_dict()["MELD"]["value"] == 15


def test_same_as_calling_the_scores_directly():
    s = visit_scores({**LABS, "bilirubin": "34.2 umol/L"}, "none", 0)
    assert s.meld.result == meld("34.2 umol/L", 1.5, "1.2 mg/dL")
    assert s.child_pugh.value == child_pugh("34.2 umol/L", "3.0 g/dL", 1.5, "none", "none").value


def test_missing_inputs_are_unknown_with_reasons_never_zero():
    s = visit_scores({"bilirubin": "2.0 mg/dL", "inr": 1.5, "creatinine": None}, None, None)
    for o in s:
        assert o.status == "unknown" and o.value is None and not o.known
    assert s.meld.reasons == ("not recorded at this visit: creatinine",)
    assert "sex" in s.meld3.reasons[0] and "albumin" in s.meld3.reasons[0]
    assert s.child_pugh.reasons == ("not recorded at this visit: albumin, ascites, encephalopathy",)
    assert visit_scores(LABS, "mild", 1, dialysis=None).meld.reasons == (
        "not recorded at this visit: dialysis status",
    )


def test_unusable_input_is_unknown():
    s = visit_scores({**LABS, "albumin": "< 3.6 g/dL"}, "none", 0, sex="male")
    assert s.child_pugh.status == "unknown"
    assert "cannot be computed" in s.child_pugh.reasons[0]
    assert s.meld.status == "computed"


def test_dialysis_and_variant():
    s = visit_scores(
        LABS, "mild", "grade-1-2", sex="male", dialysis=True, child_pugh_variant="albumin-3.0"
    )
    assert "dialysis" in s.meld.result.inputs
    assert s.child_pugh.result.version.endswith("'albumin-3.0'")


def test_encephalopathy_grades():
    assert [encephalopathy_category(g) for g in (0, 1, 2, 3, 4)] == [
        "none",
        "grade-1-2",
        "grade-1-2",
        "grade-3-4",
        "grade-3-4",
    ]
    assert encephalopathy_category("2") == "grade-1-2"
    assert encephalopathy_category(None) is None
    with pytest.raises(ValueError, match="West Haven grades are 0 to 4"):
        encephalopathy_category(5)


def test_bad_unit_and_category_raise():
    with pytest.raises(ValueError, match="bilirubin"):
        visit_scores({**LABS, "bilirubin": "2 U/L"}, "none", 0)
    s = visit_scores(LABS, "huge", 0)
    assert s.child_pugh.status == "unknown" and "ascites 'huge'" in s.child_pugh.reasons[0]
    assert isinstance(visit_scores(LABS, "none", 0).meld.value, int | Decimal)

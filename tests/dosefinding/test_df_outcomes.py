"""Outcome strings in the field's notation (Brock 2019, trialr / escalation syntax)."""

import pytest

from trialdesk.dosefinding import DoseFindingError, TrialState, parse_outcomes


def test_parse_and_print_round_trip():
    out = parse_outcomes("1NNN 2NTN 2NNN")
    assert str(out) == "1NNN 2NTN 2NNN"
    assert [c.dose for c in out.cohorts] == [1, 2, 2]
    assert out.cohorts[1].dlts == (False, True, False)
    assert out.n_patients == 9
    assert out.counts(4) == ((3, 6, 0, 0), (0, 1, 0, 0), (1, 2, 0, 0))


def test_back_to_back_cohorts_and_lower_case_and_empty():
    assert str(parse_outcomes("1NNN2ntn")) == "1NNN 2NTN"
    assert len(parse_outcomes("")) == 0
    assert len(parse_outcomes("   ")) == 0


def test_state_from_outcomes_has_current_dose():
    st = TrialState.from_outcomes("1NNN 2NTN 1NNT", 3)
    assert st.current == 1 and st.n == (6, 3, 0) and st.y == (1, 1, 0) and st.cohorts == (2, 1, 0)
    assert st.highest_tried == 2


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("1NXN", "letter 'X' at patient 2"),
        ("NNN", "dose level (a number) is missing"),
        ("1NNN 2N-N", "unexpected character '-'"),
        ("0NNN", "dose levels start at 1"),
        ("1NNN 12", "unexpected character"),
    ],
)
def test_malformed_strings_name_the_problem(text, fragment):
    with pytest.raises(DoseFindingError, match="outcomes") as e:
        parse_outcomes(text)
    assert fragment in str(e.value)


def test_dose_out_of_range_names_the_cohort():
    with pytest.raises(
        DoseFindingError,
        match=r"cohort 2 \('5NNN'\): dose level 5 is out of "
        r"range 1\.\.4",
    ):
        parse_outcomes("1NNN 5NNN", n_doses=4)


def test_non_string_rejected():
    with pytest.raises(DoseFindingError, match="expected a string"):
        parse_outcomes(123)  # type: ignore[arg-type]

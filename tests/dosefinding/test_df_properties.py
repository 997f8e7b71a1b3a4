"""Property tests: no design skips an untried dose; no design recommends a dose at or above
one it declares too toxic."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.dosefinding import BOIN, ThreePlusThree, TrialState, make_design
from trialdesk.dosefinding.outcomes import Cohort, Outcomes

DESIGNS = {
    "3+3": ThreePlusThree(doses=5),
    "BOIN": BOIN(doses=5, target=0.3),
    "CRM": make_design("crm", 5, target=0.25),
    "CRM logistic": make_design("crm", 5, target=0.3, model="logistic"),
}

dlt_sequences = st.lists(st.integers(0, 3), min_size=1, max_size=10)


def follow(design, dlts):
    """Walk the design on a sequence of cohort DLT counts; yield (state, decision)."""
    out = Outcomes()
    dec = design.next_dose(out)
    for k in dlts:
        if dec.stop:
            return
        out = out.then(Cohort(dec.next_dose, (True,) * k + (False,) * (3 - k)))
        state = TrialState.from_outcomes(out, design.n_doses)
        dec = design.decide(state)
        yield state, dec


@settings(max_examples=60, deadline=None)
@given(dlts=dlt_sequences, name=st.sampled_from(sorted(DESIGNS)))
def test_never_skips_an_untried_dose(dlts, name):
    design = DESIGNS[name]
    for state, dec in follow(design, dlts):
        if not dec.stop:
            assert dec.next_dose <= state.highest_tried + 1, (name, state, dec.reason)


@settings(max_examples=40, deadline=None)
@given(
    hist=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), min_size=1, max_size=6),
    name=st.sampled_from(sorted(DESIGNS)),
)
def test_never_skips_from_any_history(hist, name):
    design = DESIGNS[name]
    out = Outcomes(tuple(Cohort(d, (True,) * k + (False,) * (3 - k)) for d, k in hist))
    dec = design.next_dose(out)
    state = TrialState.from_outcomes(out, 5)
    if not dec.stop:
        assert dec.next_dose <= state.highest_tried + 1, (name, str(out), dec.reason)


@settings(max_examples=60, deadline=None)
@given(dlts=dlt_sequences)
def test_boin_never_recommends_an_eliminated_dose(dlts):
    design = DESIGNS["BOIN"]
    for state, dec in follow(design, dlts):
        elim = design.eliminated_from(state)
        if elim is not None:
            assert dec.stop or dec.next_dose < elim, (state, dec.reason)
            assert dec.mtd is None or dec.mtd < elim


@settings(max_examples=60, deadline=None)
@given(dlts=dlt_sequences)
def test_3p3_never_recommends_at_or_above_a_too_toxic_dose(dlts):
    design = DESIGNS["3+3"]
    for state, dec in follow(design, dlts):
        toxic = [
            j + 1
            for j in range(5)
            if state.n[j] and design._verdict(state.n[j], state.y[j]) == "toxic"
        ]
        if toxic:
            assert dec.stop or dec.next_dose < min(toxic), (state, dec.reason)
            assert dec.mtd is None or dec.mtd < min(toxic)

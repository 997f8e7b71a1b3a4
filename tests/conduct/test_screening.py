"""Screening log: numbers, the engine's result, attestations, the investigator's signature,
screen failures with reasons, and bad input refused with nothing saved."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conduct.conftest import ELIGIBLE, PASSWORD, SETTLED, eligible_plain, screen_bj

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import EligibilityAssessment, Participant, Signature

pytestmark = pytest.mark.django_db


def test_screening_gives_a_number_and_the_engine_result(setup):
    p = screen_bj(setup)
    assert p.screening_number == "BJ302-S001"
    assert p.status == Participant.SCREENING
    a = p.latest_assessment()
    assert a.overall == "INCOMPLETE"
    assert any("inc-1" in r for r in a.result["reasons"])
    born = date(1970, 1, 5)
    second = screen_bj(setup, initials="TTB", birth_date=born, data=eligible_plain(birth_date=born))
    assert second.screening_number == "BJ302-S002"
    # who and why are in the history of both records
    assert p.history.first().history_user == setup.users[("BJ302", "coordinator")]


def test_investigator_settles_and_signs(setup):
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    assert a.overall == "ELIGIBLE"
    services.sign_eligibility(a, inv, password=PASSWORD, meaning=ELIGIBLE)
    p.refresh_from_db()
    assert p.status == Participant.ELIGIBLE
    sig = a.signatures.get()
    assert sig.printed_name == "Investigator BJ302"
    assert sig.meaning == ELIGIBLE
    assert "UTC" in str(sig)


def test_a_wrong_password_signs_nothing(setup):
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    with pytest.raises(ConductError, match="password is not correct"):
        services.sign_eligibility(a, inv, password="wrong", meaning=ELIGIBLE)
    assert not Signature.objects.exists()
    p.refresh_from_db()
    assert p.status == Participant.SCREENING


def test_incomplete_cannot_be_signed_and_coordinator_cannot_sign(setup):
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    with pytest.raises(ConductError, match="incomplete"):
        services.sign_eligibility(p.latest_assessment(), inv, password=PASSWORD, meaning=ELIGIBLE)
    coord = setup.users[("BJ302", "coordinator")]
    with pytest.raises(ConductError, match="may not sign eligibility"):
        services.sign_eligibility(p.latest_assessment(), coord, password=PASSWORD, meaning=ELIGIBLE)


def test_screen_failure_keeps_its_reasons(setup):
    # sodium 120 mmol/L: NCT05227846 exclusion 9 (docs/eligibility.md)
    data = eligible_plain()
    data = data.replace("value: 134", "value: 120")
    p = screen_bj(setup, data=data)
    assert p.status == Participant.SCREEN_FAILED
    assert "exclusion exc-9" in p.screen_failure_reasons


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"screened_on": date(2999, 1, 1)}, "in the future"),
        ({"birth_date": date(2027, 1, 1)}, "birth date is not before"),
        ({"birth_date": date(1970, 1, 1)}, "differs from the form"),
        ({"data": "labs: [1, 2"}, "not valid JSON or YAML"),
        ({"data": "a: &a [x, x]\nb: [*a, *a]"}, r"aliases \(\*a\) are not accepted"),
        ({"data": "id: x\n" + "#" * 1_000_000}, "a patient file is at most"),
        ({"data": '{"resourceType": "Patient"}', "source": "fhir"}, "not a FHIR Bundle"),
        ({"data": "labs: {bilirubin: {value: 45, unit: kg, date: 2026-11-15}}"}, "bilirubin"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(setup, over, message):
    with pytest.raises(ConductError, match=message):
        screen_bj(setup, **over)
    assert not Participant.objects.exists()
    assert not EligibilityAssessment.objects.exists()


def test_duplicate_participant_is_refused(setup):
    screen_bj(setup)
    with pytest.raises(ConductError, match="already screened .* as BJ302-S001"):
        screen_bj(setup)
    assert Participant.objects.count() == 1


def test_roles_and_sites_are_checked(setup):
    with pytest.raises(ConductError, match="may not screen"):
        screen_bj(setup, role="monitor")
    other = setup.users[("VINMEC", "coordinator")]
    with pytest.raises(ConductError, match="does not work at Beijing 302"):
        screen_bj(setup, user=other)

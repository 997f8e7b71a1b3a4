"""A correction of a signed-eligible (or enrolled) participant's screening details re-runs
eligibility; a changed result is flagged (deviation + dashboard item) for the
investigator, never silently."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conduct.conftest import make_eligible
from tests.conduct.test_enrolment import ENROLLED, coordinator

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Participant, ProtocolDeviation

pytestmark = pytest.mark.django_db


def test_a_correction_that_makes_an_enrolled_participant_too_old_is_flagged(setup, client):
    (p,) = make_eligible(setup, 1)
    services.enrol(p, coordinator(setup), at=ENROLLED)
    p.refresh_from_db()
    signed = p.latest_assessment()
    dm = setup.users[("BJ302", "data manager")]
    # a typo fixed without effect on eligibility: re-run, unchanged, said in the history
    services.correct_participant(p, dm, reason="typo", birth_date=date(1960, 3, 2))
    assert not p.deviations.exists() and p.latest_assessment().pk == signed.pk
    assert "still ELIGIBLE" in p.history.first().history_change_reason
    # born 1949: 77 on the screening date, over the protocol's 75 (inclusion 1)
    services.correct_participant(
        p, dm, reason="birth year misread from the ID card", birth_date=date(1949, 3, 1)
    )
    p.refresh_from_db()
    assert p.status == Participant.ENROLLED  # the software does not un-enrol anyone
    new = p.latest_assessment()
    assert new.pk != signed.pk and new.overall == "INELIGIBLE" and not new.signatures.exists()
    deviation = p.deviations.get()
    assert deviation.kind == ProtocolDeviation.ELIGIBILITY_CHANGED and deviation.needs_review
    assert "birth_date" in deviation.description and "INELIGIBLE" in deviation.description
    assert "re-run: INELIGIBLE, flagged" in p.history.first().history_change_reason
    # on the dashboard until the investigator reviews it
    inv = setup.users[("BJ302", "investigator")]
    client.force_login(inv)
    page = client.get("/conduct/trials/NCT05227846/").content.decode()
    assert "For the investigator" in page and "eligibility changed" in page
    with pytest.raises(ConductError, match="may not review"):
        services.screening.review_deviation(deviation, dm, note="x")
    response = client.post(
        f"/conduct/participants/{p.pk}/deviations/{deviation.pk}/review/",
        {"note": "continues in follow-up; sponsor and ethics committee informed"},
        follow=True,
    )
    assert "Review recorded" in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.reviewed_by == inv and deviation.reviewed_at is not None
    page = client.get("/conduct/trials/NCT05227846/").content.decode()
    assert "For the investigator" not in page
    with pytest.raises(ConductError, match="not waiting"):
        services.screening.review_deviation(deviation, inv, note="again")


def test_a_correction_before_signing_does_not_rerun(setup):
    (p,) = make_eligible(setup, 1)
    dm = setup.users[("BJ302", "data manager")]
    services.correct_participant(p, dm, reason="initials", initials="QQQ")
    assert not p.deviations.exists()

"""Consent guard, enrolment into cohorts, the safety review committee's decisions and the
dosing record (NCT05227846: 3+3 over DL1..DL4; NCT05331872: single arm up to 20)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.conduct.conftest import APPROVE, PASSWORD, committee_member, make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import (
    Cohort,
    ConsentFormVersion,
    ConsentRecord,
    DosingRecord,
    Participant,
    write,
)

pytestmark = pytest.mark.django_db

ENROLLED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # after the consent of make_eligible


def coordinator(setup):
    return setup.users[("BJ302", "coordinator")]


def dose(setup, p, **over):
    args = dict(
        product_lot="UC-MSC-0001",
        cells=50_000_000,
        started_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 22, 9, 40, tzinfo=UTC),
        route="intravenous infusion",
        volume_ml=Decimal("100"),
    )
    args.update(over)
    return services.record_dose(p, coordinator(setup), **args)


def test_nothing_but_screening_before_consent(setup):
    (p,) = make_eligible(setup, 1, consent=False)
    with pytest.raises(ConductError, match="no consent recorded: only screening"):
        services.enrol(p, coordinator(setup), at=ENROLLED)
    p.refresh_from_db()
    assert p.status == Participant.ELIGIBLE and p.participant_id is None


def test_consent_records_are_never_overwritten_and_reconsent_is_forced(setup):
    (p,) = make_eligible(setup, 1)
    record = p.consents.get()
    record.note = "changed"
    with pytest.raises(ConductError, match="never changed"):
        write(record, coordinator(setup), "try")
    services.enrol(p, coordinator(setup), at=ENROLLED)
    v2 = write(
        ConsentFormVersion(
            study=setup.bj,
            version="2.0",
            approved_on=datetime(2026, 11, 21).date(),
            forces_reconsent=True,
        ),
        setup.admin,
    )
    p.refresh_from_db()
    with pytest.raises(ConductError, match="v2.0 forces reconsent"):
        dose(setup, p)
    services.record_consent(
        p,
        coordinator(setup),
        form_version=v2,
        consented_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
    )
    assert ConsentRecord.objects.filter(participant=p).count() == 2
    assert dose(setup, p).dose_level == "DL1"


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (datetime(2999, 1, 1, tzinfo=UTC), "in the future"),
        (datetime(2021, 6, 1, tzinfo=UTC), "precedes the approval"),
    ],
)
def test_bad_consent_dates_are_refused(setup, when, message):
    (p,) = make_eligible(setup, 1, consent=False)
    with pytest.raises(ConductError, match=message):
        services.record_consent(
            p, coordinator(setup), form_version=setup.bj.consent_versions.get(), consented_at=when
        )
    assert not ConsentRecord.objects.exists()


def test_first_cohort_opens_at_the_start_level_and_never_takes_a_fourth(setup):
    people = make_eligible(setup, 4)
    for p in people[:3]:
        services.enrol(p, coordinator(setup), at=ENROLLED)
    cohort = Cohort.objects.get()
    assert (cohort.number, cohort.dose_level, cohort.capacity) == (1, "DL1", 3)
    assert [p.participant_id for p in Participant.objects.filter(status="enrolled")] == [
        "7846-BJ302-001",
        "7846-BJ302-002",
        "7846-BJ302-003",
    ]
    with pytest.raises(ConductError, match="full .* safety review committee must decide"):
        services.enrol(people[3], coordinator(setup), at=ENROLLED)
    assert Participant.objects.filter(slot__cohort=cohort).count() == 3


def test_escalation_needs_a_signed_decision_that_follows_the_engine(setup):
    people = make_eligible(setup, 4)
    inv = setup.users[("BJ302", "investigator")]
    src = setup.users[("BJ302", "safety review committee member")]
    for p in people[:3]:
        services.enrol(p, coordinator(setup), at=ENROLLED)
        p.refresh_from_db()
        dose(setup, p)
    with pytest.raises(ConductError, match="DLT outcome pending"):
        services.propose_decision(
            setup.bj, src, decision="escalate", dose_level="DL2", rationale=""
        )
    for p in people[:3]:
        services.record_dlt_outcome(p, inv, "no_dlt", "DLT window (28 days) complete, no DLT")
    outcomes, engine, problems = services.recommendation(setup.bj)
    assert (outcomes, engine.next_dose, problems) == ("1NNN", 2, [])
    # going against the engine needs a rationale; a kind that does not match the dose is refused
    with pytest.raises(ConductError, match="departs .* give the rationale"):
        services.propose_decision(setup.bj, src, decision="stay", dose_level="DL1", rationale="")
    with pytest.raises(ConductError, match="does not match"):
        services.propose_decision(
            setup.bj, src, decision="escalate", dose_level="DL1", rationale=""
        )
    decision = services.propose_decision(
        setup.bj, src, decision="escalate", dose_level="DL2", rationale=""
    )
    assert decision.recommended_dose_level == "DL2"
    assert "escalate to dose 2" in decision.recommendation_reason
    # not signed yet: no second cohort
    with pytest.raises(ConductError, match="full"):
        services.enrol(people[3], coordinator(setup), at=ENROLLED)
    with pytest.raises(ConductError, match="may not sign safety review"):
        services.sign_decision(decision, inv, password=PASSWORD, meaning=APPROVE)
    services.sign_decision(decision, src, password=PASSWORD, meaning=APPROVE)
    # One signature is not the protocol's quorum (conduct.escalation.src_quorum: 2)
    decision.refresh_from_db()
    assert not decision.effective
    with pytest.raises(ConductError, match="full"):
        services.enrol(people[3], coordinator(setup), at=ENROLLED)
    with pytest.raises(ConductError, match="already signed"):
        services.sign_decision(decision, src, password=PASSWORD, meaning=APPROVE)
    # a committee member of a site that does not run the study cannot sign
    other = setup.users[("VINMEC", "safety review committee member")]
    with pytest.raises(ConductError, match="does not work at a site of NCT05227846"):
        services.sign_decision(decision, other, password=PASSWORD, meaning=APPROVE)
    services.sign_decision(decision, committee_member(setup), password=PASSWORD, meaning=APPROVE)
    decision.refresh_from_db()
    assert decision.effective
    services.enrol(people[3], coordinator(setup), at=ENROLLED)
    people[3].refresh_from_db()
    assert people[3].slot.cohort.dose_level == "DL2"
    names = [s.printed_name for s in decision.signatures.order_by("signed_at", "pk")]
    assert names == ["Safety Review Committee Member BJ302", "Member 2 BJ302"]


def test_single_arm_takes_up_to_max_enrolment(setup):
    from trialdesk.conduct.services.enrolment import _first_cohort

    cohort = _first_cohort(setup.vm, setup.admin)
    assert (cohort.dose_level, cohort.capacity, cohort.slots.count()) == ("DL1", 20, 20)


def test_dosing_refused_for_the_unenrolled_and_bad_times(setup):
    (p,) = make_eligible(setup, 1)
    with pytest.raises(ConductError, match="not enrolled"):
        dose(setup, p)
    services.enrol(p, coordinator(setup), at=ENROLLED)
    p.refresh_from_db()
    with pytest.raises(ConductError, match="ends before it starts"):
        dose(setup, p, ended_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
    with pytest.raises(ConductError, match="before the consent"):
        dose(
            setup,
            p,
            started_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
            ended_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        )
    assert not DosingRecord.objects.exists()
    d = dose(setup, p)
    assert (d.dose_level, d.cells) == ("DL1", 50_000_000)


def test_enrolment_and_dosing_times_are_checked(setup):
    (p,) = make_eligible(setup, 1)
    with pytest.raises(ConductError, match="enrolment time is before the consent"):
        services.enrol(p, coordinator(setup), at=datetime(2026, 11, 20, tzinfo=UTC))
    with pytest.raises(ConductError, match="enrolment time is in the future"):
        services.enrol(p, coordinator(setup), at=datetime(2999, 1, 1, tzinfo=UTC))
    services.enrol(p, coordinator(setup), at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    p.refresh_from_db()
    with pytest.raises(ConductError, match="starts before the enrolment"):
        dose(setup, p)  # 2026-11-22 09:00, before the enrolment at 12:00


def test_a_dose_other_than_the_levels_is_a_deviation_shown_on_the_participant_page(setup, client):
    from trialdesk.conduct.models import ProtocolDeviation

    people = make_eligible(setup, 2)
    for p in people:
        services.enrol(p, coordinator(setup), at=ENROLLED)
        p.refresh_from_db()
    # DL1 prescribes 5 x10^7 cells (protocol.yaml); tolerance 10% (the default)
    within = dose(setup, people[0], cells=54_000_000)
    assert not within.deviations.exists()
    over = dose(setup, people[1], cells=56_000_000)
    deviation = ProtocolDeviation.objects.get(dose=over)
    assert deviation.kind == ProtocolDeviation.DOSE_DIFFERS
    assert "5.6e+07 cells given; DL1 prescribes 5e+07 (+12.0%, tolerance ±10%)" in (
        deviation.description
    )
    client.force_login(coordinator(setup))
    page = client.get(f"/conduct/participants/{people[1].pk}/").content.decode()
    assert "dose differs from level" in page and "+12.0%" in page
    # through the dosing page: the message says so
    (third,) = make_eligible(setup, 1, first=2)
    services.enrol(third, coordinator(setup), at=ENROLLED)
    response = client.post(
        f"/conduct/participants/{third.pk}/dosing/",
        {"product_lot": "UC-1", "cells": "40000000", "started_at": "2026-11-22 09:00",
         "ended_at": "2026-11-22 09:40", "route": "intravenous infusion", "volume_ml": "100"},
        follow=True,
    )  # fmt: skip
    assert "with a protocol deviation" in response.content.decode()
    assert "-20.0%" in response.content.decode()

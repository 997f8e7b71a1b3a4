"""Races around signatures: two committee members proposing or signing at once, and two
investigators signing the same eligibility; each gives one record and a clear message."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from tests.conduct.conftest import (
    APPROVE,
    ELIGIBLE,
    PASSWORD,
    SETTLED,
    committee_member,
    make_eligible,
    screen_bj,
)
from tests.conduct.test_enrolment import ENROLLED, coordinator, dose

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Cohort, SafetyReviewDecision, Signature, write


def second_member(setup, role="safety review committee member"):
    from trialdesk.conduct.bootstrap import ensure_user

    return ensure_user(
        f"bj302-second-{role.replace(' ', '-')}",
        role,
        [setup.sites["BJ302"]],
        password=PASSWORD,
        first_name="Second",
        last_name="Member",
        own_password=True,
    )


def cohort_one_reviewed(setup):
    """Cohort 1 (DL1) enrolled, dosed and without DLT: ready for the committee."""
    people = make_eligible(setup, 3)
    inv = setup.users[("BJ302", "investigator")]
    for p in people:
        services.enrol(p, coordinator(setup), at=ENROLLED)
        p.refresh_from_db()
        dose(setup, p)
        services.record_dlt_outcome(p, inv, "no_dlt", "DLT window (28 days) complete, no DLT")


def run_together(*calls):
    """Run the calls in threads released at once; each result or ConductError message."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = [""] * len(calls)

    def go(i, call):
        try:
            barrier.wait(timeout=30)
            call()
            results[i] = "ok"
        except ConductError as exc:
            results[i] = str(exc)
        except Exception as exc:  # an IntegrityError is the bug this guards against
            results[i] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.django_db
def test_a_member_signing_a_decision_already_in_effect_is_told_so(setup):
    cohort_one_reviewed(setup)
    src = setup.users[("BJ302", "safety review committee member")]
    decision = services.propose_decision(
        setup.bj, src, decision="escalate", dose_level="DL2", rationale=""
    )
    stale = SafetyReviewDecision.objects.get(pk=decision.pk)  # a page loaded before signing
    services.sign_decision(decision, src, password=PASSWORD, meaning=APPROVE)
    services.sign_decision(decision, second_member(setup), password=PASSWORD, meaning=APPROVE)
    with pytest.raises(ConductError, match="already in effect"):
        services.sign_decision(
            stale, committee_member(setup, 3), password=PASSWORD, meaning=APPROVE
        )
    assert Cohort.objects.filter(dose_level="DL2").count() == 1
    assert decision.signatures.count() == 2


@pytest.mark.django_db
def test_the_database_keeps_one_signature_per_eligibility_assessment(setup):
    from django.utils import timezone

    (p,) = make_eligible(setup, 1)
    assessment = p.latest_assessment()
    assert assessment.signatures.count() == 1
    other = second_member(setup, "investigator")
    second = Signature(
        assessment=assessment,
        signer=other,
        printed_name="Second Member",
        meaning=ELIGIBLE,
        signed_at=timezone.now(),
    )
    with pytest.raises(ConductError, match="conduct_one_eligibility_signature"):
        write(second, other)  # the model's check
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.bulk_create([second])  # a raw insert: the database refuses it


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_members_proposing_at_once_give_one_pending_decision(setup):
    cohort_one_reviewed(setup)
    members = [setup.users[("BJ302", "safety review committee member")], second_member(setup)]
    results = run_together(
        *(
            lambda m=m: services.propose_decision(
                setup.bj, m, decision="escalate", dose_level="DL2", rationale=""
            )
            for m in members
        )
    )
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert any("already waiting for signatures" in r for r in results), results
    assert SafetyReviewDecision.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_three_members_signing_at_once_open_one_cohort(setup):
    # quorum 2: two signatures put it into effect, the third is told so
    cohort_one_reviewed(setup)
    members = [
        setup.users[("BJ302", "safety review committee member")],
        second_member(setup),
        committee_member(setup, 3),
    ]
    decision = services.propose_decision(
        setup.bj, members[0], decision="escalate", dose_level="DL2", rationale=""
    )
    results = run_together(
        *(
            lambda m=m: services.sign_decision(
                SafetyReviewDecision.objects.get(pk=decision.pk),
                m,
                password=PASSWORD,
                meaning=APPROVE,
            )
            for m in members
        )
    )
    assert sorted(r == "ok" for r in results) == [False, True, True], results
    assert any("already in effect" in r for r in results), results
    assert Cohort.objects.filter(dose_level="DL2").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_investigators_signing_eligibility_at_once_give_one_signature(setup):
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]

    assessment = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    signers = [inv, second_member(setup, "investigator")]
    results = run_together(
        *(
            lambda s=s: services.sign_eligibility(
                assessment, s, password=PASSWORD, meaning=ELIGIBLE
            )
            for s in signers
        )
    )
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert assessment.signatures.count() == 1

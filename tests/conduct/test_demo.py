"""``trialdesk demo``: sites, one user per role with a printed password, the synthetic
history of both seed trials; a second run duplicates nothing."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from trialdesk.cli import main
from trialdesk.conduct.models import (
    Cohort,
    LabResult,
    Participant,
    ProtocolDeviation,
    SafetyReviewDecision,
    Site,
    Visit,
)

pytestmark = pytest.mark.django_db


def test_demo_builds_the_history_once_and_prints_working_logins(setup_roles, client):
    from tests.conftest import REPO

    runner = CliRunner()
    # as `make run` does: the registry's records first (the referrals need the listing)
    imported = runner.invoke(main, ["registry", "import", str(REPO / "protocols")])
    assert imported.exit_code == 0, imported.output
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "NCT05227846: synthetic history with 10 participants" in first.output
    assert "NCT05331872: synthetic history with 20 participants" in first.output
    cohorts = [
        (c.dose_level, c.enrolled(), c.capacity)
        for c in Cohort.objects.filter(study__nct_id="NCT05227846").order_by("number")
    ]
    assert cohorts == [("DL1", 3, 3), ("DL2", 3, 3), ("DL2", 1, 3)]
    assert list(
        SafetyReviewDecision.objects.order_by("created_at").values_list("outcomes", "decision")
    ) == [("1NNN", "escalate"), ("1NNN 2NNT", "stay")]
    # dated along the synthetic history (the committee met after each cohort's DLT window),
    # each signed by the protocol's quorum of two members
    from datetime import timedelta

    from django.utils import timezone

    from trialdesk.conduct.models import Referral

    today = timezone.now()
    for d in SafetyReviewDecision.objects.all():
        assert d.created_at < today - timedelta(days=30), d.created_at
        assert d.effective and d.signatures.count() == 2
    # referrals received along the history: three per trial, the oldest declined
    assert Referral.objects.count() == 6
    assert all(r.received_at < today - timedelta(days=2) for r in Referral.objects.all())
    assert Referral.objects.filter(status=Referral.DECLINED).count() == 2
    vinmec = Participant.objects.filter(study__nct_id="NCT05331872", status="enrolled")
    assert vinmec.count() == 20 and all(p.doses.count() == 1 for p in vinmec)
    assert Participant.objects.filter(status="screen_failed").count() == 1
    # follow-up: visits with labs, the DLT of cohort 2 from an adverse event, deviations
    assert Visit.objects.filter(participant__study__nct_id="NCT05331872", code="M12").exists()
    assert LabResult.objects.count() > 500
    dlt = Participant.objects.get(dlt_outcome="dlt")
    assert dlt.adverse_events.filter(term="Infusion related reaction", dlt=True).exists()
    assert ProtocolDeviation.objects.filter(kind="visit late").count() == 2
    assert CliRunner().invoke(main, ["audit", "verify"]).exit_code == 0

    second = runner.invoke(main, ["demo"])
    assert second.exit_code == 0, second.output
    assert "synthetic history" not in second.output
    assert Participant.objects.count() == 30 and Site.objects.count() == 2
    # the printed password logs in
    line = re.search(r"demo-coordinator\s+(\S+)\s+coordinator", second.output)
    assert client.login(username="demo-coordinator", password=line.group(1))

"""``trialdesk demo``: every dosed demo participant traces back to a donor; a second run adds
nothing; the audit chain still verifies."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from trialdesk.cellproduct.models import Collection, DoseUnit
from trialdesk.cellproduct.services.trace import trace
from trialdesk.cli import main
from trialdesk.conduct.audit import verify
from trialdesk.conduct.models import DosingRecord

pytestmark = pytest.mark.django_db


def test_demo_doses_trace_back_to_donors(setup_roles):
    from django.apps import apps

    from trialdesk.cellproduct.roles import sync_roles

    sync_roles(apps)
    runner = CliRunner()
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    doses = DosingRecord.objects.count()
    assert doses > 0 and DoseUnit.objects.filter(dosing_record__isnull=False).count() == doses
    assert "NCT05331872: 20 doses traced to their donors" in first.output
    for dosing in DosingRecord.objects.select_related("participant"):
        (back,) = trace(dosing.participant.participant_id)
        assert back.donors, dosing.participant
    collections = Collection.objects.count()
    collection = Collection.objects.order_by("pk").first()
    (forward,) = trace(collection.din.keyed)
    assert len(forward.lots) == 2 and len(forward.participants) == 4  # one donor -> 4 doses
    again = runner.invoke(main, ["demo"])
    assert again.exit_code == 0, again.output
    assert Collection.objects.count() == collections
    assert DoseUnit.objects.count() == doses
    assert verify() == []

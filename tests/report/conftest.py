"""The conduct fixtures (seed sites, studies, one user per role at each site) for the report's
page and command tests, and a trial with history built like ``trialdesk demo``'s."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conduct.conftest import PASSWORD, _protocols, setup, setup_roles  # noqa: F401


@pytest.fixture
def trial(setup):  # noqa: F811 (the imported fixture)
    """NCT05227846 with the demo's escalation history at BJ302 (7 enrolled in 3 cohorts, one
    screen failure), and also run at Vinmec, where one participant has been screened."""
    from tests.conduct.conftest import committee_member, eligible_plain

    from trialdesk.conduct import services
    from trialdesk.conduct.demo import build_escalation_history
    from trialdesk.conduct.models import TrialSite
    from trialdesk.conduct.roles import ROLES

    users = {role: setup.users[("BJ302", role)] for role in ROLES}
    # the protocol's quorum is two committee members (as the demo keys its second user)
    users["second safety review committee member"] = committee_member(setup)
    build_escalation_history(setup.bj, setup.sites["BJ302"], users, dict.fromkeys(users, PASSWORD))
    TrialSite.objects.create(study=setup.bj, site=setup.sites["VINMEC"])
    setup.vinmec_participant = services.screen_participant(
        setup.bj,
        setup.sites["VINMEC"],
        setup.users[("VINMEC", "coordinator")],
        initials="VMA",
        sex="male",
        birth_date=date(1968, 4, 2),
        screened_on=date(2026, 11, 20),
        source="plain",
        data=eligible_plain(),
    )
    return setup

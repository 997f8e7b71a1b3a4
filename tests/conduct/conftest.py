"""Fixtures for the conduct app: the seed sites and studies, one user per role at each site,
and screening data (the plain format of docs/protocol-format.md)."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from django.apps import apps as django_apps
from tests.conftest import REPO

PASSWORD = "correct horse battery staple"
# Signature meanings from the fixed lists (services/signing.py::MEANINGS).
ELIGIBLE = "I confirm the eligibility decision for this participant"
APPROVE = "I approve this safety review committee decision"


@pytest.fixture(autouse=True)
def _protocols(monkeypatch, settings):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(REPO / "protocols"))
    # Test-only: a fast hasher (PBKDF2 costs ~0.5 s a password on this shared machine).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def setup_roles(db):
    """The roles' groups (a transactional test's flush empties the migration's)."""
    from trialdesk.conduct.roles import sync_roles

    sync_roles(django_apps)


@pytest.fixture
def setup(setup_roles, django_user_model):
    """The two sites and studies; ``users[(site code, role)]`` for every role."""
    from trialdesk.conduct.bootstrap import ensure_seed_sites, ensure_user
    from trialdesk.conduct.models import Site
    from trialdesk.conduct.roles import ROLES

    admin = django_user_model.objects.create_user("setup-admin", password=PASSWORD)
    studies = {s.nct_id: s for s in ensure_seed_sites(admin)}
    sites = {s.code: s for s in Site.objects.all()}
    users = {}
    for code, site in sites.items():
        for role in ROLES:
            name = f"{code.lower()}-{role.replace(' ', '-')}"
            users[(code, role)] = ensure_user(
                name,
                role,
                [site],
                password=PASSWORD,
                first_name=role.title(),
                last_name=code,
                own_password=True,
            )

    class Setup:
        pass

    s = Setup()
    s.studies, s.sites, s.users, s.admin = studies, sites, users, admin
    s.bj = studies["NCT05227846"]
    s.vm = studies["NCT05331872"]
    return s


def committee_member(setup, n: int = 2, site: str = "BJ302"):
    """Another safety review committee member (the protocol's quorum is two)."""
    from trialdesk.conduct.bootstrap import ensure_user

    return ensure_user(
        f"{site.lower()}-src-{n}",
        "safety review committee member",
        [setup.sites[site]],
        password=PASSWORD,
        first_name=f"Member {n}",
        last_name=site,
        own_password=True,
    )


def eligible_plain(screened_on: date = date(2026, 11, 20), **over) -> str:
    """A plain-format patient who meets NCT05227846's computable criteria (the repository's
    example patient, examples/patient-NCT05227846.yaml)."""
    data = yaml.safe_load((REPO / "examples" / "patient-NCT05227846.yaml").read_text())
    data.pop("attestations", None)
    data.update(over)
    return yaml.safe_dump(data, sort_keys=False)


# NCT05227846's attestations (protocols/NCT05227846/protocol.yaml): inc-1 is an inclusion
# (yes = met), the others exclusions (no = does not apply).
SETTLED = {
    "inc-1": True,
    "exc-4.1": False,
    "exc-5.1": False,
    "exc-8": False,
    "exc-13.2": False,
    "exc-17.2": False,
    "exc-20": False,
}


def screen_bj(setup, role: str = "coordinator", *, user=None, **over):
    """Screen one participant at Beijing 302 for NCT05227846 with eligible plain data, as the
    site's user of ``role`` (or ``user``); ``over`` replaces any screening argument."""
    from trialdesk.conduct import services

    args = dict(
        initials="NVA",
        sex="male",
        birth_date=date(1968, 4, 2),
        screened_on=date(2026, 11, 20),
        source="plain",
        data=eligible_plain(),
    )
    args.update(over)
    user = user if user is not None else setup.users[("BJ302", role)]
    return services.screen_participant(setup.bj, setup.sites["BJ302"], user, **args)


def make_eligible(setup, n: int, *, consent: bool = True, first: int = 0):
    """``n`` NCT05227846 participants at BJ302, screened, settled, signed and (by default)
    consented, ready to enrol."""
    from datetime import UTC, datetime

    from trialdesk.conduct import services

    coordinator = setup.users[("BJ302", "coordinator")]
    investigator = setup.users[("BJ302", "investigator")]
    version = setup.bj.consent_versions.get()
    made = []
    for i in range(first, first + n):
        born = date(1960 + i, 3, 1)
        p = services.screen_participant(
            setup.bj,
            setup.sites["BJ302"],
            coordinator,
            initials=f"P{chr(65 + i // 26)}{chr(65 + i % 26)}",
            sex="male",
            birth_date=born,
            screened_on=date(2026, 11, 20),
            source="plain",
            data=eligible_plain(birth_date=born),
        )
        a = services.reassess(p.latest_assessment(), investigator, attestations=SETTLED)
        services.sign_eligibility(a, investigator, password=PASSWORD, meaning=ELIGIBLE)
        if consent:
            services.record_consent(
                p,
                coordinator,
                form_version=version,
                consented_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
            )
        p.refresh_from_db()
        made.append(p)
    return made

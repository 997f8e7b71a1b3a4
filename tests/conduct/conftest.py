"""Fixtures for the conduct app: the seed sites and studies, one user per role at each site,
and screening data (the plain format of docs/protocol-format.md)."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from tests.conftest import REPO

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _protocols(monkeypatch, settings):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(REPO / "protocols"))
    # Test-only: a fast hasher (PBKDF2 costs ~0.5 s a password on this shared machine).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def setup(db, django_user_model):
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
                name, role, [site], password=PASSWORD, first_name=role.title(), last_name=code
            )

    class Setup:
        pass

    s = Setup()
    s.studies, s.sites, s.users, s.admin = studies, sites, users, admin
    s.bj = studies["NCT05227846"]
    s.vm = studies["NCT05331872"]
    return s


def eligible_plain(screened_on: date = date(2026, 11, 20), **over) -> str:
    """A plain-format patient who meets NCT05227846's computable criteria (the repository's
    example patient, examples/patient-NCT05227846.yaml)."""
    data = yaml.safe_load((REPO / "examples" / "patient-NCT05227846.yaml").read_text())
    data.pop("attestations", None)
    data.update(over)
    return yaml.safe_dump(data, sort_keys=False)

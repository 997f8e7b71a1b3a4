"""The sites of the two seed trials, their studies and first consent form versions, and
user accounts with a role at a site. Idempotent: running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import (
    ConsentFormVersion,
    ReferenceRange,
    Site,
    SiteMembership,
    Study,
    TrialSite,
    write,
)
from trialdesk.conduct.roles import ROLES


@dataclass(frozen=True)
class SiteSeed:
    code: str
    name: str
    city: str
    country: str
    nct_id: str


#: The seed trials' sites as their public listings name them (shared/seeds/).
SEED_SITES = (
    SiteSeed("BJ302", "Beijing 302 Hospital", "Beijing", "China", "NCT05227846"),
    SiteSeed(
        "VINMEC",
        "Vinmec Research Institute of Stem Cell and Gene Technology",
        "Hanoi",
        "Vietnam",
        "NCT05331872",
    ),
)


#: Adult reference intervals (conventional units) from Harrison's Principles of Internal
#: Medicine, 21st ed. (2022), Appendix "Laboratory Values of Clinical Importance"
#: (Kratz A et al.), tables of clinical chemistry and haematology; where the table gives sex
#: ranges the wider limit is used. They seed a new site; each site replaces them with its
#: own laboratory's limits (Django admin, a reason required for a change).
SEED_RANGES = {
    "alt": ("", "41 U/L"),
    "ast": ("", "38 U/L"),
    "bilirubin": ("", "1.3 mg/dL"),
    "creatinine": ("", "1.2 mg/dL"),
    "albumin": ("3.5 g/dL", ""),
    "sodium": ("136 mmol/L", "146 mmol/L"),
    "platelets": ("165 10*9/L", "415 10*9/L"),
    "wbc": ("3.54 10*9/L", "9.06 10*9/L"),
    "neutrophils": ("1.56 10*9/L", "6.13 10*9/L"),
    "hemoglobin": ("12.0 g/dL", "16.2 g/dL"),
}
RANGE_SOURCE = "Harrison's 21st ed. appendix (seed; replace with the site laboratory's)"


def ensure_seed_sites(by: Any) -> list[Study]:
    """The two sites, their studies (titles from the protocol files) and consent form v1.0."""
    studies = []
    with transaction.atomic():
        for seed in SEED_SITES:
            site, _ = Site.objects.get_or_create(
                code=seed.code,
                defaults={"name": seed.name, "city": seed.city, "country": seed.country},
            )
            study = Study.objects.filter(nct_id=seed.nct_id).first()
            if study is None:
                from trialdesk.protocol import find_protocol, load_protocol

                protocol = load_protocol(find_protocol(seed.nct_id))
                study = Study.objects.create(nct_id=seed.nct_id, title=protocol.title[:300])
            TrialSite.objects.get_or_create(study=study, site=site)
            for analyte, (lln, uln) in SEED_RANGES.items():
                if not ReferenceRange.objects.filter(site=site, analyte=analyte).exists():
                    write(
                        ReferenceRange(
                            site=site, analyte=analyte, lln=lln, uln=uln, source=RANGE_SOURCE
                        ),
                        by,
                    )
            if not study.consent_versions.exists():
                write(
                    ConsentFormVersion(
                        study=study,
                        version="1.0",
                        approved_on=date(2022, 1, 1),
                        summary="Initial approved informed consent form",
                    ),
                    by,
                )
            studies.append(study)
    return studies


def ensure_user(
    username: str,
    role: str,
    sites: list[Site],
    *,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    own_password: bool = False,
) -> Any:
    """A user with ``role`` (one of ROLES) at ``sites``. A new user gets ``password``; an
    existing one keeps theirs when ``password`` is None. ``own_password``: the password is
    handed to the person the account is for (demo, tests), so it may sign; otherwise the
    user must change it before signing."""
    if role not in ROLES:
        raise ConductError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name}
    )
    if created or password is not None:
        if password is None:
            raise ConductError(f"{username}: a new user needs a password")
        user.set_password(password)
        user._own_password_change = own_password  # handed to the person: not a reset
        user.save()
        if own_password:
            from trialdesk.conduct.services.signing import record_own_password

            record_own_password(user)
    user.groups.add(Group.objects.get(name=role))
    for site in sites:
        SiteMembership.objects.get_or_create(user=user, site=site)
    return user

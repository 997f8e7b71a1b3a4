"""``trialdesk demo``: the two seed sites, one demo user per role, and a synthetic history.

Each run sets a new random password for every demo user and prints it (passwords are stored
hashed, so they cannot be shown again later); nothing else is duplicated on a second run.
"""

from __future__ import annotations

import secrets

import click

from trialdesk.cli._django import setup

#: demo username -> role. Every demo user works at both seed sites except
#: ``demo-vinmec-coordinator`` (Vinmec only: it cannot see Beijing's participants). Two
#: committee members: a decision takes effect with the protocol's quorum of signatures.
DEMO_USERS = {
    "demo-investigator": "investigator",
    "demo-coordinator": "coordinator",
    "demo-src": "safety review committee member",
    "demo-src-2": "safety review committee member",  # the protocol's quorum is two members
    "demo-monitor": "monitor",
    "demo-datamanager": "data manager",
    "demo-celllab": "cell-lab staff",
    "demo-admin": "administrator",
    "demo-vinmec-coordinator": "coordinator",
}


@click.command()
@click.option("--no-history", is_flag=True, help="Only the sites and users.")
def demo(no_history: bool) -> None:
    """Create the demo sites, users (printing their new passwords) and synthetic history."""
    setup()
    from django.db import transaction

    from trialdesk.cellproduct.demo import build_cell_product
    from trialdesk.conduct.bootstrap import ensure_seed_sites, ensure_user
    from trialdesk.conduct.demo import build_history
    from trialdesk.conduct.errors import ConductError
    from trialdesk.conduct.models import Site
    from trialdesk.protocol import ProtocolError

    passwords = {name: secrets.token_urlsafe(9) for name in DEMO_USERS}
    users = {}
    try:
        with transaction.atomic():
            for name, role in DEMO_USERS.items():
                if name == "demo-vinmec-coordinator":
                    sites = list(Site.objects.filter(code="VINMEC"))
                else:
                    sites = list(Site.objects.all())
                first, _, last = role.title().partition(" ")
                names = {"first_name": f"Demo {first}", "last_name": last}
                if not sites:  # first run: the sites need a user to record their consent forms
                    user = ensure_user(
                        name, role, [], password=passwords[name], own_password=True, **names
                    )
                    ensure_seed_sites(user)
                    sites = list(Site.objects.all())
                user = ensure_user(
                    name,
                    role,
                    sites,
                    password=passwords[name],
                    own_password=True,  # printed to the person running the demo
                    **names,
                )
                if role == "administrator":
                    user.is_staff = user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
                # keyed by role; a role's second user (demo-src-2) as "second <role>"
                users[role if role not in users else f"second {role}"] = user
            ensure_seed_sites(users["administrator"])
            by_role = {key: passwords[u.username] for key, u in users.items()}
            built = {} if no_history else build_history(users, by_role)
            units = {} if no_history else build_cell_product(users, by_role)
    except (ConductError, ProtocolError) as exc:
        raise click.ClickException(str(exc)) from None
    for nct_id, n in built.items():
        click.echo(f"{nct_id}: synthetic history with {n} participants")
    for nct_id, n in units.items():
        click.echo(f"{nct_id}: {n} doses traced to their donors (trialdesk trace ...)")
    click.echo("Demo logins (new passwords, printed once) at /conduct/login/:")
    for name, role in DEMO_USERS.items():
        click.echo(f"  {name:<25} {passwords[name]:<14} {role}")


COMMANDS = [demo]

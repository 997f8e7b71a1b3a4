"""Database and server commands: ``trialdesk migrate``, ``trialdesk serve``."""

from __future__ import annotations

import click

from trialdesk.cli._django import setup


@click.command()
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def migrate(quiet: bool) -> None:
    """Create or update the tables of the database DATABASE_URL names (SQLite by default)."""
    setup()
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if not quiet:
        click.echo(f"Migrating {db['ENGINE'].rsplit('.', 1)[-1]} database {db['NAME']}")
    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app (Django's server, for a single workstation)."""
    setup()
    from django.core.management import call_command

    click.echo(f"trialdesk is running at http://{host}:{port}/  (Ctrl-C to stop)")
    call_command("runserver", f"{host}:{port}", use_reloader=False)


COMMANDS = [migrate, serve]

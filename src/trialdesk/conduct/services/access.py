"""Who may act: a role's permission, and membership of the participant's site."""

from __future__ import annotations

from typing import Any

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import SiteMembership


def require_perm(user: Any, codename: str, action: str) -> None:
    """Raise unless ``user`` holds ``conduct.<codename>`` (through a role)."""
    if not user.has_perm(f"conduct.{codename}"):
        raise ConductError(f"{user.get_username()} may not {action} (their roles do not allow it)")


def require_member(user: Any, site: Any) -> None:
    """Raise unless ``user`` works at ``site``."""
    if not SiteMembership.objects.filter(user=user, site=site).exists():
        raise ConductError(f"{user.get_username()} does not work at {site}")

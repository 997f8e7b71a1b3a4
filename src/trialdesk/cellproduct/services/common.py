"""Who may act on cell-product records, and the trial's cell-product plan."""

from __future__ import annotations

from typing import Any

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.conduct.models import SiteMembership, Study


def require(user: Any, codename: str, action: str) -> None:
    """Raise unless ``user`` holds ``cellproduct.<codename>`` (through a role)."""
    if not user.has_perm(f"cellproduct.{codename}"):
        raise CellProductError(
            f"{user.get_username()} may not {action} (their roles do not allow it)"
        )


def require_site(user: Any, site: Any) -> None:
    """Raise unless ``user`` works at ``site`` (site scoping of the laboratory's records)."""
    if not SiteMembership.objects.filter(user=user, site=site).exists():
        raise CellProductError(f"{user.get_username()} does not work at {site}")


def plan_for(study: Study) -> Any:
    """The protocol's ``cell_product`` section (``trialdesk.protocol.cellproduct``)."""
    plan = getattr(study.protocol(), "cell_product", None)
    if plan is None:
        raise CellProductError(
            f"{study.nct_id}: protocol.yaml has no cell_product section (product code, time "
            "limits, release specification): nothing can be prepared or released"
        )
    return plan


def limit_between(plan: Any, start: str, end: str) -> Any:
    """The plan's time limit from event ``start`` to ``end`` (None: the protocol sets none;
    the events are ``trialdesk.protocol.cellproduct.EVENTS``)."""
    found = plan.limits_between(start, end)
    return found[0] if found else None

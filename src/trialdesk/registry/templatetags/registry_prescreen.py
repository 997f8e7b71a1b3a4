"""Template filter for the listing's call to the eligibility check.

Usage: ``{% load registry_prescreen %}{% if listing.status|check_offered %}...{% endif %}``:
true only while the trial takes patients (``trialdesk.registry.prescreen.CHECK_OPEN_STATUSES``).
"""

from __future__ import annotations

from django import template

from trialdesk.registry.prescreen import check_offered as _check_offered

register = template.Library()


@register.filter
def check_offered(status: str | None) -> bool:
    return _check_offered(status or "")

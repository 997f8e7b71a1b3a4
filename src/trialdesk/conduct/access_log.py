"""Log logins, failed logins, logouts and role (group) changes as ``AccessEvent`` rows;
connected in ``apps.py``. Audit exports log themselves (``trialdesk audit export``)."""

from __future__ import annotations

from typing import Any


def _log(kind: str, username: str, detail: str = "") -> None:
    from trialdesk.conduct.models import AccessEvent

    AccessEvent.objects.create(kind=kind, username=username[:150], detail=detail[:300])


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _log("login", user.get_username(), _client(request))


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _log("logout", user.get_username(), _client(request))


def login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    _log("login_failed", str(credentials.get("username", "")), _client(request))


def _client(request: Any) -> str:
    return f"from {request.META.get('REMOTE_ADDR', '?')}" if request is not None else ""


def groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set, **kwargs):  # noqa: ANN001
    """User.groups changes (either side of the relation)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    if (
        action not in ("post_add", "post_remove", "pre_clear")
        or not pk_set
        and action != "pre_clear"
    ):
        return
    kind = "role_added" if action == "post_add" else "role_removed"
    User = get_user_model()
    if not reverse:  # instance is a user
        groups = (
            Group.objects.filter(pk__in=pk_set) if pk_set is not None else instance.groups.all()
        )
        for g in groups:
            _log(kind, instance.get_username(), g.name)
    else:  # instance is a group
        users = (
            User.objects.filter(pk__in=pk_set) if pk_set is not None else instance.user_set.all()
        )
        for u in users:
            _log(kind, u.get_username(), instance.name)

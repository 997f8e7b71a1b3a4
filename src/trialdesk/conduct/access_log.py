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


def password_before_save(sender: Any, instance: Any, update_fields=None, **kwargs: Any) -> None:  # noqa: ANN001
    """Note whether this save sets a new password for an existing user."""
    instance._conduct_password_set = False
    if instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    old = type(instance).objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._conduct_password_set = old is not None and old != instance.password


def password_after_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A password set by anyone but the user (an administrator's reset, a management
    command, a script) is logged and opens an identity check (services/signing.py). The
    user's own change (``/conduct/password/``, or ``ensure_user(own_password=True)``) marks
    the instance ``_own_password_change``. The admin page marks who resets
    (``_password_reset_by``) and shows the one-time code (``_password_reset_request``)."""
    own = getattr(instance, "_own_password_change", False)
    instance._own_password_change = False  # the mark is for this save only
    if created or not getattr(instance, "_conduct_password_set", False):
        return
    instance._conduct_password_set = False
    if own:
        return
    from trialdesk.conduct.services.signing import issue_identity_code, password_reset

    request = getattr(instance, "_password_reset_request", None)
    by = request.user if request is not None else None
    password_reset(instance, by.get_username() if by else "someone other than the user")
    if request is not None:
        from django.contrib import messages

        code = issue_identity_code(instance, by)
        messages.warning(
            request,
            f"One-time identity code for {instance.get_username()}: {code}. Give it to them "
            "in person or by telephone (not with the password): they must enter it, and set "
            "their own password, before they can sign again. It is shown only now.",
        )

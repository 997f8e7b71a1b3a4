"""Electronic signatures (21 CFR Part 11, 11.50 and 11.200): the signer re-enters their
password for every signature (no signing on the strength of a session alone), states the
meaning, and the printed name and UTC time are recorded with it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import OwnPassword, Signature, password_fingerprint, write


def has_own_password(user: Any) -> bool:
    """True when the user's current password is one they set themselves (21 CFR 11.300)."""
    return OwnPassword.objects.filter(user=user, fingerprint=password_fingerprint(user)).exists()


def record_own_password(user: Any) -> None:
    """The user has just set their current password themselves."""
    OwnPassword.objects.update_or_create(
        user=user, defaults={"fingerprint": password_fingerprint(user), "set_at": timezone.now()}
    )


def printed_name(user: Any) -> str:
    return user.get_full_name().strip() or user.get_username()


def check_signer(user: Any, password: str, meaning: str) -> str:
    """Raise unless ``user`` may sign now (a stated meaning, the password re-entered, a
    password they set themselves); return the meaning. Every signature in the system, here
    or in another app (a cell-product lot release), passes this check."""
    meaning = (meaning or "").strip()
    if not meaning:
        raise ConductError("state the meaning of the signature", field="meaning")
    if not password or authenticate(username=user.get_username(), password=password) != user:
        raise ConductError("the password is not correct: nothing was signed", field="password")
    if not has_own_password(user):
        raise ConductError(
            f"{user.get_username()}'s password was set by someone else (an administrator or "
            "at account creation): change it yourself (Change password) before signing",
            field="password",
        )
    return meaning


def sign(user: Any, password: str, meaning: str, **signed: Any) -> Signature:
    """A signature by ``user`` over ``signed`` (``assessment=`` or ``decision=``).

    The password must be re-entered; a wrong one signs nothing."""
    meaning = check_signer(user, password, meaning)
    signature = Signature(
        signer=user,
        printed_name=printed_name(user),
        meaning=meaning,
        signed_at=timezone.now(),
        **signed,
    )
    return write(signature, user)

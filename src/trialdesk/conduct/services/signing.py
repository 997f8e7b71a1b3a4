"""Electronic signatures (21 CFR Part 11, 11.50, 11.200 and 11.300).

- The signer re-enters their password for every signature (no signing on the strength of a
  session alone, 11.200(a)(1)); the printed name and UTC time are recorded with it (11.50).
- The meaning is one of a fixed list per act (:data:`MEANINGS`; 11.50(a)(3)), stored and
  shown as that text. Other apps add their acts with :func:`register_meanings` (e.g. the
  cell-product app's lot release, from its ``AppConfig.ready``) without conduct importing
  them.
- Password re-entry is throttled (11.300(d)): :data:`~trialdesk.conduct.throttle.DEFAULT_SIGNING_LOCK`
  failures within the period lock the user's signing for that period; every failure and
  lock is an ``AccessEvent``.
- A password someone else set cannot sign (11.300(b)): the user must set their own
  (``OwnPassword``), and after a reset (an administrator's, or any change not made by the
  user) also enter the one-time code the administrator was shown (``IdentityCheck``).

Callers that sign inside a transaction call :func:`verify_signer` first, outside it, so a
refused attempt is logged even though the transaction rolls back; :func:`sign` checks again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import (
    AccessEvent,
    IdentityCheck,
    OwnPassword,
    Signature,
    password_fingerprint,
    write,
)
from trialdesk.conduct.throttle import signing_failed, signing_locked_until

ELIGIBILITY = "eligibility"
SRC_DECISION = "src_decision"
CONSENT = "consent"

ELIGIBILITY_MEANING = "I confirm the eligibility decision for this participant"
DECISION_MEANING = "I approve this safety review committee decision"

#: act -> the meanings a signature of that act may carry (the first is the form's default).
MEANINGS: dict[str, tuple[str, ...]] = {
    ELIGIBILITY: (
        ELIGIBILITY_MEANING,
        "I have reviewed the screening data and approve this eligibility assessment",
    ),
    SRC_DECISION: (
        DECISION_MEANING,
        "I have reviewed the cohort data and concur with this dose decision",
    ),
    CONSENT: (
        "I obtained informed consent from this participant as recorded",
        "I witnessed the informed consent discussion and signature",
    ),
}

#: The act a signature is for, from the record it signs (``sign(..., assessment=a)``).
_ACT_OF_RECORD = {"assessment": ELIGIBILITY, "decision": SRC_DECISION}


def register_meanings(act: str, meanings: Iterable[str]) -> None:
    """Add an act (or more meanings to one), e.g. from another app's ``AppConfig.ready``:
    ``register_meanings("lot_release", ["I release this lot for infusion"])``."""
    act = (act or "").strip()
    new = tuple(m.strip() for m in meanings if m and m.strip())
    if not act or not new:
        raise ValueError("register_meanings: give an act and at least one meaning")
    if any(len(m) > 300 for m in new):
        raise ValueError(f"register_meanings({act!r}): a meaning is at most 300 characters")
    MEANINGS[act] = MEANINGS.get(act, ()) + tuple(m for m in new if m not in MEANINGS.get(act, ()))


def meanings_for(act: str) -> tuple[str, ...]:
    try:
        return MEANINGS[act]
    except KeyError:
        raise ConductError(
            f"no signature meanings for {act!r} (acts: {', '.join(sorted(MEANINGS))})"
        ) from None


def has_own_password(user: Any) -> bool:
    """True when the user's current password is one they set themselves (21 CFR 11.300)."""
    return OwnPassword.objects.filter(user=user, fingerprint=password_fingerprint(user)).exists()


def record_own_password(user: Any) -> None:
    """The user has just set their current password themselves."""
    OwnPassword.objects.update_or_create(
        user=user, defaults={"fingerprint": password_fingerprint(user), "set_at": timezone.now()}
    )


def open_identity_check(user: Any) -> IdentityCheck | None:
    return IdentityCheck.objects.filter(user=user, confirmed_at__isnull=True).first()


def password_reset(user: Any, by: str) -> None:
    """Someone other than ``user`` set their password (``by``: who, as far as known): log it
    and open an identity check (one at a time; a later reset keeps the open one)."""
    AccessEvent.objects.create(
        kind="password_reset", username=user.get_username(), detail=f"by {by}"[:300]
    )
    if open_identity_check(user) is None:
        IdentityCheck.objects.create(user=user, opened_by=by[:150])


def issue_identity_code(user: Any, by: Any) -> str:
    """A new one-time code for ``user``'s open identity check, to be shown once to the
    administrator ``by``, who gives it to the user out of band (in person or by telephone,
    not in the e-mail that carries the password). Only its hash is stored; a new code
    replaces an earlier one."""
    check = open_identity_check(user)
    if check is None:
        raise ConductError(f"{user.get_username()} has no open identity check")
    # 10 characters of a 32-letter alphabet without look-alikes: 50 bits.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "".join(secrets.choice(alphabet) for _ in range(10))
    check.code_hash = make_password(code)
    check.code_issued_at = timezone.now()
    check.code_issued_by = by.get_username()
    check.save(update_fields=["code_hash", "code_issued_at", "code_issued_by"])
    AccessEvent.objects.create(
        kind="identity_code", username=user.get_username(), detail=f"by {by.get_username()}"
    )
    return f"{code[:5]}-{code[5:]}"


def confirm_identity(user: Any, code: str) -> None:
    """The user enters the administrator's code: the identity check closes. A wrong code
    counts as a failed signing attempt (the same lock)."""
    name = user.get_username()
    if signing_locked_until(name):
        raise ConductError(_locked_message(name), field="code")
    check = open_identity_check(user)
    if check is None:
        raise ConductError("there is no identity check to confirm", field="code")
    if not check.code_hash:
        raise ConductError(
            "no code has been issued yet: ask an administrator for one", field="code"
        )
    entered = "".join((code or "").upper().split()).replace("-", "")
    if not check_password(entered, check.code_hash):
        locked = signing_failed(name, "wrong identity code")
        raise ConductError(
            _locked_message(name) if locked else "the code is not correct", field="code"
        )
    check.confirmed_at = timezone.now()
    check.save(update_fields=["confirmed_at"])
    AccessEvent.objects.create(kind="identity_ok", username=name)


def _locked_message(username: str) -> str:
    until = signing_locked_until(username)
    return (
        f"signing is locked for {username} after repeated failed attempts, until "
        f"{until:%Y-%m-%d %H:%M} UTC"
    )


def signing_hold(user: Any) -> str | None:
    """Why ``user`` cannot sign now whatever password they give (None: they can)."""
    if not has_own_password(user):
        return (
            f"{user.get_username()}'s password was set by someone else (an administrator or "
            "at account creation): change it yourself (Change password) before signing"
        )
    if open_identity_check(user) is not None:
        return (
            f"{user.get_username()}'s password was reset: enter the one-time code the "
            "administrator gave you (Confirm identity) before signing"
        )
    return None


def verify_signer(user: Any, password: str) -> None:
    """Check that ``user`` may sign with ``password`` now: not locked, the password right,
    their own, no identity check open. A wrong password is logged (and may lock). Call it
    outside any transaction that a refusal rolls back."""
    name = user.get_username()
    if signing_locked_until(name):
        raise ConductError(_locked_message(name), field="password")
    if not password or authenticate(username=name, password=password) != user:
        if signing_failed(name, "wrong password at signing"):
            raise ConductError(_locked_message(name), field="password")
        raise ConductError("the password is not correct: nothing was signed", field="password")
    hold = signing_hold(user)
    if hold:
        raise ConductError(hold, field="password")


def check_signer(user: Any, password: str, meaning: str, *, act: str) -> str:
    """Raise unless ``user`` may sign now for ``act``: a meaning from the act's list, the
    password re-entered (throttled), a password they set themselves, no identity check
    open. Return the meaning. Every signature in the system, here or in another app (a
    cell-product lot release), passes this check."""
    meaning = (meaning or "").strip()
    allowed = meanings_for(act)
    if meaning not in allowed:
        raise ConductError(
            f"the meaning of a {act.replace('_', ' ')} signature is one of: "
            + "; ".join(f"“{m}”" for m in allowed),
            field="meaning",
        )
    verify_signer(user, password)
    return meaning


def sign(
    user: Any, password: str, meaning: str, *, act: str | None = None, **signed: Any
) -> Signature:
    """A signature by ``user`` over ``signed`` (``assessment=`` or ``decision=``) with one
    of the act's meanings (``act``: default from the record signed).

    The password must be re-entered; a wrong one signs nothing."""
    if act is None:
        acts = {_ACT_OF_RECORD[k] for k in signed if k in _ACT_OF_RECORD}
        if len(acts) != 1:
            raise ConductError("say which act is signed (act=...)")
        act = acts.pop()
    meaning = check_signer(user, password, meaning, act=act)
    signature = Signature(
        signer=user,
        printed_name=printed_name(user),
        meaning=meaning,
        signed_at=timezone.now(),
        **signed,
    )
    with transaction.atomic():
        return write(signature, user)


def printed_name(user: Any) -> str:
    return user.get_full_name().strip() or user.get_username()

"""Access events (logins, failed logins, role changes, audit exports) and the record of a
password the user set themselves (21 CFR 11.300: an administrator who resets a password
must not be able to sign as that user)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AccessEvent", "IdentityCheck", "OwnPassword", "password_fingerprint"]


def password_fingerprint(user: Any) -> str:
    """SHA-256 of the user's stored password hash: changes whenever the password is set."""
    return hashlib.sha256(user.password.encode()).hexdigest()


class OwnPassword(models.Model):
    """The fingerprint of the password as the user last set it themselves."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="own_password"
    )
    fingerprint = models.CharField(max_length=64)
    set_at = models.DateTimeField(default=timezone.now)


class AccessEvent(models.Model):
    KINDS = [
        ("login", "login"),
        ("login_failed", "failed login"),
        ("logout", "logout"),
        ("role_added", "role added"),
        ("role_removed", "role removed"),
        ("password_changed", "password changed by the user"),
        ("password_reset", "password set by someone else"),
        ("identity_code", "identity code issued"),
        ("identity_ok", "identity confirmed with the code"),
        ("sign_failed", "signature refused: wrong password or code"),
        ("sign_locked", "signing locked after repeated failures"),
        ("audit_export", "audit export"),
    ]
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=KINDS)
    username = models.CharField(max_length=150)
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC {self.kind} {self.username} {self.detail}"


class IdentityCheck(models.Model):
    """After someone other than the user set their password (an administrator's reset), the
    user may not sign until they enter the one-time code the administrator was shown
    (``code_hash``; the code itself is never stored) — a second step besides setting their
    own password (21 CFR 11.300(b), 11.200(a)(1); docs/conduct.md, "Signing")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_checks"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.CharField(max_length=150, help_text="Who set the password")
    code_hash = models.CharField(max_length=128, blank=True, default="")
    code_issued_at = models.DateTimeField(null=True, blank=True)
    code_issued_by = models.CharField(max_length=150, blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(confirmed_at__isnull=True),
                name="conduct_one_open_identity_check",
            )
        ]

    def __str__(self) -> str:
        state = f"confirmed {self.confirmed_at:%Y-%m-%d %H:%M} UTC" if self.confirmed_at else "open"
        return f"identity check of {self.user} after a reset by {self.opened_by} ({state})"

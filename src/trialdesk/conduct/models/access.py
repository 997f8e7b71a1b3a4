"""Access events (logins, failed logins, role changes, audit exports) and the record of a
password the user set themselves (21 CFR 11.300: an administrator who resets a password
must not be able to sign as that user)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AccessEvent", "OwnPassword", "password_fingerprint"]


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

"""A rate limit for the public referral form: fixed-window counters in Django's cache.

Two counters per window: one per client address and one for everyone, so neither one
sender nor a crowd of addresses can flood a site's screening queue. Every attempt counts
(valid or not). The limits are the setting ``TRIALDESK_REFERRAL_RATES`` (default
:data:`DEFAULT_RATES`): ``{"per_address": (count, seconds), "all": (count, seconds)}``.

Counting uses ``cache.add`` (start the window) and ``cache.incr`` (atomic in Django's Redis
and Memcached backends and, within one process, in the default local-memory cache). With
several server processes, configure a shared cache (``CACHES``: Django's Redis backend),
else each process counts on its own. The client address is ``REMOTE_ADDR``, or the request
header named by the setting ``TRIALDESK_CLIENT_IP_HEADER`` (e.g. ``HTTP_X_REAL_IP``) when a
reverse proxy that overwrites that header stands in front; the address is hashed with the
secret key before it becomes a cache key, so the cache holds no address.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

#: name -> (requests allowed, per this many seconds)
DEFAULT_RATES: dict[str, tuple[int, int]] = {"per_address": (5, 3600), "all": (120, 3600)}


def rates() -> dict[str, tuple[int, int]]:
    configured = getattr(settings, "TRIALDESK_REFERRAL_RATES", None) or {}
    out = {**DEFAULT_RATES, **configured}
    for name, (count, seconds) in out.items():
        if int(count) < 1 or int(seconds) < 1:
            raise ValueError(
                f"TRIALDESK_REFERRAL_RATES[{name!r}]: count and seconds must be at least 1"
            )
    return out


def client_address(request: Any) -> str:
    header = getattr(settings, "TRIALDESK_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    # A proxy's header may list several hops: the first is the client.
    return (value.split(",")[0].strip() if value else "") or request.META.get("REMOTE_ADDR", "")


def _hit(key: str, seconds: int) -> int:
    window = int(time.time() // seconds)
    full = f"trialdesk:referral:{key}:{seconds}:{window}"
    cache.add(full, 0, timeout=seconds + 1)
    try:
        return cache.incr(full)
    except ValueError:  # expired between add and incr: a new window starts at 1
        cache.add(full, 1, timeout=seconds + 1)
        return 1


def referral_limited(request: Any) -> bool:
    """Count this attempt; True when the sender or everyone is over the limit."""
    limits = rates()
    address = hmac.new(
        settings.SECRET_KEY.encode(), client_address(request).encode(), hashlib.sha256
    ).hexdigest()[:32]
    count, seconds = limits["per_address"]
    over_address = _hit(f"addr:{address}", seconds) > count
    count, seconds = limits["all"]
    over_all = _hit("all", seconds) > count
    return over_address or over_all


# --- Signing: password re-entry is throttled per user (21 CFR 11.300(d)) -----------------

#: (failed attempts, seconds): that many wrong passwords (or identity codes) within the
#: period lock the user's signing for the same period. Setting ``TRIALDESK_SIGNING_LOCK``.
DEFAULT_SIGNING_LOCK: tuple[int, int] = (5, 900)


def signing_lock() -> tuple[int, int]:
    count, seconds = getattr(settings, "TRIALDESK_SIGNING_LOCK", None) or DEFAULT_SIGNING_LOCK
    if int(count) < 1 or int(seconds) < 1:
        raise ValueError("TRIALDESK_SIGNING_LOCK: count and seconds must be at least 1")
    return int(count), int(seconds)


def signing_locked_until(username: str) -> Any:
    """The UTC time until which ``username``'s signing is locked (None: not locked).

    Counted in the database (``AccessEvent`` rows), not the cache: the lock holds across
    server processes and restarts, and every failure and lock is in the access log."""
    from datetime import timedelta

    from django.utils import timezone

    from trialdesk.conduct.models import AccessEvent

    _, seconds = signing_lock()
    period = timedelta(seconds=seconds)
    lock = (
        AccessEvent.objects.filter(
            kind="sign_locked", username=username, at__gt=timezone.now() - period
        )
        .order_by("-at")
        .first()
    )
    return lock.at + period if lock else None


def signing_failed(username: str, what: str) -> Any:
    """Log a failed signing attempt; lock signing when this one reaches the limit. Returns
    the time the lock ends (None: not locked). Call it outside the transaction that the
    failure rolls back, so the row stays."""
    from datetime import timedelta

    from django.db.models import Max
    from django.utils import timezone

    from trialdesk.conduct.models import AccessEvent, Signature

    count, seconds = signing_lock()
    now = timezone.now()
    AccessEvent.objects.create(kind="sign_failed", username=username[:150], detail=what[:300])
    # Failures count since the latest of: the period's start, the last lock, the last
    # successful signature.
    since = now - timedelta(seconds=seconds)
    last_lock = AccessEvent.objects.filter(kind="sign_locked", username=username).aggregate(
        m=Max("at")
    )["m"]
    last_signed = Signature.objects.filter(signer__username=username).aggregate(m=Max("signed_at"))[
        "m"
    ]
    since = max(t for t in (since, last_lock, last_signed) if t is not None)
    failures = AccessEvent.objects.filter(
        kind="sign_failed", username=username, at__gt=since
    ).count()
    if failures >= count:
        AccessEvent.objects.create(
            kind="sign_locked",
            username=username[:150],
            detail=f"{failures} failed attempts: locked for {seconds} s",
        )
        return now + timedelta(seconds=seconds)
    return None

"""A contact as the listing shows it: name, role, phone and e-mail, with the ``tel:`` and
``mailto:`` links built from them. (A helper module of the listing, beside
``registry_listing``; it registers no template tags.)

Links are made only from values that are a phone number or an e-mail address, so a record
cannot put another scheme or extra mail headers into a link; everything is still escaped
by the template. The ``tel:`` form follows RFC 3966 (a global number: ``+`` and digits,
``;ext=`` for an extension); the ``mailto:`` form RFC 6068 (the address percent-encoded,
so ``?`` or ``&`` in it cannot add headers).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from trialdesk.registry.templatetags.registry_labels import label

#: What a phone number registered on CT.gov may hold: digits, a leading "+", the usual
#: visual separators. Anything else (letters, "javascript:", ...) is shown but not linked.
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
_MIN_PHONE_DIGITS = 3  # emergency and short numbers exist; fewer digits are not a number


def tel_href(phone: str | None, extension: str | None = None) -> str:
    """``"tel:+861066933333;ext=12"`` for ``"+86 10 6693 3333"``, ``"12"``; "" when ``phone``
    is not a phone number (RFC 3966 allows no spaces; visual separators are dropped)."""
    text = (phone or "").strip()
    if not _PHONE.match(text):
        return ""
    digits = re.sub(r"\D", "", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return ""
    href = f"tel:{'+' if text.startswith('+') else ''}{digits}"
    ext = re.sub(r"\D", "", extension or "")
    return f"{href};ext={ext}" if ext else href


def mailto_href(email: str | None) -> str:
    """``"mailto:a.b@site.org"``; "" when ``email`` is not an e-mail address."""
    text = (email or "").strip()
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return "mailto:" + quote(text, safe="@.+-_")


def contact(c: Any) -> dict[str, str]:
    """One CT.gov ``Contact`` (central or site) as the listing shows it."""
    phone = (c.phone or "").strip()
    shown_phone = f"{phone} ext. {c.phone_ext}" if phone and c.phone_ext else phone
    email = (c.email or "").strip()
    return {
        "name": c.name or "",
        "role": label("contact_role", c.role),
        "phone": shown_phone,
        "phone_href": tel_href(phone, c.phone_ext),
        "email": email,
        "email_href": mailto_href(email),
    }

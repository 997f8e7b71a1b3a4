"""Referrals from the public prescreener: received (no account: the person's own consent),
then, in the site's screening queue, screened (a screening-log entry) or declined with a
reason. Every step is an audited change of the ``Referral`` record."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import date, datetime
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Participant, Referral, Site, Study, TrialSite, write
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.screening import screen_participant

#: What the person agrees to by ticking the box (stored word for word with the referral).
CONSENT_TEXT = (
    "I agree that my answers above, my name or initials and the contact details I give here "
    "are sent to the study team of this trial at the site I choose, kept by them, and used "
    "only to contact me about taking part in this trial."
)


def referral_sites(nct_id: str) -> list[Site]:
    """The sites that run the trial here (empty: the trial takes no referrals here)."""
    return list(Site.objects.filter(trialsite__study__nct_id=nct_id).order_by("name"))


def receive_referral(
    study: Study,
    site: Site,
    *,
    name: str,
    phone: str,
    email: str,
    consent: bool,
    answers: dict[str, str],
    answer_lines: list[str],
    summary: Any,
    received_at: datetime | None = None,
) -> Referral:
    """Store a referral sent by a member of the public (no user: the history's reason says
    who). Refused without consent, without a way to contact the person, for a site that
    does not run the trial, or when enrolment is closed. ``received_at``: when it arrived
    (default now; the demo's synthetic history dates its referrals in the past)."""
    received_at = received_at or timezone.now()
    if received_at > timezone.now():
        raise ConductError("the referral's time is in the future")
    if consent is not True:
        raise ConductError("nothing is sent without your consent: tick the box", field="consent")
    name, phone, email = name.strip(), phone.strip(), email.strip()
    if not name:
        raise ConductError("give your name or initials", field="name")
    if not (phone or email):
        raise ConductError("give a phone number or an e-mail address", field="phone")
    if not TrialSite.objects.filter(study=study, site=site).exists():
        raise ConductError(f"{site} does not run {study}", field="site")
    if study.enrolment_closed:
        raise ConductError(f"{study} is not taking new patients")
    grouped = dataclasses.asdict(summary)
    grouped.pop("groups", None)  # the same items again, keyed by group
    referral = Referral(
        study=study,
        site=site,
        name=name,
        phone=phone,
        email=email,
        consent_text=CONSENT_TEXT,
        answers=answers,
        answer_lines=list(answer_lines),
        overall=summary.overall,
        summary=grouped,
        received_at=received_at,
    )
    referral._change_reason = "sent from the public eligibility check"
    referral.full_clean()
    referral.save()
    return referral


def _open(referral: Referral, by: Any, action: str) -> None:
    require_perm(by, "screen_participant", action)
    require_member(by, referral.site)
    if referral.status != Referral.NEW:
        raise ConductError(
            f"this referral is already {referral.get_status_display().lower()}: "
            "only a new referral can be screened or declined"
        )


def decline_referral(referral: Referral, by: Any, *, reason: str) -> Referral:
    """Decline a new referral; the reason is required and kept."""
    _open(referral, by, "decline referrals")
    reason = (reason or "").strip()
    if not reason:
        raise ConductError("a reason is required to decline a referral", field="reason")
    referral.status, referral.decline_reason = Referral.DECLINED, reason
    with transaction.atomic():
        return write(referral, by, f"declined: {reason}"[:100])  # whole in decline_reason


def start_screening(referral: Referral, by: Any, **screening: Any) -> Participant:
    """Screen the referred person (``screen_participant`` with the form's values, at the
    referral's site) and link the referral to the new screening-log entry, in one
    transaction."""
    _open(referral, by, "screen participants")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status != Referral.NEW:
            raise ConductError("this referral was handled meanwhile")
        participant = screen_participant(referral.study, referral.site, by, **screening)
        locked.status, locked.participant = Referral.SCREENING, participant
        write(locked, by, f"screening started as {participant.screening_number}")
    referral.refresh_from_db()
    return participant


def _initials(name: str) -> str:
    """ "Nguyễn Văn An" -> "NVA"; "N.V.A." -> "NVA"; "" when not 2 to 4 letters A-Z."""
    plain = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    words = [w for w in plain.replace(".", " ").split() if w]
    if len(words) == 1 and 2 <= len(words[0]) <= 4 and words[0].isupper():
        letters = words[0]
    else:
        letters = "".join(w[0] for w in words)
    letters = letters.upper()
    return letters if 2 <= len(letters) <= 4 and letters.isascii() and letters.isalpha() else ""


def screening_initial(referral: Referral, today: date | None = None) -> dict[str, Any]:
    """The screening form prefilled from the referral: site, initials, sex, today's date,
    and screening data in the plain format (docs/protocol-format.md) with the self-reported
    labs, the other answers as comments for the team to check against the records."""
    from trialdesk.registry.models import Trial
    from trialdesk.registry.prescreen import run_check

    today = today or timezone.localdate()
    initial: dict[str, Any] = {"site": referral.site, "screened_on": today}
    initials = _initials(referral.name)
    if initials:
        initial["initials"] = initials
    if referral.answers.get("sex") in ("female", "male"):
        initial["sex"] = referral.answers["sex"]
    labs: dict[str, dict[str, Any]] = {}
    trial = Trial.objects.filter(nct_id=referral.study.nct_id).first()
    run = run_check(trial) if trial is not None else None
    for q in run.questions if run is not None else []:
        value = referral.answers.get(q.key)
        if q.kind == "lab" and value:
            unit = referral.answers.get(f"{q.key}_unit") or q.units[0]
            labs[q.subject] = {"value": value, "unit": unit, "date": referral.received_at.date()}
    lines = [
        f"# From referral {referral.pk}, received {referral.received_at:%Y-%m-%d %H:%M} UTC.",
        "# Self-reported: check every value against the source documents before screening.",
        *(f"#   {line}" for line in referral.answer_lines),
    ]
    body = yaml.safe_dump({"labs": labs}, sort_keys=False) if labs else ""
    initial["data"] = "\n".join(lines) + "\n" + body
    return initial

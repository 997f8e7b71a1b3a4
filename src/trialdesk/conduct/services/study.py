"""Closing and reopening a study's enrolment: the only way ``Study.enrolment_closed``
changes (read-only in Django admin). Each change keeps who, when and why in the study's
history (simple-history, hash-chained like clinical history).

Closing takes a reason (a signed safety review committee stop passes its decision).
Reopening after a signed committee stop is a documented act: the investigator (the sponsor
of an investigator-initiated trial) gives the reason and the reference of the approved
protocol amendment that allows enrolment to resume (ICH E6(R2) 3.3.7 and 4.5.2: no change
to the trial before the ethics committee's approval of the amendment). Unticking a box
cannot undo a stop.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import SafetyReviewDecision, Study
from trialdesk.conduct.models.audit import check_reason_length
from trialdesk.conduct.services.access import require_perm


def _save(study: Study, by: Any, reason: str) -> Study:
    check_reason_length(reason)
    study._history_user = by
    study._change_reason = reason
    study.save(update_fields=["enrolment_closed"])
    return study


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ConductError("a reason is required to change enrolment", field="reason")
    return reason


def last_stop(study: Study) -> SafetyReviewDecision | None:
    """The signed committee decision to stop that closed enrolment, if it is the latest
    decision in effect."""
    latest = study.decisions.filter(effective=True).order_by("-created_at", "-pk").first()
    return latest if latest and latest.decision == SafetyReviewDecision.STOP else None


def close_enrolment(
    study: Study, by: Any, *, reason: str, decision: SafetyReviewDecision | None = None
) -> Study:
    """Close enrolment. Without a committee ``decision``, the user needs the permission to
    reopen (the investigator): closing and reopening by hand are the same responsibility."""
    reason = _reason(reason)
    if decision is None:
        require_perm(by, "reopen_enrolment", "close or reopen enrolment")
    elif not (decision.effective and decision.decision == SafetyReviewDecision.STOP):
        raise ConductError("only a signed decision to stop closes enrolment")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.enrolment_closed:
            raise ConductError(f"{study}: enrolment is already closed")
        study.enrolment_closed = True
        return _save(study, by, f"closed: {reason}")


def reopen_enrolment(study: Study, by: Any, *, reason: str, amendment: str = "") -> Study:
    """Reopen enrolment; after a signed committee stop, ``amendment`` (the approved protocol
    amendment's reference) is required and kept in the reason."""
    require_perm(by, "reopen_enrolment", "close or reopen enrolment")
    reason = _reason(reason)
    amendment = (amendment or "").strip()
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if not study.enrolment_closed:
            raise ConductError(f"{study}: enrolment is open")
        stop = last_stop(study)
        if stop is not None and not amendment:
            raise ConductError(
                f"enrolment was closed by the safety review committee's signed decision "
                f"{stop.pk} to stop: reopening needs the reference of the approved protocol "
                "amendment",
                field="amendment",
            )
        study.enrolment_closed = False
        note = f"; amendment {amendment}" if amendment else ""
        return _save(study, by, f"reopened: {reason}{note}")

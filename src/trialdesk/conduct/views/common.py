"""Reaching records through site scoping: every view gets its study and participant here."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from trialdesk.conduct.models import Participant, Study


def study_for(request: HttpRequest, nct_id: str) -> Study:
    """The study, if run at one of the user's sites (else 404)."""
    return get_object_or_404(Study.objects.visible_to(request.user), nct_id=nct_id)


def participant_for(request: HttpRequest, pk: int) -> Participant:
    """The participant, if at one of the user's sites (else 404: not even its existence is
    disclosed)."""
    return get_object_or_404(
        Participant.objects.visible_to(request.user).select_related("study", "site"), pk=pk
    )

"""Signal receivers of the registry models (connected in ``apps.RegistryConfig.ready``).

Every save or delete of a trial, condition, intervention or site counts one change to the
registry (``stamp.bump_version``, in the save's own transaction: see
``models``: each save is atomic) and, once that transaction commits, brings the SQLite text index
forward (``textsync.follow_on_commit``).
"""

from __future__ import annotations

from django.db import connection

from trialdesk.registry import stamp
from trialdesk.registry.models import Trial, TrialCondition, TrialIntervention, TrialLocation

#: The models whose rows make up the registry: each save or delete counts one change.
REGISTRY_MODELS = (Trial, TrialCondition, TrialIntervention, TrialLocation)


def count_change(sender, instance, **kwargs) -> None:
    """``post_save`` / ``post_delete``: new registry stamp; re-index the trials touched."""
    with connection.cursor() as cursor:
        previous, new = stamp.bump_version(cursor)
    if sender is Trial:
        trial_ids = {instance.pk}
    else:
        # A site moved to another trial changes both trials' documents.
        trial_ids = {instance.trial_id, getattr(instance, "trial_id_before_save", None)}
    # Imported here: the text index (numpy, Tantivy) loads only once something changes.
    from trialdesk.registry import textsync

    textsync.follow_on_commit(previous, new, {i for i in trial_ids if i is not None})


def remember_site_trial(sender, instance, raw=False, **kwargs) -> None:
    """``pre_save`` of a site: the trial it belonged to before this save."""
    if instance.pk is not None and not raw:
        instance.trial_id_before_save = (
            sender._default_manager.filter(pk=instance.pk)
            .values_list("trial_id", flat=True)
            .first()
        )

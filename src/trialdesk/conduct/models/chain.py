"""The hash chain over the history tables: one entry per history row, in write order.

``digest`` is the SHA-256 of the history row's canonical JSON; ``chain_hash`` is
SHA-256(previous chain_hash + digest). ``trialdesk audit verify`` recomputes both, so an
edit of a history row, its deletion, a history row written around the chain, or an edit of
the chain itself is found (docs/conduct.md, "Audit trail")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["AuditChainEntry", "AuditChainHead"]


class AuditChainHead(models.Model):
    """The single row every append locks, so the chain has one order under concurrency."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    length = models.PositiveBigIntegerField(default=0)


class AuditChainEntry(models.Model):
    table = models.CharField(max_length=100)
    history_id = models.BigIntegerField()
    digest = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["table", "history_id"], name="conduct_chain_row")
        ]

"""Audit entries, chained by SHA-256, and the signed checkpoints of the chain head."""

from __future__ import annotations

from django.db import models

__all__ = ["AuditCheckpoint", "AuditEntry", "AuditHead"]


class AuditEntry(models.Model):
    """One audited event. `entry_hash` covers every field and the previous entry's hash."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=64, db_index=True)  # "user:12", "token:3", "system"
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)  # "auth.sign_in", "bank.update"
    target_type = models.CharField(max_length=64, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=16, default="ok")  # "ok", "denied", "failed"
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"


class AuditCheckpoint(models.Model):
    """The node's Ed25519 signature over the chain head at `seq`.

    A checkpoint copy is also appended to a file outside the database, so deleting the tail
    of the log together with its checkpoints is caught.
    """

    seq = models.BigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)  # hex

    class Meta:
        ordering = ["seq"]


class AuditHead(models.Model):
    """The chain's last sequence number and hash: one row, locked by each append."""

    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)

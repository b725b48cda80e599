"""Audit entries, chained by SHA-256, and the signed checkpoints of the chain head.

Entries and checkpoints are append-only twice over: the models refuse to change or delete a
stored row (and their querysets refuse bulk `update()` and `delete()`), and database
triggers (migration 0002, `haven.audit.dbguard`) refuse UPDATE and DELETE from any client.
Neither stops a database administrator who drops the triggers; the hash chain and the
checkpoints signed with a key kept outside the database are what catch that.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.db import models

__all__ = ["AppendOnlyError", "AuditCheckpoint", "AuditEntry", "AuditHead"]


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit entry or checkpoint."""


_M = TypeVar("_M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_M]):
    """Bulk changes would bypass `save()`/`delete()`; refuse them the same way."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: update refused")

    def delete(self) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: delete refused")


class AppendOnlyModel(models.Model):
    """A row that may be inserted once and never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} #{self.pk} is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{type(self).__name__} #{self.pk} is append-only")


class AuditEntry(AppendOnlyModel):
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

    objects = AppendOnlyQuerySet["AuditEntry"].as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"


class AuditCheckpoint(AppendOnlyModel):
    """The node's Ed25519 signature over the chain head at `seq`.

    A checkpoint copy is also appended to a file outside the database, so deleting the tail
    of the log together with its checkpoints is caught.
    """

    seq = models.BigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)  # hex

    objects = AppendOnlyQuerySet["AuditCheckpoint"].as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.key_id})"


class AuditHead(models.Model):
    """The chain's last sequence number and hash: one row, locked by each append.

    The only audit row that is ever updated.
    """

    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)

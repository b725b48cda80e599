"""Evidence items (metadata and the wrapped key; the bytes are in the vault) and custody.

`CustodyEvent` rows are only ever added: created, viewed, exported, held, reported, purged,
each with who, when and why. A purged item keeps its row and its custody log (what was
held, and that it was destroyed), but loses its wrapped key and content metadata.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from haven.accounts.models import ScopedRecord

__all__ = ["CUSTODY_ACTIONS", "CustodyEvent", "EvidenceItem"]

CUSTODY_ACTIONS = [
    ("created", "preserved in the vault"),
    ("viewed", "opened by a person"),
    ("exported", "put in a package for law enforcement"),
    ("held", "a legal hold extended its retention"),
    ("reported", "reported: retention runs from the report"),
    ("purged", "destroyed at the end of its retention"),
]


class EvidenceItem(ScopedRecord):
    """One preserved file and the content metadata that came with it."""

    blob_id = models.CharField(max_length=32, unique=True)
    wrapped_key = models.BinaryField(null=True, help_text="the data key, wrapped; None once purged")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    md5 = models.CharField(max_length=32)
    sha1 = models.CharField(max_length=40)
    pdq = models.CharField(max_length=64, blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    original_name = models.CharField(max_length=1024, blank=True)
    metadata = models.JSONField(default=dict, help_text="content id, uploader, IP, URL, ...")
    reason = models.CharField(max_length=300, help_text="why it was preserved")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=64)
    reported_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateTimeField()
    hold_until = models.DateTimeField(null=True, blank=True)
    hold_reference = models.CharField(max_length=200, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["purged_at", "retain_until"], name="evidence_expiry")]

    @property
    def keep_until(self) -> datetime:
        """The later of retention and hold: nothing is purged before it."""
        if self.hold_until and self.hold_until > self.retain_until:
            return self.hold_until
        return self.retain_until


class CustodyEvent(models.Model):
    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="custody")
    action = models.CharField(max_length=16, choices=CUSTODY_ACTIONS)
    actor = models.CharField(max_length=64)
    actor_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]

"""Scanned content: the hashes and metadata of each upload a provider scanned, and the answer.

The bytes are never kept here (the evidence vault keeps what is held); the hashes are, so
that retroactive matching can look past uploads up against entries added later.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from haven.accounts.models import ScopedRecord

__all__ = [
    "DECISIONS",
    "SURFACES",
    "HookDelivery",
    "RemovalHook",
    "RetroCursor",
    "ScanHash",
    "ScannedContent",
]

SURFACES = [
    ("public_post", "a public post"),
    ("private_message", "a private message"),
    ("profile", "a profile picture or page"),
    ("ad", "an ad"),
    ("comment", "a comment"),
    ("other", "somewhere else"),
]
DECISIONS = [
    ("allow", "no match: publish"),
    ("hold", "matched: hold for review"),
]


class ScannedContent(ScopedRecord):
    content_id = models.CharField(max_length=200, help_text="the provider's id for the content")
    media = models.CharField(max_length=8, help_text="image, video or hashes")
    surface = models.CharField(max_length=20, choices=SURFACES, default="other")
    uploader_account = models.CharField(max_length=200, blank=True)
    uploader_name = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    url = models.CharField(max_length=2083, blank=True)
    hashes = models.JSONField(help_text="pdq (and variants), md5, sha256, video frames")
    decision = models.CharField(max_length=8, choices=DECISIONS)
    matches = models.JSONField(default=list)
    scanned_at = models.DateTimeField(default=timezone.now)
    scanned_by = models.CharField(max_length=64)

    class Meta:
        ordering = ["-scanned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "content_id"], name="scanned_content_id_unique_in_agency"
            )
        ]


class ScanHash(models.Model):
    """One hash of a scanned upload, indexed for retroactive matching."""

    content = models.ForeignKey(ScannedContent, on_delete=models.CASCADE, related_name="hash_rows")
    signal = models.CharField(max_length=8)
    hash = models.BinaryField(max_length=32)

    class Meta:
        indexes = [models.Index(fields=["signal", "hash"], name="scanhash_value")]


class RetroCursor(models.Model):
    """How far retroactive matching has followed the banks: entry ids and change ids."""

    entry_pk = models.BigIntegerField(default=0)
    change_pk = models.BigIntegerField(default=0)
    ran_at = models.DateTimeField(null=True, blank=True)


class RemovalHook(ScopedRecord):
    """The provider's endpoint that takes content down; calls are signed with HMAC-SHA256."""

    url = models.CharField(max_length=2000)
    secret_encrypted = models.BinaryField(help_text="the signing secret, wrapped by the master key")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)


class HookDelivery(models.Model):
    """One removal request to deliver, retried with backoff like the report outbox."""

    hook = models.ForeignKey(RemovalHook, on_delete=models.PROTECT, related_name="deliveries")
    content = models.ForeignKey(ScannedContent, on_delete=models.PROTECT, related_name="+")
    delivery_id = models.CharField(max_length=32, unique=True, help_text="receivers dedup on it")
    body = models.JSONField()
    state = models.CharField(max_length=16, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="hookdelivery_due")]

"""Other nodes' public signing keys, pinned by an administrator who checked the fingerprint."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["PinnedNode"]


class PinnedNode(models.Model):
    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64, help_text="Ed25519 public key, hex")
    key_id = models.CharField(max_length=16, unique=True)
    fingerprint = models.CharField(max_length=80)
    note = models.TextField(blank=True)
    pinned_at = models.DateTimeField(default=timezone.now)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

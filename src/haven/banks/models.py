"""Banks, their entries with provenance, the change log the matchers follow, lookup counts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from haven.accounts.models import ScopedRecord

__all__ = [
    "CHANGE_KINDS",
    "CLASSIFICATIONS",
    "CLASSIFICATION_SCHEMES",
    "MAX_THRESHOLD",
    "SIGNAL_CHOICES",
    "Bank",
    "BankChange",
    "BankEntry",
    "LookupCounter",
]

SIGNAL_CHOICES = [
    ("pdq", "PDQ (image or video frame)"),
    ("vpdq", "vPDQ (whole video)"),
    ("md5", "MD5"),
    ("sha256", "SHA-256"),
]

CLASSIFICATION_SCHEMES = [
    ("categories", "Categories A1/A2/B1/B2"),
    ("baseline", "INTERPOL baseline / nationally illegal / not illegal"),
    ("none", "No classification"),
]

CLASSIFICATIONS = ["", "A1", "A2", "B1", "B2", "baseline", "national", "not_illegal"]

MAX_THRESHOLD = 64


class Bank(ScopedRecord):
    """A hash list with its provenance and its matching policy."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(
        max_length=200, blank=True, help_text="who supplied the list (a hotline, an authority)"
    )
    classification_scheme = models.CharField(
        max_length=16, choices=CLASSIFICATION_SCHEMES, default="categories"
    )
    enabled = models.BooleanField(default=True)
    threshold = models.PositiveSmallIntegerField(
        default=31,
        validators=[MaxValueValidator(MAX_THRESHOLD)],
        help_text="largest PDQ distance that counts as a match in this bank",
    )
    is_allow_list = models.BooleanField(
        default=False, help_text="a match here suppresses matches in every other bank"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="bank_name_unique_in_agency")
        ]

    def __str__(self) -> str:
        return self.name


class BankEntry(models.Model):
    """One hash in a bank. A vPDQ entry holds its frames (quality byte + 32-byte PDQ each)."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="entries")
    signal_type = models.CharField(max_length=8, choices=SIGNAL_CHOICES)
    hash = models.BinaryField(max_length=32)
    frames = models.BinaryField(null=True, blank=True)
    external_id = models.CharField(max_length=200)
    source_list = models.CharField(max_length=200, blank=True)
    classification = models.CharField(max_length=16, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["bank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "external_id"], name="entry_id_unique_in_bank")
        ]
        indexes = [models.Index(fields=["signal_type", "hash"], name="entry_hash_lookup")]

    def __str__(self) -> str:
        return f"{self.bank_id}:{self.external_id}"

    @property
    def hex(self) -> str:
        return bytes(self.hash).hex()


CHANGE_KINDS = [
    ("entry", "one entry added, enabled or disabled"),
    ("range", "entries with ids entry_from..entry_to added (an import batch)"),
    ("settings", "the bank's own settings changed (threshold, allow-list, enabled, name)"),
    ("reload", "anything may have changed: reload the bank's entries"),
]


class BankChange(models.Model):
    """Something that changes what matches: the matchers replay these by ascending id.

    `kind` tells a matcher how little it may reload: one entry, a range of new entry ids,
    the bank's settings, or the whole bank (the default, always correct).
    """

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(
        BankEntry, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    kind = models.CharField(max_length=8, choices=CHANGE_KINDS, default="reload")
    entry_from = models.BigIntegerField(null=True, blank=True)
    entry_to = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)


class LookupCounter(models.Model):
    """Hashes looked up per hour, for the dashboard chart (flushed from memory every few s)."""

    hour = models.DateTimeField(unique=True)
    lookups = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    matched = models.BigIntegerField(default=0)

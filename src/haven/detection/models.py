"""Scanned content: the hashes and metadata of each upload a provider scanned, and the answer.

The bytes are never kept here (the evidence vault keeps what is held); the hashes are, so
that retroactive matching can look past uploads up against entries added later.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from haven.accounts.models import ScopedRecord
from haven.banks.models import Bank

__all__ = [
    "APPEAL_STATES",
    "DECISIONS",
    "REVIEW_STATES",
    "SURFACES",
    "Alert",
    "Appeal",
    "BankMatchMinute",
    "BankPolicy",
    "HookDelivery",
    "RemovalHook",
    "RetroCursor",
    "RevealGrant",
    "Review",
    "ReviewMatch",
    "ScanHash",
    "ScannedContent",
    "UploaderAccount",
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
    ("allow", "publish: no match, or no policy acts on it"),
    ("hold", "matched: hold for review before publishing"),
    ("block", "matched a bank that blocks at once: do not publish"),
]
REVIEW_STATES = [
    ("pending", "waiting for a reviewer"),
    ("confirmed", "confirmed by a reviewer"),
    ("false_positive", "a false positive: released"),
]
APPEAL_STATES = [
    ("pending", "waiting for a second reviewer"),
    ("upheld", "the decision stands"),
    ("overturned", "the decision was wrong: content restored"),
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
    policy = models.JSONField(
        default=dict, blank=True, help_text="what the bank policies decided, and why"
    )
    removed_at = models.DateTimeField(null=True, blank=True, help_text="the removal hook's ack")
    restored_at = models.DateTimeField(null=True, blank=True, help_text="an appeal overturned it")

    class Meta:
        ordering = ["-scanned_at"]
        indexes = [models.Index(fields=["agency", "decision"], name="scanned_decision")]
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


class BankPolicy(models.Model):
    """What a match in one bank does. A bank without a row acts as `BankPolicy()` defaults.

    The distance threshold stays on the bank itself (the matchers read it there); the
    policy page edits both.
    """

    bank = models.OneToOneField(Bank, on_delete=models.CASCADE, related_name="policy")
    block = models.BooleanField(default=False, help_text="block the upload at once")
    hold = models.BooleanField(default=True, help_text="hold the upload for a reviewer")
    report = models.BooleanField(default=True, help_text="report it once a reviewer confirms")
    notify = models.BooleanField(default=False, help_text="alert the administrators")
    confirmed_here = models.BooleanField(
        default=False,
        help_text="its entries were confirmed by this node's reviewers: no second review",
    )
    allow_lists = models.ManyToManyField(
        Bank,
        blank=True,
        related_name="+",
        help_text="allow-list banks whose matches suppress this bank's; none means all",
    )
    enable_percent = models.PositiveSmallIntegerField(
        default=100, help_text="share of matching uploads the actions apply to (gradual enable)"
    )
    flood_limit = models.PositiveIntegerField(
        default=500, help_text="this many matches within the window pause the auto-actions"
    )
    flood_window_minutes = models.PositiveIntegerField(default=10)
    paused_at = models.DateTimeField(null=True, blank=True, help_text="the flood guard tripped")
    paused_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.CharField(max_length=64, blank=True)


class BankMatchMinute(models.Model):
    """Matches per bank per minute: what the flood guard counts."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    matches = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank", "minute"], name="bank_match_minute_unique")
        ]


class Alert(ScopedRecord):
    """Something an administrator must look at: a flood guard, a delivery given up."""

    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]


class UploaderAccount(ScopedRecord):
    """One uploader's history on this provider: what matched, was confirmed, reported, removed."""

    account_id = models.CharField(max_length=200)
    screen_name = models.CharField(max_length=200, blank=True)
    matches = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    reports = models.PositiveIntegerField(default=0)
    removals = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "account_id"], name="uploader_account_unique_in_agency"
            )
        ]


class Review(ScopedRecord):
    """A held or blocked upload waiting for, or decided by, a person."""

    content = models.OneToOneField(ScannedContent, on_delete=models.PROTECT, related_name="review")
    state = models.CharField(max_length=16, choices=REVIEW_STATES, default="pending")
    priority = models.PositiveSmallIntegerField(default=50, help_text="higher is reviewed first")
    evidence = models.ForeignKey(
        "evidence.EvidenceItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    viewed = models.BooleanField(default=False, help_text="a person revealed the file (audited)")
    exif_viewed = models.BooleanField(default=False, help_text="a person saw its EXIF (audited)")
    escalated = models.BooleanField(default=False)
    escalation_reason = models.CharField(max_length=500, blank=True)
    classification = models.CharField(max_length=4, blank=True, help_text="A1, A2, B1 or B2")
    note = models.TextField(blank=True)
    decided_by = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    report_draft = models.JSONField(
        default=dict, blank=True, help_text="the report built on confirmation, as edited"
    )
    report_id = models.CharField(max_length=100, blank=True, help_text="set once it was sent")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-priority", "created_at"]
        indexes = [models.Index(fields=["agency", "state", "priority"], name="review_queue")]


class ReviewMatch(models.Model):
    """A bank entry behind a review: what confirmations and false positives are counted on."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="bank_matches")
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="+")
    entry_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "entry_id"], name="review_match_unique")
        ]


class RevealGrant(models.Model):
    """A reviewer's right to see one review's file unblurred, for a short time.

    Granting one revokes the reviewer's others: never more than one item revealed at once.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    user_id = models.BigIntegerField()
    token = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, default="file", help_text="file, or exif only")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


class Appeal(ScopedRecord):
    """An uploader's appeal against a decision, decided by a second reviewer."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="appeals")
    statement = models.TextField(help_text="what the uploader says")
    state = models.CharField(max_length=16, choices=APPEAL_STATES, default="pending")
    filed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["filed_at"]

"""Reports on both sides of the wire: the sender's queue and outbox, the receiver's intake.

Durability is the point of every model here. A provider's report is acknowledged to the
analyst only once it and its outbox message are committed together; the outbox keeps
trying until the receiver answers with a receipt. The receiver commits a report before it
answers 201 and recognises a resent report by the sender's id, so a crash on either side
leads to a retry, never to a loss or a second receipt.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from haven.accounts.models import Agency, ApiToken, ScopedRecord
from haven.exchange.models import PinnedNode

__all__ = [
    "DESTINATION_KINDS",
    "INCIDENT_KEY_KINDS",
    "INCIDENT_STATES",
    "OUTBOX_STATES",
    "PRIORITY_TIERS",
    "AccountSighting",
    "Destination",
    "Incident",
    "IncidentKey",
    "OutboxMessage",
    "OutgoingFile",
    "OutgoingReport",
    "ReceivedFile",
    "ReceivedReport",
]

DESTINATION_KINDS = [
    ("haven", "a Haven authority node's intake"),
    ("cybertipline", "NCMEC's CyberTipline"),
]
OUTBOX_STATES = [
    ("pending", "waiting to be delivered"),
    ("delivered", "delivered: the receiver answered with a receipt"),
    ("failed", "given up after the last attempt; an administrator was alerted"),
]


class Destination(ScopedRecord):
    """Where an agency sends its reports, and the credential it sends them with.

    The bearer token the receiver issued is kept encrypted with the node's master key.
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=DESTINATION_KINDS, default="haven")
    url = models.CharField(max_length=2000, help_text="the intake's base URL")
    token_encrypted = models.BinaryField()
    recipient = models.ForeignKey(
        PinnedNode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the authority node's pinned identity key, which files are sealed to",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name"], name="destination_name_unique_in_agency"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OutgoingReport(ScopedRecord):
    """A report this node's agency sends: the canonical JSON and where it stands."""

    report_id = models.CharField(max_length=100, help_text="the id the receiver dedups on")
    payload = models.JSONField()
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=64, help_text="the audit actor who queued it")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One report may go to several destinations (the national authority and NCMEC),
            # once to each.
            models.UniqueConstraint(
                fields=["agency", "report_id", "destination"],
                name="outgoing_report_unique_per_destination",
            )
        ]


class OutgoingFile(models.Model):
    """A file of an outgoing report, sealed (`haven.reports.sealing`), waiting to travel.

    Kept in the database, not on disk: it is committed in the same transaction as its
    report and outbox message, so a crash can never leave a message whose file is missing
    or a file no message will send, and it is bounded by HAVEN_MAX_UPLOAD_BYTES. For a
    Haven destination it is sealed to the authority's pinned key (this node cannot open
    it); for the CyberTipline, to this node's own key, opened only to upload it.
    """

    report = models.ForeignKey(OutgoingReport, on_delete=models.CASCADE, related_name="files")
    file_id = models.CharField(max_length=100)
    ciphertext = models.BinaryField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the ciphertext")
    size = models.PositiveBigIntegerField(help_text="size of the ciphertext in bytes")
    sealed_to = models.CharField(max_length=64, help_text="the id of the key it is sealed to")
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="when the receiver answered that it holds the file"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "file_id"], name="outgoing_file_unique_in_report"
            )
        ]


class OutboxMessage(models.Model):
    """One delivery to make, retried with backoff until it is acknowledged or given up."""

    report = models.OneToOneField(OutgoingReport, on_delete=models.PROTECT, related_name="outbox")
    state = models.CharField(max_length=16, choices=OUTBOX_STATES, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    receipt = models.JSONField(default=dict, blank=True, help_text="the receiver's answer")

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]


class ReceivedReport(ScopedRecord):
    """A report that arrived at this node's intake; `agency` is the receiving authority."""

    sender = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    sender_report_id = models.CharField(max_length=100)
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, related_name="+")
    schema_version = models.CharField(max_length=8)
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=64)
    receipt_id = models.CharField(max_length=32, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    synthetic = models.BooleanField(default=False)
    incident = models.ForeignKey(
        "Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        help_text="the incident it was grouped into (haven.reports.incidents)",
    )
    grouped_at = models.DateTimeField(
        null=True, blank=True, help_text="when it was grouped; null while it waits"
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "sender_report_id"], name="received_report_unique_per_sender"
            )
        ]
        indexes = [
            # The grouping job's queue: only the reports still waiting, oldest first.
            models.Index(
                fields=["received_at", "id"],
                name="received_report_ungrouped",
                condition=models.Q(grouped_at__isnull=True),
            )
        ]


class ReceivedFile(ScopedRecord):
    """A file of a received report, kept sealed as it arrived: only this node's key opens it.

    `agency` is the receiving authority (the report's). The SHA-256 and size are the ones
    the report declared, checked against the bytes before they were stored.
    """

    report = models.ForeignKey(ReceivedReport, on_delete=models.PROTECT, related_name="files")
    file_id = models.CharField(max_length=100)
    ciphertext = models.BinaryField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the ciphertext")
    size = models.PositiveBigIntegerField(help_text="size of the ciphertext in bytes")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "file_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "file_id"], name="received_file_unique_in_report"
            )
        ]


INCIDENT_STATES = [
    ("new", "waiting for an analyst"),
    ("claimed", "an analyst is working on it"),
    ("classified", "its files are classified"),
    ("referred", "referred to law enforcement"),
    ("closed", "closed"),
]
PRIORITY_TIERS = [
    ("immediate", "immediate"),
    ("high", "high"),
    ("normal", "normal"),
    ("low", "low"),
]
# IP addresses are not a grouping key (one address is shared by a NAT, a carrier-grade NAT
# or a VPN exit by unrelated people): they are kept as history, in AccountSighting.
INCIDENT_KEY_KINDS = [
    ("md5", "MD5 of a file"),
    ("sha1", "SHA-1 of a file"),
    ("sha256", "SHA-256 of a file"),
    ("pdq", "PDQ of a file (exact: near-duplicates do not join)"),
    ("url", "a URL: scheme and host lower-cased, no fragment"),
    ("account", "an account: '<sender id>:<platform id>' or '@<screen name>'"),
]


class Incident(ScopedRecord):
    """Received reports about the same material, place or account, grouped for triage.

    `agency` is the receiving authority. Reports join an incident when they share a key
    (`IncidentKey`); a report whose keys are held by several incidents merges them into
    the oldest, and each merged-away incident is kept, empty, with `merged_into` set (so a
    link or an audit entry naming it still leads somewhere). The priority is the one
    `haven.reports.priority` gives the joined facts of all its reports (`facts`).
    """

    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=INCIDENT_STATES, default="new")
    title = models.CharField(max_length=300)
    priority_score = models.PositiveSmallIntegerField(default=0)
    priority_tier = models.CharField(max_length=16, choices=PRIORITY_TIERS, default="low")
    priority_reasons = models.JSONField(
        default=list, blank=True, help_text="[{factor, weight, why}] of the score"
    )
    facts = models.JSONField(
        default=dict, blank=True, help_text="the triage facts of all its reports, joined"
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)
    report_count = models.PositiveIntegerField(default=0)
    sender_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the incident this one was merged into; null while it is live",
    )

    class Meta:
        ordering = ["-priority_score", "sla_due_at"]
        indexes = [
            # The triage queue: live incidents by tier and deadline.
            models.Index(
                fields=["agency", "state", "sla_due_at"],
                name="incident_queue",
                condition=models.Q(merged_into__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.title


class IncidentKey(models.Model):
    """A normalised file hash, URL or account that an incident holds; each in one only."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="keys")
    kind = models.CharField(max_length=8, choices=INCIDENT_KEY_KINDS)
    value = models.CharField(
        max_length=300, help_text="normalised; longer values are 'sha256~<hex of the value>'"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "value"], name="incident_key_unique_in_agency"
            )
        ]


class AccountSighting(models.Model):
    """An account seen in a received report, with an IP address it used (or none).

    History across providers: the same screen name reported by two providers, and the
    addresses it came from. `agency` is the receiving authority; `sender` the provider.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    account_key = models.CharField(max_length=300)
    ip = models.GenericIPAddressField(null=True, blank=True)
    seen_at = models.DateTimeField(help_text="the IP event's time, else the incident's")
    report = models.ForeignKey(ReceivedReport, on_delete=models.CASCADE, related_name="+")
    sender = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["seen_at", "pk"]
        indexes = [
            models.Index(fields=["agency", "account_key", "seen_at"], name="sighting_by_account")
        ]

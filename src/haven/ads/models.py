"""Ingest runs, ads with what was found in them, the contact index and clusters.

Ads are public posts, so their text is kept as posted (reviewers need the spans); no
child's case data belongs here. Entities and indicator hits are stored as the engine
returned them (JSON), and contact values are also indexed in `AdEntity`, one row each, so
"every ad with this phone" is one indexed query.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from haven.accounts.models import ScopedRecord

__all__ = ["READINGS", "Ad", "AdEntity", "Cluster", "ClusterReport", "IngestRun"]

READINGS = [
    ("trafficking-like", "trafficking-like"),
    ("unclear", "unclear"),
    ("spam-like", "spam-like"),
]


class IngestRun(ScopedRecord):
    """One `haven text ingest`: what was read, kept and refused, and how long linking took."""

    source_name = models.CharField(max_length=300)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=64)
    rows_read = models.PositiveIntegerField(default=0)
    ads_added = models.PositiveIntegerField(default=0)
    ads_updated = models.PositiveIntegerField(default=0)
    ads_unchanged = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, help_text="the first refused rows and why")
    clusters = models.PositiveIntegerField(default=0)
    link_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]


class Cluster(ScopedRecord):
    """Ads linked by shared contacts, photos or a text template, with the engine's summary."""

    size = models.PositiveIntegerField()
    risk_max = models.FloatField()
    risk_mean = models.FloatField()
    reading = models.CharField(max_length=20, choices=READINGS)
    first_posted = models.DateTimeField(null=True, blank=True)
    last_posted = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict)
    links = models.JSONField(default=list, help_text="why the ads are linked (capped)")
    links_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-risk_max", "-size", "pk"]
        indexes = [models.Index(fields=["agency", "-risk_max"], name="ads_cluster_risk")]

    def __str__(self) -> str:
        return f"cluster {self.pk} ({self.size} ads)"


class Ad(ScopedRecord):
    """One ad as posted, with its entities, indicator hits and triage score."""

    external_id = models.CharField(max_length=200, help_text="the poster's or crawler's id")
    synthetic = models.BooleanField(default=False)
    text = models.TextField()
    lang = models.CharField(max_length=8, blank=True)
    region = models.CharField(max_length=2)
    city = models.CharField(max_length=200, blank=True)
    site = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    image_pdq = models.CharField(max_length=64, blank=True)
    entities = models.JSONField(default=list)
    indicators = models.JSONField(default=list)
    score = models.FloatField(default=0.0)
    reasons = models.JSONField(default=list)
    content_digest = models.CharField(max_length=64, help_text="SHA-256 of what was ingested")
    cluster = models.ForeignKey(
        Cluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="ads"
    )
    run = models.ForeignKey(
        IngestRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="ads"
    )
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["posted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "external_id"], name="ad_external_id_unique_in_agency"
            )
        ]
        indexes = [models.Index(fields=["agency", "-score"], name="ads_ad_score")]

    def __str__(self) -> str:
        return f"ad {self.external_id}"


class AdEntity(models.Model):
    """One contact or place value found in an ad, indexed for "every ad with this value"."""

    ad = models.ForeignKey(Ad, on_delete=models.CASCADE, related_name="entity_rows")
    type = models.CharField(max_length=16)
    normalized = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["type", "normalized"], name="ads_entity_value")]


class ClusterReport(ScopedRecord):
    """A cluster sent as a report: under which report id, with how many ads, by whom.

    The cluster link is cleared when a relink dissolves the cluster; the row, and the
    outgoing reports it names by `report_id`, stay.
    """

    cluster = models.ForeignKey(
        Cluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    report_id = models.CharField(max_length=100, help_text="the id the report was sent under")
    ad_count = models.PositiveIntegerField(help_text="how many ads the report listed")
    created_by = models.CharField(max_length=64, help_text="the audit actor who sent it")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "report_id"], name="cluster_report_id_unique_in_agency"
            )
        ]

    def __str__(self) -> str:
        return f"cluster report {self.report_id}"

"""Ingesting ads, relinking an agency's clusters, and the queries the pages use.

Ingest is idempotent on the poster's id within an agency: a row whose content is unchanged
is skipped, a changed one is re-read by the engine and replaces the old reading. Rows are
stored in batches, each in one transaction, so a crash loses at most the batch in flight
and a rerun finishes the job. After ingest the agency's ads are relinked; a new cluster
keeps the id of the old cluster most of its ads were in, so bookmarks and notes follow a
network as it grows.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from haven.accounts.permissions import Principal, check, visible
from haven.ads.models import Ad, AdEntity, Cluster, IngestRun
from haven.ads.reader import AdInput, RowProblem
from haven.ads.scanning import scan_text
from haven.audit.services import record
from haven.text.linking import AdRecord, LinkConfig, link_ads

__all__ = [
    "BATCH_SIZE",
    "INDEXED_TYPES",
    "MAX_STORED_LINKS",
    "MAX_STORED_PROBLEMS",
    "IngestReport",
    "RelinkReport",
    "ads_sharing",
    "ingest_ads",
    "relink",
    "visible_ads",
    "visible_clusters",
]

BATCH_SIZE = 500
MAX_STORED_LINKS = 500
MAX_STORED_PROBLEMS = 100
# Values worth finding every ad by: contacts, photos' places, cities.
INDEXED_TYPES = frozenset({"phone", "email", "handle", "url", "domain", "wallet", "city"})


@dataclass
class RelinkReport:
    ads: int = 0
    clusters: int = 0
    kept_ids: int = 0
    seconds: float = 0.0


@dataclass
class IngestReport:
    run_id: int
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)
    relinked: RelinkReport | None = None


def visible_ads(principal: Principal) -> QuerySet[Ad]:
    return visible(Ad.objects.all(), check(principal, "ads:read"))


def visible_clusters(principal: Principal) -> QuerySet[Cluster]:
    return visible(Cluster.objects.all(), check(principal, "ads:read"))


def ads_sharing(principal: Principal, kind: str, value: str) -> QuerySet[Ad]:
    """Every ad in reach where `value` of type `kind` was found."""
    matching = AdEntity.objects.filter(type=kind, normalized=value).values("ad_id")
    return visible_ads(principal).filter(pk__in=matching)


def _digest(item: AdInput) -> str:
    body = asdict(item)
    body["posted_at"] = item.posted_at.isoformat() if item.posted_at else None
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _fields(item: AdInput, digest: str, run: IngestRun) -> dict[str, Any]:
    scan = scan_text(item.text, lang=item.lang, region=item.region)
    return {
        "synthetic": item.synthetic,
        "text": item.text,
        "lang": item.lang or "",
        "region": item.region,
        "city": item.city,
        "site": item.site,
        "url": item.url,
        "posted_at": item.posted_at,
        "image_pdq": item.image_pdq,
        "entities": scan.entities,
        "indicators": scan.indicators,
        "score": scan.score,
        "reasons": scan.reasons,
        "content_digest": digest,
        "run": run,
        "ingested_at": timezone.now(),
    }


def _entity_rows(ad: Ad) -> list[AdEntity]:
    seen = {(e["type"], e["normalized"]) for e in ad.entities if e["type"] in INDEXED_TYPES}
    if ad.city:
        seen.add(("city", ad.city.strip().casefold()))
    return [AdEntity(ad=ad, type=kind, normalized=value[:300]) for kind, value in sorted(seen)]


def _store_batch(
    principal: Principal, run: IngestRun, batch: list[AdInput], report: IngestReport
) -> None:
    latest = {item.external_id: item for item in batch}  # a repeated id: the last row wins
    report.unchanged += len(batch) - len(latest)
    with transaction.atomic():
        existing = {
            ad.external_id: ad
            for ad in Ad.objects.filter(agency_id=principal.agency_id, external_id__in=latest)
        }
        changed: list[Ad] = []
        for external_id, item in latest.items():
            digest = _digest(item)
            ad = existing.get(external_id)
            if ad is not None and ad.content_digest == digest:
                report.unchanged += 1
                continue
            values = _fields(item, digest, run)
            if ad is None:
                ad = Ad.objects.create(
                    agency_id=principal.agency_id, external_id=external_id, **values
                )
                report.added += 1
            else:
                for name, value in values.items():
                    setattr(ad, name, value)
                ad.save()
                report.updated += 1
            changed.append(ad)
        AdEntity.objects.filter(ad__in=[ad.pk for ad in changed]).delete()
        AdEntity.objects.bulk_create(row for ad in changed for row in _entity_rows(ad))


def ingest_ads(
    principal: Principal,
    rows: Iterable[tuple[int, AdInput | RowProblem]],
    *,
    source_name: str,
    link: bool = True,
    on_linking: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store every good row (in batches), note the refused ones, then relink the agency."""
    check(principal, "ads:ingest")
    run = IngestRun.objects.create(
        agency_id=principal.agency_id, source_name=source_name[:300], actor=principal.actor
    )
    report = IngestReport(run.pk)
    batch: list[AdInput] = []
    for _, outcome in rows:
        report.rows_read += 1
        if isinstance(outcome, RowProblem):
            report.refused += 1
            if len(report.problems) < MAX_STORED_PROBLEMS:
                report.problems.append(str(outcome))
            continue
        batch.append(outcome)
        if len(batch) >= BATCH_SIZE:
            _store_batch(principal, run, batch, report)
            batch = []
    if batch:
        _store_batch(principal, run, batch, report)
    if link:
        report.relinked = relink(principal, on_start=on_linking)
    run.finished_at = timezone.now()
    run.rows_read, run.rows_refused = report.rows_read, report.refused
    run.ads_added, run.ads_updated = report.added, report.updated
    run.ads_unchanged, run.problems = report.unchanged, report.problems
    if report.relinked is not None:
        run.clusters, run.link_seconds = report.relinked.clusters, report.relinked.seconds
    run.save()
    record(
        "ads.ingest",
        principal=principal,
        target_type="ingest_run",
        target_id=run.pk,
        detail={
            "source": source_name[:200],
            "rows": report.rows_read,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": report.refused,
            "clusters": run.clusters,
        },
    )
    return report


def _records(agency_id: int) -> Iterator[tuple[AdRecord, int | None]]:
    query = Ad.objects.filter(agency_id=agency_id).order_by("pk")
    columns = ("pk", "text", "entities", "city", "posted_at", "image_pdq", "score", "indicators")
    for pk, text, entities, city, posted, pdq, score, hits, old in query.values_list(
        *columns, "cluster_id"
    ).iterator(chunk_size=2000):
        yield (
            AdRecord(
                id=str(pk),
                text=text,
                entities=tuple((e["type"], e["normalized"]) for e in entities),
                city=city or None,
                posted_at=posted.isoformat() if posted else None,
                image_pdq=pdq or None,
                score=score,
                indicator_ids=tuple(sorted({h["id"] for h in hits})),
            ),
            old,
        )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _link_json(link: Any) -> dict[str, Any]:
    return {
        "a": int(link.a),
        "b": int(link.b),
        "kind": link.kind,
        "value": link.value,
        "similarity": round(link.similarity, 3),
        "reason": link.reason,
        "common": link.common,
    }


def relink(
    principal: Principal,
    *,
    config: LinkConfig | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RelinkReport:
    """Link every ad of the principal's agency again and store the clusters.

    Ids are kept by majority: each new cluster, largest first, takes the id of the old
    cluster that most of its ads came from, unless a larger one took it already.
    """
    check(principal, "ads:ingest")
    started = time.perf_counter()
    loaded = list(_records(principal.agency_id))
    if on_start is not None:
        on_start(len(loaded))
    previous = {int(r.id): old for r, old in loaded if old is not None}
    linking = link_ads([r for r, _ in loaded], config)
    report = RelinkReport(ads=len(loaded), clusters=len(linking.clusters))
    now = timezone.now()
    with transaction.atomic():
        old_ids = set(
            Cluster.objects.filter(agency_id=principal.agency_id).values_list("pk", flat=True)
        )
        claimed: set[int] = set()
        Ad.objects.filter(agency_id=principal.agency_id).update(cluster=None)
        for found in sorted(linking.clusters, key=lambda c: -len(c.ad_ids)):
            members = [int(x) for x in found.ad_ids]
            votes = Counter(previous[m] for m in members if m in previous)
            keep = next((pk for pk, _ in votes.most_common() if pk not in claimed), None)
            summary = found.summary
            values: dict[str, Any] = {
                "size": summary.size,
                "risk_max": round(summary.risk_max, 1),
                "risk_mean": round(summary.risk_mean, 1),
                "reading": summary.reading,
                "first_posted": _when(summary.first_posted),
                "last_posted": _when(summary.last_posted),
                "summary": json.loads(json.dumps(asdict(summary))),
                "links": [_link_json(x) for x in found.links[:MAX_STORED_LINKS]],
                "links_total": len(found.links),
                "updated_at": now,
            }
            if keep is not None:
                claimed.add(keep)
                Cluster.objects.filter(pk=keep).update(**values)
                cluster_pk = keep
                report.kept_ids += 1
            else:
                cluster_pk = Cluster.objects.create(
                    agency_id=principal.agency_id, created_at=now, **values
                ).pk
            for start in range(0, len(members), 900):  # under SQLite's variable limit
                Ad.objects.filter(pk__in=members[start : start + 900]).update(cluster_id=cluster_pk)
        Cluster.objects.filter(pk__in=old_ids - claimed).delete()
    report.seconds = round(time.perf_counter() - started, 3)
    record(
        "ads.relink",
        principal=principal,
        target_type="agency",
        target_id=principal.agency_id,
        detail={"ads": report.ads, "clusters": report.clusters, "kept_ids": report.kept_ids},
    )
    return report

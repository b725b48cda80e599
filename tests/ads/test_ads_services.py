"""Ingest and relink: idempotent on the poster's id, batch-atomic, stable cluster ids.

The corpus is synthetic (`haven.synth.ads`), with ground-truth clusters; the checks here
are about what the platform keeps, not about the engine's quality (benchmarks do that).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tests.ads.conftest import corpus, ingest_rows

from haven.accounts.permissions import PermissionDenied, Principal
from haven.ads import services
from haven.ads.models import Ad, AdEntity, Cluster, IngestRun
from haven.ads.reader import RowProblem
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_ingest_stores_every_ad_with_its_reading(system: Principal) -> None:
    rows = corpus()
    report = ingest_rows(system, rows)
    assert (report.rows_read, report.added, report.updated, report.refused) == (
        len(rows),
        len(rows),
        0,
        0,
    )
    ad = Ad.objects.get(external_id=rows[0]["id"])
    assert ad.text == rows[0]["text"] and ad.synthetic
    for e in ad.entities:
        assert ad.text[e["span"][0] : e["span"][1]] == e["value"]
    for stored in Ad.objects.all():
        expected = {
            (e["type"], e["normalized"])
            for e in stored.entities
            if e["type"] in services.INDEXED_TYPES
        }
        if stored.city:
            expected.add(("city", stored.city.casefold()))
        assert set(AdEntity.objects.filter(ad=stored).values_list("type", "normalized")) == expected
    assert AdEntity.objects.filter(type="phone").exists()
    run = IngestRun.objects.get(pk=report.run_id)
    assert run.finished_at is not None and run.ads_added == len(rows)
    assert run.clusters == Cluster.objects.count() > 0


def test_a_second_ingest_of_the_same_file_changes_nothing(system: Principal) -> None:
    ingest_rows(system, corpus())
    before = list(Ad.objects.order_by("pk").values_list("pk", "content_digest", "cluster_id"))
    clusters = list(Cluster.objects.order_by("pk").values_list("pk", "size"))
    report = ingest_rows(system, corpus())
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(corpus()))
    after = list(Ad.objects.order_by("pk").values_list("pk", "content_digest", "cluster_id"))
    assert after == before
    assert list(Cluster.objects.order_by("pk").values_list("pk", "size")) == clusters


def test_a_changed_ad_is_read_again_and_its_index_rows_replaced(system: Principal) -> None:
    row = {"id": "x1", "text": "Synthetic. Call 202 555 0142", "region": "US"}
    ingest_rows(system, [row], link=False)
    changed = {**row, "text": "Synthetic. Text +61 491 570 156 instead"}
    report = ingest_rows(system, [changed], link=False)
    assert (report.added, report.updated) == (0, 1)
    ad = Ad.objects.get(external_id="x1")
    phones = set(AdEntity.objects.filter(ad=ad, type="phone").values_list("normalized", flat=True))
    assert phones == {"+61491570156"}


def test_the_last_row_wins_when_a_file_repeats_an_id(system: Principal) -> None:
    rows = [{"id": "r", "text": "first"}, {"id": "r", "text": "second"}]
    report = ingest_rows(system, rows, link=False)
    assert Ad.objects.get(external_id="r").text == "second"
    assert (report.added, report.unchanged) == (1, 1)


def test_refused_rows_are_counted_and_named(system: Principal) -> None:
    outcomes: list[tuple[int, Any]] = [(1, RowProblem(1, "region", "bad region"))]
    report = services.ingest_ads(system, outcomes, source_name="bad.jsonl")
    assert (report.refused, report.problems) == (1, ["line 1, region: bad region"])
    assert IngestRun.objects.get(pk=report.run_id).problems == ["line 1, region: bad region"]


def test_a_crash_keeps_the_batches_already_stored_and_a_rerun_finishes(
    system: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"id": f"ad{k}", "text": f"Synthetic ad number {k}"} for k in range(12)]
    monkeypatch.setattr(services, "BATCH_SIZE", 5)
    real, calls = services.scan_text, Counter[str]()

    def failing(text: str, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 8:
            raise RuntimeError("killed")
        return real(text, **kwargs)

    monkeypatch.setattr(services, "scan_text", failing)
    with pytest.raises(RuntimeError):
        ingest_rows(system, rows, link=False)
    assert sorted(Ad.objects.values_list("external_id", flat=True)) == sorted(
        f"ad{k}" for k in range(5)
    )  # the second batch rolled back whole
    monkeypatch.setattr(services, "scan_text", real)
    report = ingest_rows(system, rows, link=False)
    assert (report.added, report.unchanged) == (7, 5)
    assert Ad.objects.count() == 12


def test_relinking_keeps_cluster_ids_as_networks_grow(system: Principal) -> None:
    rows = corpus()
    half = [r for k, r in enumerate(rows) if k % 2 == 0]
    ingest_rows(system, half)
    first = {c.pk: set(c.ads.values_list("external_id", flat=True)) for c in Cluster.objects.all()}
    ingest_rows(system, rows)
    kept = 0
    for cluster in Cluster.objects.all():
        members = set(cluster.ads.values_list("external_id", flat=True))
        assert cluster.size == len(members)
        if cluster.pk in first:
            kept += 1
            assert first[cluster.pk] <= members or len(first[cluster.pk] & members) * 2 >= len(
                first[cluster.pk]
            )
    assert kept >= len(first) * 0.8


def test_every_clustered_ad_shares_its_cluster_with_a_linked_ad(system: Principal) -> None:
    ingest_rows(system, corpus())
    for cluster in Cluster.objects.all():
        linked = {x for link in cluster.links for x in (link["a"], link["b"])}
        ads = set(cluster.ads.values_list("pk", flat=True))
        assert cluster.size >= 2 and linked <= ads
        if cluster.links_total <= services.MAX_STORED_LINKS:
            assert linked == ads


def test_ingest_and_relink_are_audited(system: Principal) -> None:
    report = ingest_rows(system, corpus()[:20])
    entry = AuditEntry.objects.get(action="ads.ingest")
    assert entry.target_id == str(report.run_id) and entry.detail["added"] == 20
    assert AuditEntry.objects.filter(action="ads.relink").count() == 1


def test_reach_and_permissions(system: Principal, analyst: Principal, outsider: Principal) -> None:
    ingest_rows(system, corpus()[:40])
    assert services.visible_ads(analyst).count() == 40
    assert services.visible_ads(outsider).count() == 0
    assert services.visible_clusters(outsider).count() == 0
    phone = next(
        e["normalized"] for ad in Ad.objects.all() for e in ad.entities if e["type"] == "phone"
    )
    assert services.ads_sharing(analyst, "phone", phone).exists()
    assert not services.ads_sharing(outsider, "phone", phone).exists()
    reader = Principal("user", 1, "r", frozenset({"ads:read"}), analyst.reach, analyst.agency_id)
    with pytest.raises(PermissionDenied):
        services.ingest_ads(reader, [], source_name="x")
    with pytest.raises(PermissionDenied):
        services.relink(reader)

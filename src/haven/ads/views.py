"""The clusters list, a cluster's page and an ad's page, under /ads/ (namespace "ads").

Thin views: `haven.ads.services` answers what a principal may see (records out of reach
are 404), `network` and `highlight` turn stored data into the picture and the marked-up
text, `haven.web.charts` draws the timeline and indicator profile. Opening a cluster or an
ad is audited: they are investigative records.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.permissions import (
    Principal,
    get_visible_or_404,
    principal_of,
    require,
    visible,
)
from haven.ads.forms import ClusterFilterForm, IngestForm
from haven.ads.highlight import Mark, runs
from haven.ads.models import Ad, AdEntity, Cluster, IngestRun
from haven.ads.network import network_picture
from haven.ads.reader import ReadError, guess_format, read_ads
from haven.ads.services import (
    INDEXED_TYPES,
    ads_sharing,
    ingest_ads,
    visible_ads,
    visible_clusters,
)
from haven.audit.services import record
from haven.text.entities import extract_entities
from haven.web.charts import Bar, bar_chart

__all__ = ["ad_detail", "cluster_detail", "cluster_list", "ingest"]

PAGE_SIZE = 50
ADS_PER_PAGE = 100
RISK_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))
GRADE_LABELS = {"V": "validated", "H": "hypothesised", "X": "contested", "N": "negative"}


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has sent anonymous requests to sign in already
        raise PermissionDenied("not signed in")
    return principal


def _search_values(query: str) -> set[str]:
    """What a search box entry may be stored as: as typed, folded, or read as a phone."""
    values = {query, query.casefold(), query.lstrip("@").casefold()}
    values.update(e.normalized for e in extract_entities(query, region=settings.HAVEN.phone_region))
    return values


def _risk_chart(clusters: QuerySet[Cluster]) -> Any:
    bands = clusters.aggregate(
        **{
            f"b{low}": Count("pk", filter=Q(risk_max__gte=low, risk_max__lt=high))
            for low, high in RISK_BANDS
        }
    )
    counts = [int(bands[f"b{low}"] or 0) for low, _ in RISK_BANDS]
    bars = [
        Bar(n, f"{low}–{min(high, 100)}", f"{n:,} clusters with top score {low}–{min(high, 100)}")
        for n, (low, high) in zip(counts, RISK_BANDS, strict=True)
    ]
    return bar_chart(
        bars,
        chart_id="risk-chart",
        title="Clusters by their highest ad score",
        description=", ".join(f"{b.label}: {int(b.value):,}" for b in bars) + ".",
        x_label="Highest ad score in the cluster",
        y_label="Clusters",
        height=200,
    )


@require("ads:read")
def cluster_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    clusters = visible_clusters(principal)
    form = ClusterFilterForm(request.GET or None)
    query = reading = ""
    filtered = clusters
    if form.is_valid():
        query = str(form.cleaned_data.get("q") or "").strip()
        reading = str(form.cleaned_data.get("reading") or "")
        if query:
            values = _search_values(query)
            holding = AdEntity.objects.filter(type__in=INDEXED_TYPES, normalized__in=values).values(
                "ad__cluster_id"
            )
            filtered = filtered.filter(pk__in=holding)
        if reading:
            filtered = filtered.filter(reading=reading)
        if form.cleaned_data.get("min_size"):
            filtered = filtered.filter(size__gte=form.cleaned_data["min_size"])
    filtered = filtered.order_by("-risk_max", "-size", "pk")
    page = Paginator(filtered, PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {
        "form": form,
        "query": query,
        "reading": reading,
        "page": page,
        "clusters_total": clusters.count(),
        "ads_total": visible_ads(principal).count(),
        "risk_chart": _risk_chart(clusters) if clusters.exists() else None,
        "can_ingest": principal.can("ads:ingest"),
    }
    return render(request, "ads/cluster_list.html", context, status=status)


def _timeline(ads: QuerySet[Ad]) -> Any:
    posted = [p for p in ads.values_list("posted_at", flat=True) if p is not None]
    if not posted:
        return None
    first, last = min(posted).date(), max(posted).date()
    days = (last - first).days + 1
    step = 1 if days <= 62 else 7 if days <= 7 * 62 else 30
    unit = {1: "day", 7: "week", 30: "30 days"}[step]
    counts = Counter((p.date() - first).days // step for p in posted)
    buckets = (days + step - 1) // step
    bars = []
    for k in range(buckets):
        start = first + timedelta(days=k * step)
        label = start.isoformat()[5:] if buckets <= 16 or k % max(1, buckets // 8) == 0 else ""
        bars.append(Bar(counts.get(k, 0), label, f"{counts.get(k, 0)} ads, {unit} of {start}"))
    busiest = max(range(buckets), key=lambda k: counts.get(k, 0))
    return bar_chart(
        bars,
        chart_id="timeline-chart",
        title=f"Ads per {unit}",
        description=(
            f"{len(posted):,} ads from {first} to {last}; the busiest {unit} "
            f"({first + timedelta(days=busiest * step)}) had {counts.get(busiest, 0)}."
        ),
        x_label=f"{unit.capitalize()} posted (UTC)",
        y_label="Ads",
        height=200,
    )


def _profile_chart(summary: dict[str, Any]) -> Any:
    profile = [(str(ident), int(n)) for ident, n in summary.get("indicator_profile", [])]
    if not profile:
        return None
    bars = [Bar(n, ident.replace("_", " "), f"{n} ads carry {ident}") for ident, n in profile[:12]]
    return bar_chart(
        bars,
        chart_id="profile-chart",
        title="Indicator profile",
        description=", ".join(f"{ident}: {n} ads" for ident, n in profile[:12]) + ".",
        x_label="Indicator",
        y_label="Ads",
        height=220,
    )


@require("ads:read")
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    cluster = get_visible_or_404(visible_clusters(principal), principal, pk=pk)
    ads = visible_ads(principal).filter(cluster=cluster).order_by("posted_at", "pk")
    scores = dict(ads.values_list("pk", "score"))
    picture = network_picture(scores, cluster.links)
    page = Paginator(ads.order_by("-score", "posted_at", "pk"), ADS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    record("ads.cluster.view", request=request, target_type="cluster", target_id=cluster.pk)
    summary = cluster.summary
    context = {
        "cluster": cluster,
        "summary": summary,
        "cities": summary.get("cities", []),
        "template": summary.get("template"),
        "picture": picture,
        "timeline": _timeline(ads),
        "profile_chart": _profile_chart(summary),
        "page": page,
        "links": cluster.links[:200],
    }
    return render(request, "ads/cluster_detail.html", context)


def _marks(ad: Ad) -> list[Mark]:
    marks = [
        Mark(
            e["span"][0],
            e["span"][1],
            "entity",
            f"entity entity-{e['type']}",
            f"{e['type']}: {e['normalized']}" + (" (obscured)" if e["obscured"] else ""),
        )
        for e in ad.entities
    ]
    marks += [
        Mark(
            h["span"][0],
            h["span"][1],
            "indicator",
            f"indicator grade-{h['grade']}",
            f"{h['id']} ({GRADE_LABELS.get(h['grade'], h['grade'])}): {h['reason']}",
        )
        for h in ad.indicators
    ]
    return marks


@require("ads:read")
def ad_detail(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    ad = get_visible_or_404(visible_ads(principal), principal, pk=pk)
    record("ads.ad.view", request=request, target_type="ad", target_id=ad.pk)
    contacts = [e for e in ad.entities if e["type"] in INDEXED_TYPES - {"city"}]
    sharing: dict[tuple[str, str], int] = {}
    for e in contacts:
        key = (e["type"], e["normalized"])
        if key not in sharing:
            sharing[key] = ads_sharing(principal, *key).exclude(pk=ad.pk).count()
    context = {
        "ad": ad,
        "runs": runs(ad.text, _marks(ad)),
        "entities": [
            {**e, "elsewhere": sharing.get((e["type"], e["normalized"]))} for e in ad.entities
        ],
        "indicators": [
            {**h, "grade_label": GRADE_LABELS.get(h["grade"], h["grade"])} for h in ad.indicators
        ],
        "grade_labels": GRADE_LABELS,
    }
    return render(request, "ads/ad_detail.html", context)


@require("ads:ingest")
def ingest(request: HttpRequest) -> HttpResponse:
    """Upload a file of ads: read, scanned and linked in the request (files up to the
    node's upload limit; larger crawls go through `haven text ingest`)."""
    principal = _principal(request)
    form = IngestForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = os.path.basename(str(upload.name or "upload"))[:200] or "upload"
        try:
            fmt = form.cleaned_data.get("format") or guess_format(Path(name))
            rows = read_ads(
                upload.file,
                fmt,
                default_region=form.cleaned_data["region"],
                tsv=name.lower().endswith(".tsv"),
            )
            report = ingest_ads(principal, rows, source_name=name)
        except ReadError as exc:
            form.add_error("file", str(exc))
    runs_in_reach = visible(IngestRun.objects.all(), principal).order_by("-started_at")[:10]
    return render(
        request,
        "ads/ingest.html",
        {"form": form, "report": report, "runs": runs_in_reach},
        status=400 if form.errors else 200,
    )

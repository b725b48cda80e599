"""What the dashboard shows: only what the signed-in person's permissions allow.

Every role sees the dashboard; its cards are chosen permission by permission, so a case
worker sees their role and links, an auditor the index and banks (read-only), an analyst
the lookup chart too. Banks are counted within the person's reach, like every list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.permissions import Principal, principal_of
from haven.accounts.roles import PERMISSIONS, ROLE_LABELS, Role
from haven.web.charts import Bar, bar_chart
from haven.web.context import NAVIGATION

__all__ = ["HOURS", "HourCount", "dashboard_context", "lookups_per_hour"]

log = logging.getLogger(__name__)

HOURS = 24
SIGNAL_LABELS = {"pdq": "PDQ", "vpdq": "vPDQ", "md5": "MD5", "sha256": "SHA-256"}


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    lookups: int
    requests: int
    matched: int


def lookups_per_hour(now: datetime | None = None, hours: int = HOURS) -> list[HourCount]:
    """The last `hours` whole hours up to the current one, oldest first, zeros included."""
    from haven.banks.models import LookupCounter

    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    rows = {
        row.hour: row for row in LookupCounter.objects.filter(hour__gte=first, hour__lte=current)
    }
    out = []
    for step in range(hours):
        hour = first + timedelta(hours=step)
        row = rows.get(hour)
        out.append(
            HourCount(
                hour,
                int(row.lookups) if row else 0,
                int(row.requests) if row else 0,
                int(row.matched) if row else 0,
            )
        )
    return out


def _lookup_chart(counts: list[HourCount]) -> dict[str, Any]:
    bars = [
        Bar(
            c.lookups,
            label=c.hour.strftime("%H:00") if i % 3 == 0 else "",
            title=f"{c.hour:%Y-%m-%d %H:00} UTC: {c.lookups:,} lookups",
        )
        for i, c in enumerate(counts)
    ]
    total = sum(c.lookups for c in counts)
    busiest = max(counts, key=lambda c: c.lookups) if counts else None
    summary = f"{total:,} hashes looked up in the last {len(counts)} hours"
    if busiest is not None and busiest.lookups:
        summary += f"; the busiest hour was {busiest.hour:%H:00} UTC with {busiest.lookups:,}"
    svg = bar_chart(
        bars,
        chart_id="lookups-chart",
        title="Lookups per hour, last 24 hours",
        description=summary + ".",
        x_label="Hour (UTC)",
        y_label="Lookups",
    )
    return {"svg": svg, "hours": counts, "total": total, "summary": summary}


def _index_card() -> dict[str, Any] | None:
    from haven.banks.matcher import matcher

    try:
        status = matcher().status()
    except Exception:  # the dashboard must load even when the index cannot be built
        log.exception("index status unavailable for the dashboard")
        return None
    counts = dict(status.entries)
    frames = counts.pop("vpdq_frames", 0)  # frames of the vPDQ videos, not entries
    order = list(SIGNAL_LABELS)
    entries = [
        {"signal": name, "label": SIGNAL_LABELS.get(name, name), "count": count}
        for name, count in sorted(
            counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
        )
    ]
    return {
        "entries": entries,
        "video_frames": frames,
        "total": sum(counts.values()),
        "banks": status.banks,
        "built_at": status.built_at,
        "synced_at": status.synced_at,
        "memory_bytes": status.memory_bytes,
        "lookups_total": status.lookups_total,
    }


def _bank_card(principal: Principal) -> dict[str, Any]:
    from haven.banks.models import BankEntry
    from haven.banks.services import visible_banks

    banks = visible_banks(principal)
    counts = banks.aggregate(
        total=Count("pk"),
        enabled=Count("pk", filter=Q(enabled=True)),
        allow_lists=Count("pk", filter=Q(is_allow_list=True)),
    )
    entries = BankEntry.objects.filter(bank__in=banks)
    entry_counts = entries.aggregate(total=Count("pk"), enabled=Count("pk", filter=Q(enabled=True)))
    return {
        "total": counts["total"] or 0,
        "enabled": counts["enabled"] or 0,
        "allow_lists": counts["allow_lists"] or 0,
        "entries": entry_counts["total"] or 0,
        "enabled_entries": entry_counts["enabled"] or 0,
    }


def _ads_card(principal: Principal) -> dict[str, Any]:
    from haven.ads.services import visible_ads, visible_clusters

    clusters = visible_clusters(principal).aggregate(
        total=Count("pk"),
        trafficking=Count("pk", filter=Q(reading="trafficking-like")),
        high=Count("pk", filter=Q(risk_max__gte=70)),
    )
    return {
        "clusters": clusters["total"] or 0,
        "trafficking_like": clusters["trafficking"] or 0,
        "high_risk": clusters["high"] or 0,
        "ads": visible_ads(principal).count(),
    }


def _alerts_card(principal: Principal) -> dict[str, Any]:
    from haven.detection.alerts import open_alerts

    alerts = open_alerts(principal)
    return {
        "open": alerts.count(),
        "flood": alerts.filter(kind="flood_guard").count(),
    }


def _role(request: HttpRequest, principal: Principal) -> dict[str, Any]:
    role_value = getattr(getattr(request, "user", None), "role", "")
    try:
        label = ROLE_LABELS[Role(role_value)]
    except ValueError:
        label = role_value or principal.kind
    links = [
        {"label": name, "url": reverse(url_name)}
        for name, url_name, permission in NAVIGATION
        if principal.can(permission) and url_name != "web:dashboard"
    ]
    allowed = [PERMISSIONS[p] for p in PERMISSIONS if principal.can(p)]
    return {"label": label, "links": links, "allowed": allowed}


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """The dashboard's cards, each present only when the principal may see it."""
    principal = principal_of(request)
    if principal is None:
        return {"role": None}
    context: dict[str, Any] = {"role": _role(request, principal)}
    if principal.can("index:read"):
        context["index"] = _index_card()
        context["index_error"] = context["index"] is None
        context["lookups"] = _lookup_chart(lookups_per_hour())
    if principal.can("banks:read"):
        context["banks"] = _bank_card(principal)
    if principal.can("ads:read"):
        context["ads"] = _ads_card(principal)
    if principal.can("policies:manage"):
        context["alerts"] = _alerts_card(principal)
    return context

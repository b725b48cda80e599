"""A cluster of linked ads, sent to an authority as one report in Haven's report format.

Why a cluster and not an ad: what makes ads worth an authority's time is the network (the
same phones, handles and template across cities), so the report carries every ad of the
cluster (up to the format's bound), their contacts, and a plain summary of why they are
linked and how the engine reads them, labelled as triage signals. The report is built from
what the node stored, valid by construction; the analyst may change the report-wide fields
(incident type and tags, escalation, additional information, contact) but not which ads
it lists, its report id, nor its synthetic flag: those are the node's. A cluster that grew
can be sent again, under the next report id (`<agency>-cluster-<cluster>-<n>`).

Sending queues the report to each destination, stores a `ClusterReport` row and its audit
entry in one transaction: all of it, or nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, check
from haven.ads.models import Ad, Cluster, ClusterReport
from haven.ads.services import visible_ads
from haven.audit.services import record
from haven.reports.format import ReportFormatError, parse_report, report_json, report_schema
from haven.reports.models import Destination, OutgoingReport
from haven.reports.services import ReportError, queue_report_to, sender_contact

__all__ = [
    "MAX_ADS",
    "MAX_AD_TEXT",
    "MAX_INFO",
    "ClusterReportError",
    "build_cluster_report",
    "next_report_id",
    "send_cluster_report",
]

GRADE_LABELS: Final = {"V": "validated", "H": "hypothesised", "X": "contested", "N": "negative"}


def _bound(properties: dict[str, Any], name: str, key: str) -> int:
    """A bound of the published schema (`maxItems`, `maxLength`), also inside `anyOf`."""
    found = properties[name]
    for option in [found, *found.get("anyOf", [])]:
        if key in option:
            return int(option[key])
    raise LookupError(f"the report schema gives {name} no {key}")


_SCHEMA = report_schema()
_REPORT = _SCHEMA["properties"]
_AD = _SCHEMA["$defs"]["Ad"]["properties"]
_ACCOUNT = _SCHEMA["$defs"]["ReportedAccount"]["properties"]

#: The format's bounds, read from its schema so that they follow it.
MAX_ADS: Final = _bound(_REPORT, "ads", "maxItems")
MAX_LOCATIONS: Final = _bound(_REPORT, "locations", "maxItems")
MAX_INFO: Final = _bound(_REPORT, "additional_info", "maxLength")
MAX_AD_TEXT: Final = _bound(_AD, "text", "maxLength")
MAX_PHONES: Final = _bound(_AD, "phones", "maxItems")
MAX_LINE: Final = _bound(_AD, "ad_id", "maxLength")
MAX_NAMES: Final = _bound(_ACCOUNT, "screen_names", "maxItems")
MAX_URL: Final = 2083

# What the format refuses in text (XML 1.0 cannot carry it) and, in one-line values, breaks.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_NOT_LINE = re.compile("[\x00-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class ClusterReportError(ValueError):
    """A cluster report this node will not send; `problems` lists (path, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[tuple[str, str]] = list(problems or [])


def _text(value: str, limit: int) -> str:
    return _NOT_TEXT.sub(" ", value)[:limit]


def _line(value: str, limit: int = MAX_LINE) -> str:
    return _NOT_LINE.sub(" ", value)[:limit].strip()


def _report_prefix(cluster: Cluster) -> str:
    return f"{cluster.agency_id}-cluster-{cluster.pk}-"


def next_report_id(cluster: Cluster) -> str:
    """The id the cluster's next report is sent under: one more than those sent before."""
    sent = ClusterReport.objects.filter(
        agency_id=cluster.agency_id, report_id__startswith=_report_prefix(cluster)
    ).count()
    return f"{_report_prefix(cluster)}{sent + 1}"


def _phones(ad: Ad) -> list[str]:
    found: list[str] = []
    for entity in ad.entities:
        value = str(entity.get("normalized", ""))
        if entity.get("type") == "phone" and _E164.match(value) and value not in found:
            found.append(value)
    return found[:MAX_PHONES]


def _url(ad: Ad) -> str | None:
    url = ad.url.strip()
    return url if 8 <= len(url) <= MAX_URL and _URL.match(url) else None


def _ad_entry(ad: Ad, ad_id: str, cluster: Cluster) -> dict[str, Any]:
    entry: dict[str, Any] = {"ad_id": ad_id, "cluster_id": str(cluster.pk)}
    url = _url(ad)
    if url:
        entry["url"] = url
    text = _text(ad.text, MAX_AD_TEXT)
    if text.strip():
        entry["text"] = text
    if ad.posted_at is not None:
        entry["posted_at"] = ad.posted_at.isoformat()
    phones = _phones(ad)
    if phones:
        entry["phones"] = phones
    return entry


def _ad_ids(ads: list[Ad]) -> dict[int, str]:
    """Each ad's id in the report: the poster's id, made a valid line and unique."""
    ids: dict[int, str] = {}
    taken: set[str] = set()
    for ad in ads:
        ad_id = _line(ad.external_id) or f"ad-{ad.pk}"
        if ad_id in taken:
            ad_id = _line(f"{ad_id[: MAX_LINE - 24]}#{ad.pk}")
        taken.add(ad_id)
        ids[ad.pk] = ad_id
    return ids


def _values(ads: list[Ad], kind: str) -> list[str]:
    """The values of one entity type across the ads, most ads first."""
    counts: Counter[str] = Counter()
    for ad in ads:
        counts.update({str(e["normalized"]) for e in ad.entities if e.get("type") == kind})
    return [value for value, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _account(ads: list[Ad]) -> dict[str, Any] | None:
    """One account with the cluster's handles as screen names and e-mails as its ids."""
    account: dict[str, Any] = {}
    for key, kind in (("screen_names", "handle"), ("platform_ids", "email")):
        fitting = [v for v in (_line(x) for x in _values(ads, kind)) if v]
        unique = list(dict.fromkeys(fitting))[:MAX_NAMES]
        if unique:
            account[key] = unique
    return account or None


def _indicators(ads: list[Ad], summary: dict[str, Any]) -> str:
    grades: dict[str, str] = {}
    for ad in ads:
        for hit in ad.indicators:
            grades.setdefault(str(hit["id"]), str(hit.get("grade", "")))
    profile = [(str(ident), int(n)) for ident, n in summary.get("indicator_profile", [])]
    if not profile:
        return "No indicator was found in its ads."
    parts = [
        f"{ident} (grade {grades.get(ident, '?')}, "
        f"{GRADE_LABELS.get(grades.get(ident, ''), 'ungraded')}) in {n} ad{'s' if n != 1 else ''}"
        for ident, n in profile[:10]
    ]
    return "Top indicators: " + "; ".join(parts) + "."


def _date(value: Any) -> str:
    return value.date().isoformat() if value is not None else "unknown"


def _summary(cluster: Cluster, ads: list[Ad], listed: int) -> str:
    """A plain account of the cluster for the authority, always ending with its caveat."""
    summary = cluster.summary or {}
    cities = [(str(c), int(n)) for c, n in summary.get("cities", [])]
    phones = _values(ads, "phone")
    lines = [
        f"A cluster of {len(ads)} linked ads (cluster {cluster.pk}), posted from "
        f"{_date(cluster.first_posted)} to {_date(cluster.last_posted)}.",
        (
            f"Cities ({len(cities)}): " + ", ".join(f"{c} ({n})" for c, n in cities[:10]) + "."
            if cities
            else "No city was given."
        ),
        f"{len(phones)} phone number{'s' if len(phones) != 1 else ''}, "
        f"{len(_values(ads, 'email'))} e-mail(s) and {len(_values(ads, 'handle'))} handle(s) "
        "across its ads.",
        f"Reading: {cluster.reading}."
        + "".join(
            f" {label}: {'; '.join(str(r) for r in reasons[:5])}."
            for label, reasons in (
                ("Signs of trafficking", summary.get("trafficking_reasons", [])),
                ("Signs of spam", summary.get("spam_reasons", [])),
            )
            if reasons
        ),
        _indicators(ads, summary),
        f"Engine risk: highest ad score {cluster.risk_max:.0f} of 100 "
        f"(mean {cluster.risk_mean:.0f}).",
    ]
    if listed < len(ads):
        lines.append(
            f"The cluster has {len(ads)} ads; the {listed} with the highest scores are listed."
        )
    if any(ad.synthetic for ad in ads):
        lines.append("The ads are synthetic (demonstration data).")
    caveat = (
        "These are triage signals from automated text analysis, not proof: a reviewer "
        "should read the ads."
    )
    body = _text("\n".join(lines), MAX_INFO - len(caveat) - 1)
    return f"{body}\n{caveat}"


def _cluster_ads(principal: Principal, cluster: Cluster) -> list[Ad]:
    """The cluster's ads in reach, highest score first."""
    return list(
        visible_ads(principal).filter(cluster=cluster).order_by("-score", "posted_at", "pk")
    )


def build_cluster_report(principal: Principal, cluster: Cluster) -> dict[str, Any]:
    """The report a cluster implies, as canonical JSON (valid by construction).

    Raises ClusterReportError when the cluster has no ad in the principal's reach.
    """
    ads = _cluster_ads(principal, cluster)
    if not ads:
        raise ClusterReportError("this cluster has no ads to report", [("ads", "none in reach")])
    chosen = ads[:MAX_ADS]
    chosen.sort(key=lambda ad: (ad.posted_at is None, ad.posted_at or timezone.now(), ad.pk))
    ids = _ad_ids(chosen)
    agency = Agency.objects.get(pk=cluster.agency_id)
    occurred = cluster.last_posted or timezone.now()
    locations: list[dict[str, str]] = []
    for url in dict.fromkeys(u for u in (_url(ad) for ad in chosen) if u):
        if len(locations) < MAX_LOCATIONS:
            locations.append({"kind": "ad", "url": url})
    draft: dict[str, Any] = {
        "schema_version": "1",
        "report_id": next_report_id(cluster),
        "created_at": timezone.now().isoformat(),
        "synthetic": any(ad.synthetic for ad in ads),
        "incident": {"type": "child_sex_trafficking", "occurred_at": occurred.isoformat()},
        "reporter": {
            "provider": _line(agency.name) or "Provider",
            "contact": sender_contact(principal),
        },
        "locations": locations,
        "ads": [_ad_entry(ad, ids[ad.pk], cluster) for ad in chosen],
        "additional_info": _summary(cluster, ads, len(chosen)),
    }
    account = _account(ads)
    if account is not None:
        draft["reported_accounts"] = [account]
    try:
        return report_json(parse_report(draft))
    except ReportFormatError as exc:  # a bug here, not the analyst's: say what and where
        raise ClusterReportError(
            str(exc).splitlines()[0], [(p.path, p.problem) for p in exc.problems]
        ) from None


def _checked(node: dict[str, Any], draft: object) -> dict[str, Any]:
    """The draft as a valid report that keeps what the node decides; ClusterReportError."""
    try:
        payload = report_json(parse_report(draft))
    except ReportFormatError as exc:
        raise ClusterReportError(
            "the report is not valid: nothing was sent",
            [(p.path, p.problem) for p in exc.problems],
        ) from None
    fixed = (
        ("report_id", "is set by the node: reload the page to report the cluster again"),
        ("ads", "are the cluster's ads as the node holds them: reload the page if it changed"),
        ("synthetic", "is set by the node from the ads"),
    )
    problems = [(key, why) for key, why in fixed if payload.get(key) != node.get(key)]
    if problems:
        raise ClusterReportError(
            "the report differs from the cluster's: nothing was sent", problems
        )
    return payload


def send_cluster_report(
    principal: Principal,
    cluster: Cluster,
    destinations: list[Destination],
    edited: dict[str, Any] | None = None,
) -> list[OutgoingReport]:
    """Queue the cluster's report (or the analyst's edit of it) to each destination.

    The queued reports, their outbox messages, the `ClusterReport` row and the audit entry
    commit together or not at all.
    """
    check(principal, "reports:send")
    if cluster.agency_id != principal.agency_id:
        raise ClusterReportError("only your agency's clusters are reported by your agency")
    if not destinations:
        raise ClusterReportError("choose at least one destination")
    node = build_cluster_report(principal, cluster)
    payload = _checked(node, node if edited is None else edited)
    report = parse_report(payload)
    if ClusterReport.objects.filter(
        agency_id=principal.agency_id, report_id=report.report_id
    ).exists():
        raise ClusterReportError(f"report {report.report_id} was sent already")
    try:
        with transaction.atomic():
            queued = queue_report_to(principal, report, destinations)
            row = ClusterReport.objects.create(
                agency_id=principal.agency_id,
                cluster=cluster,
                report_id=report.report_id,
                ad_count=len(report.ads),
                created_by=principal.actor,
            )
            record(
                "ads.cluster.report",
                principal=principal,
                target_type="cluster",
                target_id=cluster.pk,
                detail={
                    "report_id": report.report_id,
                    "cluster_report": row.pk,
                    "ads": len(report.ads),
                    "destinations": [one.destination.name for one in queued],
                },
            )
    except ReportError as exc:
        raise ClusterReportError(str(exc)) from None
    except IntegrityError:  # the same report id, sent at the same moment by another request
        raise ClusterReportError(f"report {report.report_id} was sent already") from None
    return queued

"""Incidents: received reports grouped by what they share, so that one case is triaged once.

Providers report the same thing separately: a file shared on two platforms, one URL seen
by three crawlers, one offender with accounts at two providers. An analyst should see one
incident with every source, not five unrelated rows. `group_pending` (the worker's
`group-reports` job) puts each received report into the incident that holds one of its
keys — a file hash (MD5, SHA-1, SHA-256, exact PDQ), a URL (location, ad, profile page) or
an account (a platform id, which means something only at the provider that issued it, so
"<sender id>:<id>"; a screen name, lower-cased, which two providers can share) — opens an
incident when none does, and merges incidents when a report links several of them.

Intake stays fast because grouping is not part of it: the intake commits the report and
answers; this job groups it seconds later. Each report is grouped in its own transaction
that begins by claiming it (a conditional update of `grouped_at`, after a `SKIP LOCKED`
lock where the database has one), so two workers never group one report twice, and a
crash leaves it ungrouped, to be grouped by the next run. The incidents it touches are
locked before they change (PostgreSQL), and a key taken meanwhile by another worker's new
incident fails the unique constraint and the report is grouped again, joining it.

Merging keeps the oldest incident (by `opened_at`, then id); the others are kept, empty,
with `merged_into` set, so that what names them still resolves. Invariant: the live
incidents are exactly the connected components of "the reports share a key".

Not done here, on purpose: near-duplicate PDQ grouping (only the exact PDQ is a key: a
distance threshold would make grouping order-dependent and needs a nearest-neighbour
search per report); IP addresses as keys (shared by NATs and VPN exits; they are history,
`AccountSighting`, shown by `account_history`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from haven.accounts.models import Agency
from haven.accounts.permissions import system_principal
from haven.audit.services import record
from haven.reports.format import Report, ReportFile, ReportFormatError, parse_report
from haven.reports.models import AccountSighting, Incident, IncidentKey, ReceivedReport
from haven.reports.priority import Context, TriageFacts, facts_of, file_hash_keys, priority_of

__all__ = [
    "MAX_KEY_CHARS",
    "MAX_SIGHTINGS_PER_REPORT",
    "AccountHistory",
    "GroupRun",
    "Sighting",
    "account_history",
    "account_keys",
    "banked_hashes",
    "group_pending",
    "incident_facts",
    "normalise_url",
    "platform_account_key",
    "report_keys",
    "screen_name_key",
]

log = logging.getLogger("haven.reports")

#: Key values longer than this are stored as "sha256~<hex digest of the value>".
MAX_KEY_CHARS = 300
#: Sightings kept per report: one per account key always, and its IP addresses while the
#: report stays under this many rows (a report may list 50 accounts × 500 IP events).
MAX_SIGHTINGS_PER_REPORT = 5000
_RETRIES = 5
_KEY_QUERY_CHUNK = 400

Key = tuple[str, str]  # (kind, value)


# --- keys ------------------------------------------------------------------------------


def _bounded(value: str) -> str:
    if len(value) <= MAX_KEY_CHARS:
        return value
    return "sha256~" + hashlib.sha256(value.encode()).hexdigest()


def normalise_url(url: str) -> str:
    """Scheme and host lower-cased, the default port and the fragment dropped, an empty
    path written "/"; the path and query are kept as they are (they are case-sensitive)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host, port = hostport.lower(), ""
    if hostport.startswith("["):  # [IPv6]:port
        close = hostport.find("]")
        if close != -1:
            host, port = hostport[: close + 1].lower(), hostport[close + 1 :].lstrip(":")
    elif ":" in hostport:
        host, _, port = hostport.lower().rpartition(":")
    if (scheme, port) in (("http", "80"), ("https", "443")):
        port = ""
    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{port}" if port else "")
    return _bounded(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))


def platform_account_key(sender_id: int, platform_id: str) -> str:
    """A platform id names an account only at the provider that issued it."""
    return _bounded(f"{sender_id}:{platform_id}")


def screen_name_key(name: str) -> str:
    """A screen name, lower-cased: the same name reported by two providers is one key."""
    return _bounded("@" + name.lower())


def account_keys(report: Report, sender_id: int) -> list[list[str]]:
    """Per reported account, its account keys (platform ids, then screen names)."""
    return [
        [platform_account_key(sender_id, pid) for pid in account.platform_ids]
        + [screen_name_key(name) for name in account.screen_names]
        for account in report.reported_accounts
    ]


def report_keys(report: Report, sender_id: int) -> tuple[Key, ...]:
    """Every key of a report, normalised, each once, in a stable order."""
    keys: dict[Key, None] = {}
    for file in report.files:
        for kind_value in file_hash_keys(file):
            kind, _, value = kind_value.partition(":")
            keys[(kind, value)] = None
    urls = [location.url for location in report.locations if location.url]
    urls += [ad.url for ad in report.ads if ad.url]
    urls += [url for account in report.reported_accounts for url in account.profile_urls]
    for url in urls:
        keys[("url", normalise_url(url))] = None
    for per_account in account_keys(report, sender_id):
        for value in per_account:
            keys[("account", value)] = None
    return tuple(keys)


# --- what the node knows ---------------------------------------------------------------


def banked_hashes(files: Sequence[ReportFile]) -> frozenset[str]:
    """The files' hashes ("md5:<hex>", "sha256:<hex>", "pdq:<hex>") that some bank holds:
    an exact MD5 or SHA-256 entry, a PDQ within the bank's threshold; an allow-list entry
    counts too (the material is known). Banks hold no SHA-1."""
    from haven.banks.matcher import matcher

    wanted: dict[str, list[str]] = {"md5": [], "sha256": [], "pdq": []}
    for file in files:
        for signal in wanted:
            value = getattr(file, signal)
            if value and value not in wanted[signal]:
                wanted[signal].append(value)
    found: set[str] = set()
    engine = None
    for signal, values in wanted.items():
        if not values:
            continue
        engine = engine or matcher()
        results = engine.match([bytes.fromhex(v) for v in values], signal_type=signal)
        for value, result in zip(values, results, strict=True):
            if result.matches or result.suppressed or result.allowed_by:
                found.add(f"{signal}:{value}")
    return frozenset(found)


def _repeat_offender(agency_id: int, keys: Iterable[str]) -> bool:
    """Whether one of these account keys was seen from two providers or in two reports."""
    values = sorted(set(keys))
    for start in range(0, len(values), _KEY_QUERY_CHUNK):
        chunk = values[start : start + _KEY_QUERY_CHUNK]
        repeated = (
            AccountSighting.objects.filter(agency_id=agency_id, account_key__in=chunk)
            .values("account_key")
            .annotate(
                senders=Count("sender", distinct=True), reports=Count("report", distinct=True)
            )
            .filter(Q(senders__gte=2) | Q(reports__gte=2))
        )
        if repeated.exists():
            return True
    return False


def _sightings(
    row: ReceivedReport, report: Report, accounts: list[list[str]]
) -> list[AccountSighting]:
    def sighting(key: str, ip: str | None, at: datetime) -> AccountSighting:
        return AccountSighting(
            agency_id=row.agency_id,
            account_key=key,
            ip=ip,
            seen_at=at,
            report_id=row.pk,
            sender_id=row.sender_id,
        )

    base: list[AccountSighting] = []
    extra: list[AccountSighting] = []
    for account, keys in zip(report.reported_accounts, accounts, strict=True):
        latest: dict[str, datetime] = {}
        for event in account.ip_events:
            if event.ip not in latest or event.at > latest[event.ip]:
                latest[event.ip] = event.at
        events = sorted(latest.items(), key=lambda item: item[1])
        for key in keys:
            if not events:
                base.append(sighting(key, None, report.incident.occurred_at))
                continue
            base.append(sighting(key, *events[0]))
            extra.extend(sighting(key, ip, at) for ip, at in events[1:])
    room = max(0, MAX_SIGHTINGS_PER_REPORT - len(base))
    return base + extra[:room]


# --- grouping --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRun:
    """What one `group_pending` run did. `skipped`: reports another worker had claimed."""

    grouped: int = 0
    opened: int = 0
    joined: int = 0
    merges: int = 0
    merged_away: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    action: str  # "open", "join" or "merge"
    merged_away: int = 0


def group_pending(limit: int = 500) -> GroupRun:
    """Group up to `limit` received reports that wait (`grouped_at` null), oldest first,
    each in its own transaction. Safe to run twice or from two workers at once."""
    pending = list(
        ReceivedReport.objects.filter(grouped_at__isnull=True)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[: max(0, limit)]
    )
    counts = {"open": 0, "join": 0, "merge": 0}
    merged_away = skipped = 0
    for pk in pending:
        outcome = _group_one(pk)
        if outcome is None:
            skipped += 1
            continue
        counts[outcome.action] += 1
        merged_away += outcome.merged_away
    return GroupRun(
        grouped=sum(counts.values()),
        opened=counts["open"],
        joined=counts["join"],
        merges=counts["merge"],
        merged_away=merged_away,
        skipped=skipped,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything about one report that needs no lock: parsed, keyed, looked up."""

    row: ReceivedReport
    report: Report | None
    keys: tuple[Key, ...]
    accounts: list[list[str]]
    banked: frozenset[str]


def _prepare(pk: int) -> _Prepared | None:
    row = (
        ReceivedReport.objects.filter(pk=pk, grouped_at__isnull=True)
        .only("pk", "agency_id", "sender_id", "payload", "received_at", "sender_report_id")
        .first()
    )
    if row is None:
        return None
    try:
        report: Report | None = parse_report(row.payload)
    except ReportFormatError:  # stored reports were valid; a later format may differ
        log.warning("received report %s does not parse; it gets an incident of its own", pk)
        report = None
    if report is None:
        return _Prepared(row, None, (), [], frozenset())
    return _Prepared(
        row,
        report,
        report_keys(report, row.sender_id),
        account_keys(report, row.sender_id),
        banked_hashes(report.files),
    )


def _group_one(pk: int) -> _Outcome | None:
    prepared = _prepare(pk)
    if prepared is None:
        return None
    for attempt in range(_RETRIES):
        try:
            with transaction.atomic():
                return _apply(prepared)
        except (IntegrityError, OperationalError):
            # A key taken by another worker's new incident, a deadlock or a busy database:
            # nothing was kept; group the report again, now seeing the other's work.
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _claim(pk: int, now: datetime) -> bool:
    waiting = ReceivedReport.objects.filter(pk=pk, grouped_at__isnull=True)
    skip_locked = connection.features.has_select_for_update_skip_locked
    if skip_locked and not waiting.select_for_update(skip_locked=True).values_list("pk"):
        return False
    return waiting.update(grouped_at=now) == 1


def _holders(agency_id: int, keys: Sequence[Key]) -> dict[Key, int]:
    """Which incident holds each key that one holds (one indexed query per chunk)."""
    wanted = set(keys)
    held: dict[Key, int] = {}
    values = sorted({value for _, value in keys})
    kinds = sorted({kind for kind, _ in keys})
    for start in range(0, len(values), _KEY_QUERY_CHUNK):
        rows = IncidentKey.objects.filter(
            agency_id=agency_id, kind__in=kinds, value__in=values[start : start + _KEY_QUERY_CHUNK]
        ).values_list("kind", "value", "incident_id")
        held.update({(k, v): i for k, v, i in rows if (k, v) in wanted})
    return held


def _lock_holders(agency_id: int, keys: Sequence[Key]) -> tuple[dict[Key, int], list[Incident]]:
    """The incidents holding the keys, locked; repeated until a merge committed meanwhile
    by another worker has moved no key to an incident not yet locked."""
    locked: dict[int, Incident] = {}
    while True:
        holders = _holders(agency_id, keys)
        missing = set(holders.values()) - set(locked)
        if not missing:
            ids = set(holders.values())
            return holders, [locked[i] for i in sorted(ids)]
        for incident in Incident.objects.select_for_update().filter(pk__in=missing).order_by("pk"):
            locked[incident.pk] = incident


def _title(report: Report | None) -> str:
    if report is None:
        return "Unreadable report"
    kind = report.incident.type.value.replace("_", " ").capitalize()
    return f"{kind}, reported by {report.reporter.provider}"[:300]


def _apply(prepared: _Prepared) -> _Outcome | None:
    row, report = prepared.row, prepared.report
    now = timezone.now()
    if not _claim(row.pk, now):
        return None
    agency_id = row.agency_id
    account_values = [key for keys in prepared.accounts for key in keys]
    if report is not None and account_values:
        AccountSighting.objects.bulk_create(_sightings(row, report, prepared.accounts))
    holders, found = _lock_holders(agency_id, prepared.keys)
    merged: list[Incident] = []
    if not found:
        incident = Incident.objects.create(
            agency_id=agency_id, title=_title(report), opened_at=now, updated_at=now
        )
        action = "open"
    else:
        incident = min(found, key=lambda i: (i.opened_at, i.pk))
        merged = [i for i in found if i.pk != incident.pk]
        action = "merge" if merged else "join"
    if merged:
        gone = [i.pk for i in merged]
        ReceivedReport.objects.filter(incident_id__in=gone).update(incident=incident)
        IncidentKey.objects.filter(incident_id__in=gone).update(incident=incident)
        Incident.objects.filter(merged_into_id__in=gone).update(merged_into=incident)
        Incident.objects.filter(pk__in=gone).update(
            merged_into=incident, report_count=0, sender_count=0, updated_at=now
        )
    IncidentKey.objects.bulk_create(
        [
            IncidentKey(agency_id=agency_id, incident=incident, kind=kind, value=value)
            for kind, value in prepared.keys
            if (kind, value) not in holders
        ]
    )
    ReceivedReport.objects.filter(pk=row.pk).update(incident=incident)

    facts = TriageFacts.union(TriageFacts.from_dict(i.facts) for i in [incident, *merged])
    if report is not None:
        context = Context(prepared.banked, _repeat_offender(agency_id, account_values))
        facts = facts.join(facts_of(report, context))
    priority = priority_of(facts)
    due = row.received_at + timedelta(hours=priority.sla_hours)
    dues = [d for d in (due, *(i.sla_due_at for i in [incident, *merged])) if d is not None]
    members = ReceivedReport.objects.filter(incident=incident)
    incident.report_count = members.count()
    incident.sender_count = members.values("sender_id").distinct().count()
    incident.facts = facts.as_dict()
    incident.priority_score = priority.score
    incident.priority_tier = priority.tier
    incident.priority_reasons = [
        {"factor": r.factor, "weight": r.weight, "why": r.why} for r in priority.reasons
    ]
    incident.escalated = facts.escalated
    incident.sla_due_at = min(dues)
    incident.updated_at = now
    if incident.state == "closed":  # new material on a closed incident needs a new look
        incident.state = "new"
    incident.save()

    principal = system_principal(agency_id, "group-reports")
    detail: dict[str, object] = {"report": row.pk, "keys": len(prepared.keys)}
    if merged:
        detail["merged"] = [i.pk for i in merged]
    record(
        f"incident.{action}",
        principal=principal,
        target_type="incident",
        target_id=incident.pk,
        detail=detail,
    )
    return _Outcome(action, len(merged))


def incident_facts(incident: Incident) -> TriageFacts:
    """The triage facts stored for an incident (all its reports, joined)."""
    return TriageFacts.from_dict(incident.facts)


# --- history ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sighting:
    """One report that named the account: which provider, when, from which address."""

    sender_id: int
    sender: str
    report_id: int
    sender_report_id: str
    ip: str | None
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """Every sighting of one account key at this authority, oldest first."""

    account_key: str
    sightings: tuple[Sighting, ...]

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers that reported it, in the order they first did."""
        return tuple(dict.fromkeys(s.sender for s in self.sightings))

    @property
    def ips(self) -> tuple[str, ...]:
        """The IP addresses it was seen with, in the order they were first seen."""
        return tuple(dict.fromkeys(s.ip for s in self.sightings if s.ip))

    @property
    def repeat_offender(self) -> bool:
        return (
            len({s.sender_id for s in self.sightings}) >= 2
            or len({s.report_id for s in self.sightings}) >= 2
        )


def account_history(agency: Agency | int, account_key: str) -> AccountHistory:
    """The sightings of an account key (`platform_account_key`, `screen_name_key`) across
    providers. The caller checks the reader's permission; this only reads."""
    agency_id = agency if isinstance(agency, int) else agency.pk
    rows = (
        AccountSighting.objects.filter(agency_id=agency_id, account_key=account_key)
        .order_by("seen_at", "pk")
        .values_list(
            "sender_id", "sender__name", "report_id", "report__sender_report_id", "ip", "seen_at"
        )
    )
    return AccountHistory(account_key, tuple(Sighting(*row) for row in rows))

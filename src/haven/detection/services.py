"""Scanning one upload: every lookup, the bank policies' verdict, and the records behind it.

The lookups are the match debugger's (`haven.banks.lookup.match_upload`): MD5 and SHA-256
exactly, PDQ with its rotations, flips and the crop without borders, and a video's frames
against image banks plus the whole video by vPDQ's rule, in the banks the principal can
see (allow-lists included, so they suppress). The matched banks' policies
(`haven.detection.policy`) turn the rows into allow, hold or block. A held upload gets a
review, and when its file came with the scan the file is preserved in the evidence vault
first, so a reviewer (and later the authority) can see what was actually uploaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Field, Model
from django.utils import timezone

from haven.accounts.permissions import Principal, check, system_principal
from haven.banks.lookup import MatchRow, match_upload, visible_bank_rows
from haven.detection.flood import count_matches
from haven.detection.models import (
    Alert,
    BankPolicy,
    Review,
    ReviewMatch,
    ScanHash,
    ScannedContent,
)
from haven.detection.policy import Finding, Rule, Verdict, decide
from haven.detection.reporting import build_draft
from haven.detection.uploaders import bump, is_repeat_offender, note_upload
from haven.evidence.models import EvidenceItem
from haven.evidence.services import preserve
from haven.web.group_commit import GroupCommit, Pending

__all__ = [
    "ContentInfo",
    "MediaFile",
    "ScanConflict",
    "ScanItem",
    "ScanOutcome",
    "hash_values",
    "scan",
    "scan_many",
]


class ScanConflict(ValueError):
    """The content id was scanned before with other hashes: a content id names one file."""


@dataclass(frozen=True, slots=True)
class ContentInfo:
    content_id: str
    surface: str = "other"
    uploader_account: str = ""
    uploader_name: str = ""
    ip: str | None = None
    uploaded_at: datetime | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class MediaFile:
    """The uploaded file behind a scan, on disk for the length of the request."""

    path: str
    name: str = ""
    media_type: str = ""


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    content: ScannedContent
    duplicate: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "content_id": self.content.content_id,
            "decision": self.content.decision,
            "review": bool(self.content.policy.get("review")),
            "matches": self.content.matches,
            "duplicate": self.duplicate,
            "scanned_at": self.content.scanned_at.isoformat(),
        }


def _row_json(row: MatchRow) -> dict[str, Any]:
    found = asdict(row)
    return {k: v for k, v in found.items() if v not in ("", None) or k == "distance"}


def _hashes_of(record: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an upload: its hashes, never its bytes or its path."""
    keep = (
        "type",
        "pdq",
        "dihedral",
        "unletterboxed_pdq",
        "unletterboxed_variants",
        "unletterboxed_dihedral",
        "md5",
        "sha256",
        "quality",
        "matchable",
    )
    hashes = {k: record[k] for k in keep if k in record}
    if "frames" in record:
        hashes["frames"] = [[f[0], f[1], f[2], f[3]] for f in record["frames"]]
    return hashes


def hash_values(hashes: dict[str, Any]) -> set[tuple[str, bytes]]:
    """Every (signal, 32- or 16-byte hash) a stored upload can be found by later."""
    found: set[tuple[str, bytes]] = set()
    for signal in ("md5", "sha256"):
        if hashes.get(signal):
            found.add((signal, bytes.fromhex(hashes[signal])))
    pdqs = [hashes.get("pdq"), hashes.get("unletterboxed_pdq")]
    for key in ("dihedral", "unletterboxed_variants", "unletterboxed_dihedral"):
        pdqs += hashes.get(key, [])
    pdqs += [frame[2] for frame in hashes.get("frames", [])]
    found.update(("pdq", bytes.fromhex(h)) for h in pdqs if h)
    return found


def _rules(bank_ids: set[int]) -> tuple[dict[int, Rule], dict[int, BankPolicy]]:
    policies = {
        p.bank_id: p
        for p in BankPolicy.objects.filter(bank_id__in=bank_ids)
        .select_related("bank")
        .prefetch_related("allow_lists")
    }
    rules = {
        bank_id: Rule(
            bank_id,
            block=p.block,
            hold=p.hold,
            report=p.report,
            notify=p.notify,
            confirmed_here=p.confirmed_here,
            allow_lists=frozenset(b.pk for b in p.allow_lists.all()),
            enable_percent=p.enable_percent,
            paused=p.paused_at is not None,
        )
        for bank_id, p in policies.items()
    }
    return rules, policies


def _verdict(agency_id: int, content_key: str, rows: list[MatchRow], at: datetime) -> Verdict:
    findings = [Finding(r.bank_id, r.entry_id, r.status) for r in rows]
    if not findings:
        return decide((), {}, content_key)
    rules, policies = _rules({f.bank_id for f in findings})
    verdict = decide(findings, rules, content_key)
    for bank_id in verdict.acting:
        policy = policies.get(bank_id) or BankPolicy(bank_id=bank_id)
        count_matches(policy, agency_id, at)
    return verdict


def _preserve(
    principal: Principal, info: ContentInfo, record: dict[str, Any], media: MediaFile
) -> EvidenceItem:
    keeper = system_principal(principal.agency_id, "scan")
    return preserve(
        keeper,
        Path(media.path).read_bytes(),
        reason="held by a bank policy at upload, for review",
        metadata={
            "content_id": info.content_id,
            "uploader_account": info.uploader_account,
            "uploader_name": info.uploader_name,
            "ip": info.ip,
            "uploaded_at": info.uploaded_at.isoformat() if info.uploaded_at else None,
            "url": info.url,
            "surface": info.surface,
            "scanned_by": principal.actor,
        },
        media_type=media.media_type or str(record.get("type", "")),
        original_name=media.name,
        pdq=str(record.get("pdq") or ""),
    )


def _open_review(content: ScannedContent, verdict: Verdict, evidence: EvidenceItem | None) -> None:
    account = note_upload(content, matched=bool(verdict.acting))
    priority = 50 + (20 if account is not None and is_repeat_offender(account) else 0)
    review = Review.objects.create(
        agency_id=content.agency_id,
        content=content,
        priority=priority,
        evidence=evidence,
    )
    acting = set(verdict.acting)
    ReviewMatch.objects.bulk_create(
        [
            ReviewMatch(review=review, bank_id=m["bank_id"], entry_id=m["entry_id"])
            for m in content.matches
            if m.get("bank_id") in acting and m.get("status") in ("match", "suppressed")
        ],
        ignore_conflicts=True,
    )


def _settle(content: ScannedContent, verdict: Verdict, evidence: EvidenceItem | None) -> None:
    """A re-upload of material this node's reviewers confirmed: blocked without a second
    look, and recorded as an automatic confirmation with its draft report, which says that
    no person viewed this copy (the analyst sends it like any other)."""
    note_upload(content, matched=True)
    bump(content, "confirmed")
    confirmed = [
        m
        for m in content.matches
        if m.get("bank_id") in set(verdict.acting) and m.get("status") == "match"
    ]
    classification = next(
        (str(m["classification"]) for m in confirmed if m.get("classification") in _CLASSES), ""
    )
    review = Review.objects.create(
        agency_id=content.agency_id,
        content=content,
        state="confirmed",
        evidence=evidence,
        classification=classification,
        decided_by="system:removed-here",
        decided_at=timezone.now(),
        note="a re-upload of material a reviewer here confirmed before; blocked at upload",
    )
    ReviewMatch.objects.bulk_create(
        [
            ReviewMatch(review=review, bank_id=m["bank_id"], entry_id=m["entry_id"])
            for m in confirmed
        ],
        ignore_conflicts=True,
    )
    review.report_draft = build_draft(review, system_principal(content.agency_id, "removed-here"))
    review.save(update_fields=["report_draft"])


_CLASSES = ("A1", "A2", "B1", "B2")


def _notify(content: ScannedContent, verdict: Verdict) -> None:
    Alert.objects.create(
        agency_id=content.agency_id,
        kind="match",
        message=f"Upload {content.content_id!r} matched: {content.decision}",
        detail={"content": content.pk, "banks": list(verdict.acting)},
    )


@dataclass(frozen=True, slots=True)
class ScanItem:
    """One upload of a batch: its metadata, its hash record and (maybe) its file."""

    info: ContentInfo
    record: dict[str, Any]
    media: MediaFile | None = None


def _bank_ids(principal: Principal) -> list[int]:
    """The banks a principal's scans look in (allow-lists included, so they suppress)."""
    return [pk for pk, _, _ in visible_bank_rows(principal)]


def _conflict(content_id: str) -> ScanConflict:
    return ScanConflict(
        f"content {content_id!r} was scanned before with other hashes; a content id names one file"
    )


def scan(
    principal: Principal,
    info: ContentInfo,
    record: dict[str, Any],
    *,
    media: MediaFile | None = None,
) -> ScanOutcome:
    """Match one upload's hash record and keep it; the stored answer for a repeated id.

    `media` is the uploaded file when it came with the scan: it is read (and preserved)
    only when a policy holds the upload for review.
    """
    return scan_many(principal, [ScanItem(info, record, media)])[0]


def scan_many(principal: Principal, items: Sequence[ScanItem]) -> list[ScanOutcome]:
    """Scan a batch of uploads in one transaction; outcomes in the order given.

    The transaction is shared with the scans other requests of this server process make at
    the same moment (group commit): one fsync for many, each answered after the commit.

    A content id seen before (or earlier in the batch) gets the stored answer; one seen
    with other hashes refuses the whole batch with ScanConflict before anything is kept.
    """
    check(principal, "scan")
    hashes = [_hashes_of(item.record) for item in items]
    ids = [item.info.content_id for item in items]
    stored = _stored(principal.agency_id, set(ids))
    first: dict[str, int] = {}
    for k, (content_id, kept) in enumerate(zip(ids, hashes, strict=True)):
        if content_id in stored and stored[content_id].hashes != kept:
            raise _conflict(content_id)
        if content_id in first and hashes[first[content_id]] != kept:
            raise _conflict(content_id)
        first.setdefault(content_id, k)
    fresh = [
        k for k, content_id in enumerate(ids) if content_id not in stored and first[content_id] == k
    ]
    if not fresh:
        return [ScanOutcome(stored[content_id], duplicate=True) for content_id in ids]
    banks = _bank_ids(principal)
    now = timezone.now()
    planned: list[tuple[int, list[MatchRow], Verdict, EvidenceItem | None]] = []
    for k in fresh:
        item = items[k]
        rows = match_upload(item.record, banks) if banks else []
        verdict = _verdict(principal.agency_id, item.info.content_id, rows, now)
        evidence = None
        if item.media is not None and (verdict.review or verdict.settled):
            evidence = _preserve(principal, item.info, item.record, item.media)
        planned.append((k, rows, verdict, evidence))
    writes = _Writes(
        principal,
        now,
        tuple(
            (items[k], hashes[k], rows, verdict, evidence) for k, rows, verdict, evidence in planned
        ),
    )
    try:
        created = _scan_writes.submit(writes)
    except IntegrityError:
        if len(items) == 1:  # the same content scanned twice at once: the first one stands
            content = ScannedContent.objects.get(agency_id=principal.agency_id, content_id=ids[0])
            return [ScanOutcome(content, duplicate=True)]
        # Another request stored one of these meanwhile: settle them one at a time.
        return [scan(principal, item.info, item.record, media=item.media) for item in items]
    assert isinstance(created, list)
    made = {content.content_id: content for content in created}
    return [
        ScanOutcome(made[content_id], duplicate=False)
        if content_id in made and first[content_id] == k
        else ScanOutcome(stored.get(content_id) or made[content_id], duplicate=True)
        for k, content_id in enumerate(ids)
    ]


def _sql_names(model: type[Model], *fields: str) -> list[str]:
    """The model's table and these fields' columns, quoted for the current database."""
    quote = connection.ops.quote_name
    columns = []
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)
        columns.append(field.column)
    return [quote(model._meta.db_table), *(quote(column) for column in columns)]


def _stored(agency_id: int, content_ids: set[str]) -> dict[str, ScannedContent]:
    """The uploads already kept under these content ids.

    Almost every scan is of new content, so the probe is one plain indexed query for the
    ids alone; the ORM (a third of a single scan's time when it built this query) loads
    the rows only when some were found.
    """
    table, agency, content_id = _sql_names(ScannedContent, "agency", "content_id")
    marks = ", ".join(["%s"] * len(content_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {content_id} FROM {table} WHERE {agency} = %s AND {content_id} IN ({marks})",
            [agency_id, *content_ids],
        )
        found = [row[0] for row in cursor.fetchall()]
    if not found:
        return {}
    rows = ScannedContent.objects.filter(agency_id=agency_id, content_id__in=found)
    return {content.content_id: content for content in rows}


_CONTENT_ROWS_PER_STATEMENT = 400  # about 20 parameters each (SQLite allows 32,766)


def _insert_contents(contents: list[ScannedContent]) -> list[ScannedContent]:
    """Insert new uploads in one statement and give each its primary key.

    What bulk_create does, without its statement compiler (the larger part of a single
    scan's write): every value still goes through its field's own conversion for the
    database, and the keys come back from RETURNING, in the order of the rows (as
    bulk_create also relies on, on SQLite and PostgreSQL alike).
    """
    meta = ScannedContent._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    keys: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(contents), _CONTENT_ROWS_PER_STATEMENT):
            chunk = contents[start : start + _CONTENT_ROWS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row] * len(chunk))} RETURNING {quote(meta.pk.column)}",
                [
                    f.get_db_prep_save(getattr(c, f.attname), connection)
                    for c in chunk
                    for f in fields
                ],
            )
            keys += [found[0] for found in cursor.fetchall()]
    for content, key in zip(contents, keys, strict=True):
        content.pk = key
        content._state.adding = False
        content._state.db = connection.alias
    return contents


_HASH_ROWS_PER_STATEMENT = 900  # 3 parameters each: far below every backend's limit


def _insert_hash_rows(rows: list[tuple[int, str, bytes]]) -> None:
    """ScanHash rows as plain multi-row INSERTs: the ORM's bulk_create spent more time
    building the statement than the database spent running it."""
    table, content, signal, digest = _sql_names(ScanHash, "content", "signal", "hash")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _HASH_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _HASH_ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({content}, {signal}, {digest}) VALUES {values}",
                [field for row in chunk for field in row],
            )


@dataclass(frozen=True, slots=True)
class _Writes:
    """One request's new uploads, for the group commit (see haven.web.group_commit)."""

    principal: Principal
    now: datetime
    rows: tuple[tuple[ScanItem, dict[str, Any], list[MatchRow], Verdict, EvidenceItem | None], ...]


def _store_scans(pending: list[Pending[_Writes]]) -> None:
    """Write several requests' uploads in the caller's transaction; each gets its rows."""
    made = _insert_contents(
        [
            _content_row(w.principal, item, hashes, rows, verdict, w.now)
            for w in (p.payload for p in pending)
            for item, hashes, rows, verdict, _ in w.rows
        ]
    )
    _insert_hash_rows(
        [
            (content.pk, signal, value)
            for content in made
            for signal, value in sorted(hash_values(content.hashes))
        ]
    )
    plans = [(verdict, evidence) for p in pending for _, _, _, verdict, evidence in p.payload.rows]
    for content, (verdict, evidence) in zip(made, plans, strict=True):
        if verdict.review:
            _open_review(content, verdict, evidence)
        elif verdict.settled:
            _settle(content, verdict, evidence)
        elif verdict.acting:
            note_upload(content, matched=True)
        if verdict.notify:
            _notify(content, verdict)
    start = 0
    for p in pending:
        p.result = made[start : start + len(p.payload.rows)]
        start += len(p.payload.rows)


# Single scans arrive one per request: committed together, one fsync for many.
_scan_writes: GroupCommit[_Writes] = GroupCommit(_store_scans)


def _content_row(
    principal: Principal,
    item: ScanItem,
    hashes: dict[str, Any],
    rows: list[MatchRow],
    verdict: Verdict,
    now: datetime,
) -> ScannedContent:
    info = item.info
    return ScannedContent(
        agency_id=principal.agency_id,
        content_id=info.content_id,
        media=str(item.record.get("type", "hashes")),
        surface=info.surface,
        uploader_account=info.uploader_account,
        uploader_name=info.uploader_name,
        ip=info.ip,
        uploaded_at=info.uploaded_at,
        url=info.url,
        hashes=hashes,
        decision=verdict.decision,
        matches=[_row_json(r) for r in rows],
        policy=verdict.as_json(),
        scanned_at=now,
        scanned_by=principal.actor,
    )

"""`POST /api/v1/intake/reports`: an authority node receives a provider's report.

The answer is a promise, so the report is committed before it is given: 201 with a
receipt means the report is in the database. A sender that resends (its outbox retries
after a timeout or a crash) gets the same receipt back with 200, so a report is received
exactly once however often it travels; the same id with different content is a 409, since
a sent report cannot change. Bad documents are 400s that name each field (`files[2].md5`).

Throughput (issue 4: ≥ 300 reports/s on a 2-core machine) comes from keeping the write
path short, not from weakening it: a report costs one insert that is its own duplicate
check, and the reports that arrive together in one server process are committed together
(group commit, `_GroupCommit`), one transaction and one fsync for all of them, each with its
audit entry; every request still answers only after the commit of its own report.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, check, principal_of
from haven.audit.services import AuditEvent, record_many
from haven.reports.format import ReportFormatError, parse_report, report_json, report_schema
from haven.reports.models import ReceivedReport
from haven.web.errors import ApiError, ErrorResponse

__all__ = ["MAX_REPORT_BYTES", "receive_report", "receiving_agency", "router"]

router = Router(tags=["reports intake"])

MAX_REPORT_BYTES = 2 * 1024 * 1024  # the report document; files travel apart
_E = ErrorResponse

# A batch of reports is one statement: insert the rows whose (sender, report id) is not
# taken, returning which were. Whatever is committed holds the write lock (SQLite's one
# writer, the audit head row on PostgreSQL) only for that insert, the audit append and the
# commit; parsing, hashing and serialising are done before the transaction begins.
_INSERTED = (
    "agency",
    "sender",
    "sender_report_id",
    "token",
    "schema_version",
    "payload",
    "payload_sha256",
    "receipt_id",
    "received_at",
    "synthetic",
)


def _field(name: str) -> models.Field[Any, Any]:
    field = ReceivedReport._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


@cache
def _insert_sql(vendor: str, rows: int) -> str:
    """INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING (SQLite ≥ 3.35, PostgreSQL)."""
    quote = connection.ops.quote_name
    meta = ReceivedReport._meta
    columns = ", ".join(quote(_field(name).column) for name in _INSERTED)
    row = f"({', '.join(['%s'] * len(_INSERTED))})"
    sender = quote(_field("sender").column)
    report_id = quote(_field("sender_report_id").column)
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({sender}, {report_id}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}, {sender}, {report_id}"
    )


@cache
def _agency_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    name = quote(Agency._meta.get_field("name").column)
    table = quote(Agency._meta.db_table)
    return f"SELECT {quote(Agency._meta.pk.column)} FROM {table} WHERE {name} = %s"


def _receiving_agency_name() -> str:
    return str(settings.HAVEN.intake_agency or settings.HAVEN.node_name)


def receiving_agency() -> Agency:
    """The agency whose analysts triage what arrives: HAVEN_INTAKE_AGENCY, else the node."""
    agency, _ = Agency.objects.get_or_create(name=_receiving_agency_name())
    return agency


def _receipt(receipt_id: str, report_id: str, at: datetime, duplicate: bool) -> dict[str, Any]:
    return {
        "receipt_id": receipt_id,
        "report_id": report_id,
        "received_at": at.isoformat(),
        "duplicate": duplicate,
    }


@dataclass(eq=False)
class _Pending:
    """One report waiting for a commit: its row, and what the commit made of it."""

    row: list[Any]
    report_id: str
    files: int
    principal: Principal
    done: bool = False
    pk: int | None = None  # None when done: this sender's report id was taken
    error: BaseException | None = None


def _store(items: list[_Pending]) -> None:
    """Insert the rows and append their audit entries, in the caller's transaction.

    Sets each item's pk; None where this sender's report id was taken (before, or by an
    earlier item of the same batch).
    """
    with connection.cursor() as cursor:
        cursor.execute(_agency_sql(connection.vendor), [_receiving_agency_name()])
        found = cursor.fetchone()
        agency = int(found[0]) if found else receiving_agency().pk
        cursor.execute(
            _insert_sql(connection.vendor, len(items)),
            [value for item in items for value in (agency, *item.row)],
        )
        inserted = {(int(sender), str(rid)): int(pk) for pk, sender, rid in cursor.fetchall()}
    for item in items:
        item.pk = inserted.pop((item.row[0], item.report_id), None)
    record_many(
        [
            AuditEvent(
                "reports.intake",
                principal=item.principal,
                target_type="received_report",
                target_id=item.pk,
                detail={"report_id": item.report_id, "files": item.files},
            )
            for item in items
            if item.pk is not None
        ]
    )


def _commit(items: list[_Pending]) -> None:
    """Commit the items' rows and audit entries in one transaction, so one fsync.

    If anything fails, nothing of the batch is kept, and each item is tried again in a
    transaction of its own: one bad report fails alone, with its own error.
    """
    if len(items) > 1:
        try:
            with transaction.atomic():
                _store(items)
        except Exception:  # retried one by one below, each with its own error
            for item in items:
                item.pk = None
        else:
            for item in items:
                item.done = True
            return
    for item in items:
        try:
            with transaction.atomic():
                _store([item])
        except Exception as exc:  # handed to the item's own request, raised there
            item.pk, item.error = None, exc  # (a deferred check fails at COMMIT, after the id)
        item.done = True


class _GroupCommit:
    """Group commit among one process's request threads (leader and followers).

    A request queues its report; if no thread of this process is committing, it becomes
    the leader: it waits for the node's intake lock, takes every queued report (its own
    among them), commits them in one transaction with its own database connection, marks
    each done and wakes the others. Reports that arrive meanwhile queue up for the next
    leader. So under load one fsync and one turn at the write lock serve several reports,
    and with no load a report is committed at once, alone: there is no batching window to
    wait out. A request answers only once its report is marked done: after the commit.

    On SQLite the leader first takes the intake lock, an advisory file lock (flock) in the
    data folder that the server processes queue on in the kernel. Without it, SQLite's busy
    handler has a process that finds the database locked sleep and poll (1, 2, 5 … 100 ms),
    so the other process takes the lock again and again and the loser's reports wait
    hundreds of milliseconds. The database's own locks still decide correctness; this one
    only orders the waiters (no lock file, say a read-only folder: the database's locks
    alone). PostgreSQL queues its lock waiters itself.
    """

    MAX_BATCH = 64

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self._lock_file: int | None = None

    @contextlib.contextmanager
    def _node_lock(self) -> Iterator[None]:
        if self._lock_file is None:
            with contextlib.suppress(OSError):
                path = Path(settings.HAVEN.data_dir) / "intake.lock"
                self._lock_file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._lock_file is None or connection.vendor != "sqlite":
            yield
            return
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def commit(self, item: _Pending) -> None:
        with self._ready:
            self._queue.append(item)
        while True:
            with self._ready:
                while not item.done and self._leading:
                    self._ready.wait()
                if item.done:
                    return
                self._leading = True
            batch: list[_Pending] = []
            try:
                with self._node_lock():
                    with self._ready:  # what queued up while this leader waited for the lock
                        batch = self._queue[: self.MAX_BATCH]
                        del self._queue[: self.MAX_BATCH]
                    _commit(batch)
            finally:
                with self._ready:
                    for pending in batch:
                        if not pending.done:  # _commit was interrupted: fail, never hang
                            pending.error = pending.error or RuntimeError("commit interrupted")
                            pending.done = True
                    self._leading = False
                    self._ready.notify_all()


_group = _GroupCommit()


def _reset_after_fork() -> None:
    # A forked worker must not inherit a held lock, a queue, or the parent's open lock
    # file (a flock belongs to the open file, which the parent would share).
    global _group
    if _group._lock_file is not None:
        with contextlib.suppress(OSError):
            os.close(_group._lock_file)
    _group = _GroupCommit()


os.register_at_fork(after_in_child=_reset_after_fork)


def _insert(row: list[Any], report_id: str, files: int, principal: Principal) -> int | None:
    """Commit the row and its audit entry; its id, or None if the id was taken.

    Inside a caller's transaction (a test, a management command) the caller's transaction
    is the commit; otherwise the report joins this process's group commit.
    """
    item = _Pending(row, report_id, files, principal)
    if connection.in_atomic_block:
        with transaction.atomic():
            _store([item])
        return item.pk
    _group.commit(item)
    if item.error is not None:
        raise item.error
    return item.pk


def receive_report(principal: Principal, body: bytes) -> tuple[int, dict[str, Any]]:
    """Validate, dedup and commit one report; (status, receipt). Raises ApiError."""
    check(principal, "reports:submit")
    if len(body) > MAX_REPORT_BYTES:
        raise ApiError(413, "too_large", f"a report is at most {MAX_REPORT_BYTES:,} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_json", "the body is not JSON") from None
    try:
        report = parse_report(data)
    except ReportFormatError as exc:
        details = [{"field": p.path, "problem": p.problem} for p in exc.problems[:50]]
        raise ApiError(400, "invalid_report", str(exc), details) from None
    canonical = report_json(report)
    digest = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    sender = principal.agency_id
    receipt_id = secrets.token_hex(16)
    now = timezone.now()
    row = [
        sender,
        report.report_id,
        principal.id if principal.kind == "token" else None,
        report.schema_version,
        _field("payload").get_db_prep_save(canonical, connection),
        digest,
        receipt_id,
        _field("received_at").get_db_prep_save(now, connection),
        report.synthetic,
    ]
    try:
        pk = _insert(row, report.report_id, len(report.files), principal)
    except IntegrityError:  # not the (sender, id) pair, which ON CONFLICT absorbs
        if _existing(sender, report.report_id) is None:
            raise
        pk = None
    if pk is not None:
        return 201, _receipt(receipt_id, report.report_id, now, duplicate=False)
    existing = _existing(sender, report.report_id)
    if existing is None:  # taken, so committed, and received reports are never deleted
        raise RuntimeError(f"report {report.report_id!r} was taken yet is not stored")
    if existing.payload_sha256 != digest:
        raise ApiError(
            409,
            "report_id_reused",
            f"report {report.report_id!r} was received before with different content; "
            "a sent report cannot change (send a new report id)",
        )
    return 200, _receipt(
        existing.receipt_id, existing.sender_report_id, existing.received_at, duplicate=True
    )


def _existing(sender: int | None, report_id: str) -> ReceivedReport | None:
    return (
        ReceivedReport.objects.filter(sender_id=sender, sender_report_id=report_id)
        .only("receipt_id", "sender_report_id", "received_at", "payload_sha256")
        .first()
    )


@router.post(
    "/intake/reports",
    response={
        201: dict[str, Any],
        200: dict[str, Any],
        400: _E,
        401: _E,
        403: _E,
        409: _E,
        413: _E,
    },
    summary="Receive a report (authority nodes)",
    description=(
        "The body is a report in Haven's published format (JSON Schema at "
        "`/api/v1/intake/schema`). 201: committed, with a receipt. 200: this sender sent "
        "the same report before; the original receipt. 409: the same report id with "
        "different content."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def intake(request: HttpRequest) -> HttpResponse:
    principal = check(principal_of(request), "reports:submit")
    status, receipt = receive_report(principal, request.body)
    return HttpResponse(json.dumps(receipt), status=status, content_type="application/json")


@router.get(
    "/intake/schema",
    response={200: dict[str, Any]},
    auth=None,
    summary="The report format's JSON Schema (public)",
)
def schema(request: HttpRequest) -> dict[str, Any]:
    return report_schema()

"""`POST /api/v1/intake/reports`: an authority node receives a provider's report.

The answer is a promise, so the report is committed before it is given: 201 with a
receipt means the report is in the database. A sender that resends (its outbox retries
after a timeout or a crash) gets the same receipt back with 200, so a report is received
exactly once however often it travels; the same id with different content is a 409, since
a sent report cannot change. Bad documents are 400s that name each field (`files[2].md5`).

Throughput (issue 4: ≥ 300 reports/s on a 2-core machine) comes from keeping the write
path short, not from weakening it: a report costs one insert that is its own duplicate
check, and the reports that arrive together in one server process are committed together
(group commit, `haven.web.group_commit`), one transaction and one fsync for all of them,
each with its audit entry; every request still answers only after its report's commit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, check, principal_of
from haven.audit.services import AuditEvent, record_many
from haven.reports.format import ReportFormatError, parse_report, report_json, report_schema
from haven.reports.models import ReceivedReport
from haven.web.errors import ApiError, ErrorResponse
from haven.web.group_commit import GroupCommit, Pending

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


@dataclass(frozen=True, slots=True)
class _Report:
    """One report's row for the group commit (see haven.web.group_commit)."""

    row: list[Any]
    report_id: str
    files: int
    principal: Principal


def _store(items: list[Pending[_Report]]) -> None:
    """Insert the rows and append their audit entries, in the caller's transaction.

    Sets each item's result to its pk; None where this sender's report id was taken
    (before, or by an earlier item of the same batch).
    """
    with connection.cursor() as cursor:
        cursor.execute(_agency_sql(connection.vendor), [_receiving_agency_name()])
        found = cursor.fetchone()
        agency = int(found[0]) if found else receiving_agency().pk
        cursor.execute(
            _insert_sql(connection.vendor, len(items)),
            [value for item in items for value in (agency, *item.payload.row)],
        )
        inserted = {(int(sender), str(rid)): int(pk) for pk, sender, rid in cursor.fetchall()}
    for item in items:
        item.result = inserted.pop((item.payload.row[0], item.payload.report_id), None)
    record_many(
        [
            AuditEvent(
                "reports.intake",
                principal=item.payload.principal,
                target_type="received_report",
                target_id=item.result,
                detail={"report_id": item.payload.report_id, "files": item.payload.files},
            )
            for item in items
            if item.result is not None
        ]
    )


_group: GroupCommit[_Report] = GroupCommit(_store)


def _insert(row: list[Any], report_id: str, files: int, principal: Principal) -> int | None:
    """Commit the row and its audit entry (with other requests' reports of this process);
    its id, or None if this sender's id was taken."""
    pk = _group.submit(_Report(row, report_id, files, principal))
    return int(pk) if isinstance(pk, int) else None


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

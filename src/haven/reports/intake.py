"""`POST /api/v1/intake/reports`: an authority node receives a provider's report.

The answer is a promise, so the report is committed before it is given: 201 with a
receipt means the report is in the database. A sender that resends (its outbox retries
after a timeout or a crash) gets the same receipt back with 200, so a report is received
exactly once however often it travels; the same id with different content is a 409, since
a sent report cannot change. Bad documents are 400s that name each field (`files[2].md5`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, check, principal_of
from haven.audit.services import record
from haven.reports.format import ReportFormatError, parse_report, report_json, report_schema
from haven.reports.models import ReceivedReport
from haven.web.errors import ApiError, ErrorResponse

__all__ = ["MAX_REPORT_BYTES", "receive_report", "receiving_agency", "router"]

router = Router(tags=["reports intake"])

MAX_REPORT_BYTES = 2 * 1024 * 1024  # the report document; files travel apart
_E = ErrorResponse


def receiving_agency() -> Agency:
    """The agency whose analysts triage what arrives: HAVEN_INTAKE_AGENCY, else the node."""
    name = settings.HAVEN.intake_agency or settings.HAVEN.node_name
    agency, _ = Agency.objects.get_or_create(name=name)
    return agency


def _receipt(found: ReceivedReport, duplicate: bool) -> dict[str, Any]:
    return {
        "receipt_id": found.receipt_id,
        "report_id": found.sender_report_id,
        "received_at": found.received_at.isoformat(),
        "duplicate": duplicate,
    }


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
    existing = ReceivedReport.objects.filter(
        sender_id=sender, sender_report_id=report.report_id
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = ReceivedReport.objects.create(
                    agency=receiving_agency(),
                    sender_id=sender,
                    sender_report_id=report.report_id,
                    token_id=principal.id if principal.kind == "token" else None,
                    schema_version=report.schema_version,
                    payload=canonical,
                    payload_sha256=digest,
                    receipt_id=secrets.token_hex(16),
                    synthetic=report.synthetic,
                )
                record(
                    "reports.intake",
                    principal=principal,
                    target_type="received_report",
                    target_id=existing.pk,
                    detail={"report_id": report.report_id, "files": len(report.files)},
                )
            return 201, _receipt(existing, duplicate=False)
        except IntegrityError:  # the same report arrived twice at once: the other one won
            existing = ReceivedReport.objects.get(
                sender_id=sender, sender_report_id=report.report_id
            )
    if existing.payload_sha256 != digest:
        raise ApiError(
            409,
            "report_id_reused",
            f"report {report.report_id!r} was received before with different content; "
            "a sent report cannot change (send a new report id)",
        )
    return 200, _receipt(existing, duplicate=True)


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

"""`PUT /api/v1/intake/reports/{report_id}/files/{file_id}`: a report's files arrive sealed.

A provider's node sends a report first (`haven.reports.intake`), listing each file with its
`encrypted_content` (algorithm, recipient key id, SHA-256 and size of the sealed bytes),
then PUTs each file's sealed bytes here. The bytes are checked against that listing before
anything is stored (so a file can only be the one the report declared), and are stored as
they came, sealed: only this node's signing key opens them (`open_received_file`, audited),
so a copy of the database or of a backup holds no readable file.

Like the report intake, the answer is a promise: 201 means the file is committed. A sender
can only upload to its own reports (another sender's report id is a 404, as a missing one
is), and a resend of the same bytes is a 200, so an outbox that retries after a crash is
safe; other bytes for a file already held are a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router

from haven.accounts.permissions import Principal, check, get_visible_or_404, principal_of
from haven.audit.services import record
from haven.reports.models import ReceivedFile, ReceivedReport
from haven.reports.outbox import open_with_node_key
from haven.reports.sealing import SealError, hash_mismatches, recipient_key_id
from haven.reports.services import ReportError
from haven.web.errors import ApiError, ErrorResponse
from haven.web.node import keyring

__all__ = ["open_received_file", "receive_file", "router"]

router = Router(tags=["reports intake"])

_E = ErrorResponse


def _answer(found: ReceivedFile, report_id: str, duplicate: bool) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "file_id": found.file_id,
        "sha256": found.sha256,
        "size": found.size,
        "received_at": found.received_at.isoformat(),
        "duplicate": duplicate,
    }


def _listing(report: ReceivedReport, file_id: str) -> dict[str, Any]:
    for entry in report.payload.get("files", []):
        if isinstance(entry, dict) and entry.get("file_id") == file_id:
            return entry
    raise ApiError(
        404, "no_such_file", f"report {report.sender_report_id!r} lists no file {file_id!r}"
    )


def _own_key_ids() -> set[str]:
    ring = keyring()
    ring.refresh()
    return {key.id for key in ring.signing_keys}


def _check_content(file_id: str, meta: dict[str, Any], body: bytes, digest: str) -> None:
    size, declared = int(meta["size"]), str(meta["sha256_of_ciphertext"])
    if len(body) != size or digest != declared:
        raise ApiError(
            400,
            "wrong_content",
            f"file {file_id!r}: the body is {len(body):,} bytes with SHA-256 {digest}; the "
            f"report declares {size:,} bytes with SHA-256 {declared}",
        )
    try:
        sealed_to = recipient_key_id(body)
    except SealError as exc:
        raise ApiError(400, "not_sealed", f"file {file_id!r}: {exc}") from None
    if sealed_to != meta.get("recipient_key_id"):
        raise ApiError(
            400,
            "wrong_recipient",
            f"file {file_id!r} is sealed to key {sealed_to}, but the report says "
            f"{meta.get('recipient_key_id')}",
        )
    if sealed_to not in _own_key_ids():
        raise ApiError(
            400,
            "wrong_recipient",
            f"file {file_id!r} is sealed to key {sealed_to}, which is not this node's: "
            "seal it to this node's pinned key",
        )


def receive_file(
    principal: Principal,
    report_id: str,
    file_id: str,
    read_body: Callable[[], bytes],
    content_length: int | None,
) -> tuple[int, dict[str, Any]]:
    """Check and commit one sealed file of the sender's report; (status, answer).

    `content_length` (the request's) is checked against the declared size before the body
    is read. Raises ApiError; stores nothing unless all is well.
    """
    check(principal, "reports:submit")
    report = ReceivedReport.objects.filter(
        sender_id=principal.agency_id, sender_report_id=report_id
    ).first()
    if report is None:
        raise ApiError(404, "no_such_report", f"you sent no report {report_id!r}")
    meta = _listing(report, file_id).get("encrypted_content")
    if not isinstance(meta, dict):
        raise ApiError(
            400,
            "not_encrypted",
            f"report {report_id!r} lists file {file_id!r} without encrypted_content: "
            "its bytes do not travel",
        )
    size, limit = int(meta["size"]), settings.HAVEN.max_upload_bytes
    if size > limit:
        raise ApiError(
            413, "too_large", f"file {file_id!r} is {size:,} bytes; this node takes {limit:,}"
        )
    if content_length is not None and content_length > size:
        raise ApiError(
            413,
            "too_large",
            f"the body is {content_length:,} bytes; the report declares file {file_id!r} "
            f"as {size:,}",
        )
    body = read_body()
    digest = hashlib.sha256(body).hexdigest()
    existing = ReceivedFile.objects.filter(report=report, file_id=file_id).first()
    if existing is None:
        _check_content(file_id, meta, body, digest)
        try:
            with transaction.atomic():
                existing = ReceivedFile.objects.create(
                    agency_id=report.agency_id,
                    report=report,
                    file_id=file_id,
                    ciphertext=body,
                    sha256=digest,
                    size=len(body),
                    token_id=principal.id if principal.kind == "token" else None,
                )
                record(
                    "reports.intake_file",
                    principal=principal,
                    target_type="received_file",
                    target_id=existing.pk,
                    detail={"report_id": report_id, "file_id": file_id, "size": len(body)},
                )
            return 201, _answer(existing, report_id, duplicate=False)
        except IntegrityError:  # the same file arrived twice at once: the other one won
            existing = ReceivedFile.objects.get(report=report, file_id=file_id)
    if existing.sha256 != digest:
        raise ApiError(
            409,
            "file_conflict",
            f"file {file_id!r} of report {report_id!r} was received before with other "
            "content; a sent file cannot change",
        )
    return 200, _answer(existing, report_id, duplicate=True)


def open_received_file(principal: Principal, received_file: ReceivedFile, *, reason: str) -> bytes:
    """The plaintext of a received file, for a person who said why; audited either way.

    Opens with this node's key and checks the content against the hashes (and size) the
    report lists; raises ReportError when it does not open or does not match, Http404 when
    the file is out of the principal's reach.
    """
    check(principal, "evidence:view")
    if not reason.strip():
        raise ReportError("say why you open this file (it is recorded)")
    found = get_visible_or_404(
        ReceivedFile.objects.select_related("report"), principal, pk=received_file.pk
    )
    detail = {
        "report_id": found.report.sender_report_id,
        "file_id": found.file_id,
        "reason": reason.strip()[:500],
    }
    try:
        content = open_with_node_key(bytes(found.ciphertext))
        listed: dict[str, Any] = next(
            (e for e in found.report.payload.get("files", []) if e.get("file_id") == found.file_id),
            {},
        )
        if not listed:
            raise ReportError(f"report lists no file {found.file_id!r}")
        wrong = hash_mismatches(listed, content)
        if wrong:
            raise ReportError(
                f"file {found.file_id!r} opens, but its {', '.join(wrong)} differ from "
                "what the report lists"
            )
    except (SealError, ReportError) as exc:
        record(
            "reports.file_open",
            principal=principal,
            target_type="received_file",
            target_id=found.pk,
            outcome="failed",
            detail={**detail, "error": str(exc)[:300]},
        )
        raise ReportError(str(exc)) from None
    record(
        "reports.file_open",
        principal=principal,
        target_type="received_file",
        target_id=found.pk,
        detail=detail,
    )
    return content


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


@router.put(
    "/intake/reports/{report_id}/files/{file_id}",
    response={
        201: dict[str, Any],
        200: dict[str, Any],
        400: _E,
        401: _E,
        403: _E,
        404: _E,
        409: _E,
        413: _E,
    },
    summary="Receive a report's sealed file (authority nodes)",
    description=(
        "The body is the file's sealed bytes (`application/octet-stream`), as listed in the "
        "report's `files[].encrypted_content`: their SHA-256 and size must be the ones "
        "listed, and they must be sealed to this node's key. 201: committed. 200: this file "
        "was received before with the same bytes. 404: the sender sent no such report, or "
        "the report lists no such file. 409: other bytes for a file received before."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
def upload_file(request: HttpRequest, report_id: str, file_id: str) -> HttpResponse:
    principal = check(principal_of(request), "reports:submit")
    status, answer = receive_file(
        principal, report_id, file_id, lambda: request.body, _content_length(request)
    )
    return HttpResponse(json.dumps(answer), status=status, content_type="application/json")

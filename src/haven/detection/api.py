"""`POST /api/v1/scan` and `/api/v1/scan/batch`: a provider's uploads, answered at once;
`POST /api/v1/scan/decision` and `POST /api/v1/scan/appeal`: what became of an upload since,
with the statement of reasons for its uploader, and the uploader's appeal.

A scan is a file (multipart: `file`, and `content` holding the metadata as JSON) or its
precomputed hashes (JSON: `content` and `hashes`). The batch form takes up to 100 hashed
items, for backfills. Every answer carries the decision and every match; a content id seen
before gets the stored answer (`duplicate: true`) without a new lookup.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import ValidationError as PydanticValidationError

from haven.accounts.permissions import Principal, check, principal_of
from haven.banks.api import HashParseError, parse_hashes
from haven.detection.appeals import AppealError, file_appeal
from haven.detection.models import Review, ScannedContent
from haven.detection.services import (
    ContentInfo,
    MediaFile,
    ScanConflict,
    ScanItem,
    scan,
    scan_many,
)
from haven.detection.statement import statement_of_reasons
from haven.scan.batch import ScanOptions, hash_file
from haven.web.errors import ApiError, ErrorResponse

__all__ = ["MAX_BATCH", "router"]

router = Router(tags=["detection"])

MAX_BATCH = 100
MAX_FRAMES = 20_000
_E = ErrorResponse
Surface = Literal["public_post", "private_message", "profile", "ad", "comment", "other"]


# One-line values: no control characters (PostgreSQL refuses NUL; none belongs in an id).
_LINE = r"^[^\x00-\x1f\x7f]*$"
# Free text: line breaks and tabs, but no other control character.
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class ContentIn(Schema):
    content_id: str = Field(
        min_length=1, max_length=200, pattern=_LINE, description="your id for the content"
    )
    surface: Surface = "other"
    uploader_account: str = Field("", max_length=200, pattern=_LINE)
    uploader_name: str = Field("", max_length=200, pattern=_LINE)
    ip: str | None = Field(
        None, max_length=45, pattern=_LINE, description="the uploader's IP address"
    )
    uploaded_at: datetime | None = None
    url: str = Field("", max_length=2083, pattern=_LINE)


class HashesIn(Schema):
    pdq: str | None = Field(None, description="the image's PDQ hash, 64 hex digits")
    pdq_variants: list[str] = Field(
        default_factory=list, max_length=7, description="its other rotations and flips"
    )
    md5: str | None = None
    sha256: str | None = None
    frames: list[tuple[str, int]] = Field(
        default_factory=list, description="a video's frames as [pdq hex, quality] pairs"
    )


class ScanIn(Schema):
    content: ContentIn
    hashes: HashesIn


class BatchIn(Schema):
    items: list[ScanIn] = Field(description=f"1 to {MAX_BATCH} hashed items")


def _info(content: ContentIn, where: str) -> ContentInfo:
    ip = content.ip
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ApiError.field(f"{where}.ip", "is not an IP address") from None
    return ContentInfo(
        content.content_id,
        content.surface,
        content.uploader_account,
        content.uploader_name,
        ip or None,
        content.uploaded_at,
        content.url,
    )


def _one(value: str, signal: str, where: str) -> str:
    try:
        return parse_hashes([value], signal)[0].hex()
    except HashParseError as exc:
        raise HashParseError(where, exc.problem) from None


def _record(hashes: HashesIn, where: str) -> dict[str, Any]:
    """A hash record like `haven hash` writes, from precomputed hashes (checked strictly)."""
    try:
        record: dict[str, Any] = {"type": "video" if hashes.frames else "image"}
        for signal in ("md5", "sha256"):
            value = getattr(hashes, signal)
            if value is not None:
                record[signal] = _one(value, signal, f"{where}.{signal}")
        if hashes.pdq is not None:
            record["pdq"] = _one(hashes.pdq, "pdq", f"{where}.pdq")
            variants = parse_hashes(hashes.pdq_variants, "pdq", f"{where}.pdq_variants")
            record["dihedral"] = [record["pdq"], *(v.hex() for v in variants)]
        elif hashes.pdq_variants:
            raise HashParseError(f"{where}.pdq_variants", "give pdq as well")
        if hashes.frames:
            if len(hashes.frames) > MAX_FRAMES:
                raise HashParseError(f"{where}.frames", f"at most {MAX_FRAMES:,} frames")
            frames = []
            for k, (pdq, quality) in enumerate(hashes.frames):
                if not 0 <= quality <= 100:
                    raise HashParseError(f"{where}.frames[{k}]", "quality must be 0..100")
                frames.append([k, quality, _one(pdq, "pdq", f"{where}.frames[{k}]"), 0.0])
            record["frames"] = frames
    except HashParseError as exc:
        raise ApiError.field(exc.where, exc.problem, "malformed_hash") from None
    if len(record) == 1:
        raise ApiError.field(f"{where}", "give at least one of pdq, md5, sha256 or frames")
    return record


def _answer(
    principal: Principal,
    info: ContentInfo,
    record: dict[str, Any],
    media: MediaFile | None = None,
) -> dict[str, Any]:
    try:
        return scan(principal, info, record, media=media).as_json()
    except ScanConflict as exc:
        raise ApiError(409, "content_id_reused", str(exc)) from None


def _from_upload(request: HttpRequest, principal: Principal) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError.field("file", "send the file in the multipart field `file`")
    try:
        content = ContentIn.model_validate(json.loads(request.POST.get("content") or "{}"))
    except (ValueError, PydanticValidationError) as exc:
        raise ApiError.field(
            "content", f"must be JSON with at least content_id ({exc})"[:300]
        ) from None
    suffix = Path(str(upload.name or "")).suffix[:9]
    folder = Path(settings.HAVEN.media_dir)
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(suffix=suffix if suffix.isascii() else "", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        record = hash_file(name, ScanOptions(dihedral=True))
        if "error" in record:
            raise ApiError.field("file", str(record["error"]), "bad_media")
        media = MediaFile(name, str(upload.name or "")[:1024], str(upload.content_type or ""))
        body = _answer(principal, _info(content, "content"), record, media)
    finally:
        os.unlink(name)
    return HttpResponse(json.dumps(body), content_type="application/json")


@router.post(
    "/scan",
    response={200: dict[str, Any], 400: _E, 401: _E, 403: _E, 409: _E, 413: _E},
    summary="Scan one upload: decision and matches",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ScanIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "content": {"type": "string", "description": "ContentIn as JSON"},
                        },
                        "required": ["file", "content"],
                    }
                },
            }
        }
    },
)
def scan_one(request: HttpRequest) -> HttpResponse:
    principal = check(principal_of(request), "scan")
    if request.content_type == "multipart/form-data":
        return _from_upload(request, principal)
    try:
        payload = ScanIn.model_validate(json.loads(request.body or b"{}"))
    except (ValueError, PydanticValidationError) as exc:
        raise ApiError.field("body", str(exc).splitlines()[0][:300]) from None
    body = _answer(principal, _info(payload.content, "content"), _record(payload.hashes, "hashes"))
    return HttpResponse(json.dumps(body), content_type="application/json")


@router.post(
    "/scan/batch",
    response={200: dict[str, Any], 400: _E, 401: _E, 403: _E, 409: _E},
    summary="Scan up to 100 hashed uploads (backfills)",
)
def scan_batch(request: HttpRequest, payload: BatchIn) -> HttpResponse:
    principal = check(principal_of(request), "scan")
    if not payload.items or len(payload.items) > MAX_BATCH:
        raise ApiError.field("items", f"give 1 to {MAX_BATCH} items, got {len(payload.items)}")
    checked = [
        (_info(item.content, f"items[{k}].content"), _record(item.hashes, f"items[{k}].hashes"))
        for k, item in enumerate(payload.items)
    ]
    try:
        outcomes = scan_many(principal, [ScanItem(info, record) for info, record in checked])
    except ScanConflict as exc:
        raise ApiError(409, "content_id_reused", str(exc)) from None
    results = [outcome.as_json() for outcome in outcomes]
    return HttpResponse(json.dumps({"results": results}), content_type="application/json")


class AppealIn(Schema):
    content_id: str = Field(min_length=1, max_length=200, pattern=_LINE)
    statement: str = Field(
        min_length=1, max_length=5000, pattern=_TEXT, description="what the uploader says"
    )


def _content(principal: Principal, content_id: str) -> ScannedContent:
    found = ScannedContent.objects.filter(
        agency_id=principal.agency_id, content_id=content_id
    ).first()
    if found is None:
        raise ApiError(404, "not_found", f"no content {content_id!r} was scanned")
    return found


class DecisionIn(Schema):
    content_id: str = Field(min_length=1, max_length=200, pattern=_LINE)


@router.post(
    "/scan/decision",
    response={200: dict[str, Any], 400: _E, 401: _E, 403: _E, 404: _E},
    summary="The current decision on an upload, with its statement of reasons",
)
def decision(request: HttpRequest, payload: DecisionIn) -> dict[str, Any]:
    """What to do with the content now (a review or an appeal may have changed it), and the
    statement of reasons to show its uploader. A POST, so that any content id (slashes and
    all) travels in the body, as in the scan itself; it changes nothing."""
    principal = check(principal_of(request), "scan")
    content = _content(principal, payload.content_id)
    review = Review.objects.filter(content=content).first()
    return {
        "content_id": content.content_id,
        "decision": content.decision,
        "review": review.state if review else None,
        "removed_at": content.removed_at.isoformat() if content.removed_at else None,
        "restored_at": content.restored_at.isoformat() if content.restored_at else None,
        "statement_of_reasons": statement_of_reasons(content),
    }


@router.post(
    "/scan/appeal",
    response={201: dict[str, Any], 400: _E, 401: _E, 403: _E, 404: _E, 409: _E},
    summary="Forward an uploader's appeal; a second reviewer decides",
)
def appeal(request: HttpRequest, payload: AppealIn) -> Status[dict[str, Any]]:
    principal = check(principal_of(request), "scan")
    content = _content(principal, payload.content_id)
    try:
        filed = file_appeal(principal, content, payload.statement)
    except AppealError as exc:
        raise ApiError(409, "appeal_refused", str(exc)) from None
    return Status(
        201,
        {"appeal_id": filed.pk, "state": filed.state, "filed_at": filed.filed_at.isoformat()},
    )

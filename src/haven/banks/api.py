"""The API for hashing, matching and banks: `/api/v1/hash`, `/match`, `/banks...`, `/index`.

`POST /match` is the hot path (other tools call it in batches of up to 1,000 hashes), so
it parses hashes with `bytes.fromhex` after a length check, resolves bank names from one
small query, and answers with a hand-built JSON body; the schemas below still describe
that body in the OpenAPI document. Every failure uses the one error shape of
`haven.web.errors`; a malformed hash is a 400 that names its position and the problem.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja import Path as PathParam
from pydantic import ValidationError as PydanticValidationError
from pydantic import WithJsonSchema

from haven.accounts.permissions import Principal, check, principal_of
from haven.banks import services
from haven.banks.lookup import visible_bank_rows
from haven.banks.matcher import HashResult, MatchHit, VideoHit, matcher
from haven.banks.models import Bank, BankEntry
from haven.banks.services import BankError
from haven.index.formats import FORMATS
from haven.media.signals import SIGNAL_TYPES, MalformedHash
from haven.web.errors import ApiError, ErrorResponse

__all__ = ["MAX_HASHES", "MAX_VIDEO_FRAMES", "HashParseError", "parse_hashes", "router"]

router = Router(tags=["matching and banks"])

MAX_HASHES = 1000
MAX_VIDEO_FRAMES = 100_000
MAX_ID = 2**63 - 1
_HEX_PATTERN = {name: f"^[0-9A-Fa-f]{{{s.hex_length}}}$" for name, s in SIGNAL_TYPES.items()}
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")

_E = ErrorResponse
_READ_ERRORS: dict[int, type[ErrorResponse]] = {400: _E, 401: _E, 403: _E, 404: _E}
_WRITE_ERRORS: dict[int, type[ErrorResponse]] = {400: _E, 401: _E, 403: _E, 404: _E, 413: _E}

BankId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the bank's id")]
EntryId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the entry's id")]


# -- request hash parsing -------------------------------------------------------------------


class HashParseError(ValueError):
    """A hash in a request that is not of its type's form; `where` is like `hashes[3]`."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def parse_hashes(
    items: Sequence[object], signal: str = "pdq", where: str = "hashes"
) -> list[bytes]:
    """Hex strings to bytes, strictly, fast: `bytes.fromhex` after an exact length check.

    `fromhex` skips whitespace, so a 64-character string that yields 32 bytes held 64 hex
    digits. Anything else takes the slow path, which accepts what `SignalType.parse`
    accepts (surrounding spaces) and otherwise names the position and the problem.
    """
    kind = SIGNAL_TYPES[signal]
    length, size = kind.hex_length, kind.bits // 8
    fromhex = bytes.fromhex
    out: list[bytes] = []
    append = out.append
    for position, item in enumerate(items):
        if type(item) is str and len(item) == length:
            try:
                value = fromhex(item)
            except ValueError:
                value = b""
            if len(value) == size:
                append(value)
                continue
        try:
            append(kind.parse(item))  # type: ignore[arg-type]
        except MalformedHash as exc:
            raise HashParseError(f"{where}[{position}]", str(exc)) from None
    return out


def _parse_frames(frames: object, where: str) -> list[tuple[bytes, int]]:
    if not isinstance(frames, list):
        raise HashParseError(where, 'frames must be a list of ["<pdq hex>", quality] pairs')
    out = []
    for position, frame in enumerate(frames):
        here = f"{where}[{position}]"
        if not isinstance(frame, list | tuple) or len(frame) != 2:
            raise HashParseError(here, 'a frame is a ["<pdq hex>", quality] pair')
        text, quality = frame
        if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
            raise HashParseError(here, "quality must be an integer 0..100")
        try:
            out.append((parse_hashes([text])[0], quality))
        except HashParseError as exc:
            raise HashParseError(here, exc.problem) from None
    return out


# -- schemas --------------------------------------------------------------------------------


def _hash_list_schema(description: str) -> Any:
    schema = {
        "type": "array",
        "items": {"type": "string", "description": "a hash in hex"},
        "maxItems": MAX_HASHES,
        "description": description,
    }
    return WithJsonSchema(schema)


class VideoIn(Schema):
    frames: Annotated[
        list[Any],
        WithJsonSchema(
            {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [
                        {"type": "string", "pattern": _HEX_PATTERN["pdq"]},
                        {"type": "integer", "minimum": 0, "maximum": 100},
                    ],
                    "minItems": 2,
                    "maxItems": 2,
                },
                "description": 'the upload\'s frames as ["<pdq hex>", quality] pairs',
            }
        ),
    ]


class MatchIn(Schema):
    hashes: Annotated[
        list[Any],
        _hash_list_schema("hashes to look up (hex), at most 1,000"),
    ] = Field(default_factory=list)
    signal_type: Literal["pdq", "md5", "sha256"] = "pdq"
    banks: list[int | str] | None = Field(
        None,
        description="bank ids or names to search (default: every bank you can see); "
        "allow-list banks you can see always apply",
    )
    radius: int | None = Field(
        None, ge=0, le=64, description="PDQ distance for every bank instead of its threshold"
    )
    videos: list[VideoIn] = Field(
        default_factory=list, description="videos matched whole by vPDQ's rule"
    )


class HitOut(Schema):
    bank: str
    bank_id: int
    entry_id: int
    external_id: str
    distance: int
    classification: str
    signal_type: str


class HashResultOut(Schema):
    hash: str
    matches: list[HitOut]
    suppressed: list[HitOut] = Field(
        description="matches hidden because an allow-list bank matched this hash"
    )
    allowed_by: list[HitOut] = Field(description="the allow-list hits that suppressed them")


class VideoHitOut(Schema):
    bank: str
    bank_id: int
    entry_id: int
    external_id: str
    banked_share: float
    frames_matched: int
    frames_total: int
    classification: str
    allow_list: bool


class VideoResultOut(Schema):
    matches: list[VideoHitOut]


class MatchOut(Schema):
    results: list[HashResultOut]
    videos: list[VideoResultOut] = []


class FrameOut(Schema):
    number: int
    quality: int
    pdq: str
    seconds: float | None


class HashOut(Schema):
    type: Literal["image", "video"]
    md5: str
    sha256: str
    width: int
    height: int
    pipeline: str
    pdq: str | None = None
    quality: int | None = None
    matchable: bool | None = None
    dihedral: list[str] = Field(
        default_factory=list, description="the 8 rotations and flips, original first"
    )
    unletterboxed_pdq: str | None = None
    unletterboxed_variants: list[str] = Field(default_factory=list)
    unletterboxed_dihedral: list[str] = Field(default_factory=list)
    frames: list[FrameOut] = Field(default_factory=list)
    warning: str | None = None


class BankIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    source: str = Field("", max_length=200)
    classification_scheme: Literal["categories", "baseline", "none"] = "categories"
    threshold: int = Field(31, ge=0, le=64)
    is_allow_list: bool = False
    enabled: bool = True


class BankPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    source: str | None = Field(None, max_length=200)
    classification_scheme: Literal["categories", "baseline", "none"] | None = None
    threshold: int | None = Field(None, ge=0, le=64)
    is_allow_list: bool | None = None
    enabled: bool | None = None


class BankOut(Schema):
    id: int
    name: str
    description: str
    source: str
    classification_scheme: str
    threshold: int
    is_allow_list: bool
    enabled: bool
    agency_id: int
    entries: int
    created_at: datetime
    updated_at: datetime


class EntryIn(Schema):
    signal_type: Literal["pdq", "md5", "sha256"] = "pdq"
    hash: str
    external_id: str = Field("", max_length=200)
    classification: str = ""
    note: str = ""


class EntryPatch(Schema):
    enabled: bool | None = None
    note: str | None = None
    classification: str | None = None


class EntryOut(Schema):
    id: int
    bank_id: int
    signal_type: str
    hash: str
    external_id: str
    source_list: str
    classification: str
    added_at: datetime
    added_by_id: int | None
    enabled: bool
    note: str
    frames: int = Field(description="frames of a vPDQ video (0 for other entries)")
    metadata: dict[str, Any]


class EntryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntryOut]


class EntryFilter(Schema):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10**9)
    enabled: bool | None = None
    external_id: str | None = Field(None, max_length=200, description="part of the id")
    hash: str | None = Field(None, max_length=64, description="a hash in hex (exact)")


class ImportText(Schema):
    text: str
    format: Literal["plain", "csv", "local_file", "vpdq"] | None = None
    signal_type: Literal["pdq", "md5", "sha256", "vpdq"] = "pdq"
    classification: str = ""
    source_name: str = Field("upload", max_length=200)


class ImportOut(Schema):
    added: int
    duplicates: int
    total: int
    errors: list[str]


class IndexStatusOut(Schema):
    entries: dict[str, int]
    banks: int
    cursor: int
    built_at: datetime | None
    synced_at: datetime | None
    memory_bytes: int
    lookups_total: int


# -- helpers --------------------------------------------------------------------------------


def _principal(request: HttpRequest, permission: str) -> Principal:
    return check(principal_of(request), permission)


def _bank_error(exc: BankError) -> ApiError:
    return ApiError(400, "invalid_request", str(exc))


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), content_type="application/json", status=status
    )


def _too_large(request: HttpRequest) -> None:
    """413 before Django reads a body over the cap (it would raise deep inside otherwise)."""
    limit = settings.HAVEN.max_upload_bytes
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "invalid_request", "Content-Length is not a number") from None
    if length > limit + 65_536:  # room for the multipart envelope around a file at the cap
        raise ApiError(413, "too_large", f"the request is larger than {limit:,} bytes")


def _bank_out(bank: Bank, entries: int | None = None) -> dict[str, Any]:
    count = entries if entries is not None else getattr(bank, "entry_count", None)
    if count is None:
        count = bank.entries.count()
    return {
        "id": bank.pk,
        "name": bank.name,
        "description": bank.description,
        "source": bank.source,
        "classification_scheme": bank.classification_scheme,
        "threshold": bank.threshold,
        "is_allow_list": bank.is_allow_list,
        "enabled": bank.enabled,
        "agency_id": bank.agency_id,
        "entries": count,
        "created_at": bank.created_at,
        "updated_at": bank.updated_at,
    }


def _entry_out(entry: BankEntry) -> dict[str, Any]:
    frames = len(bytes(entry.frames)) // services.FRAME_BYTES if entry.frames else 0
    metadata = {
        k: v for k, v in (entry.metadata or {}).items() if k not in ("frame_numbers", "seconds")
    }
    return {
        "id": entry.pk,
        "bank_id": entry.bank_id,
        "signal_type": entry.signal_type,
        "hash": bytes(entry.hash).hex(),
        "external_id": entry.external_id,
        "source_list": entry.source_list,
        "classification": entry.classification,
        "added_at": entry.added_at,
        "added_by_id": entry.added_by_id,
        "enabled": entry.enabled,
        "note": entry.note,
        "frames": frames,
        "metadata": metadata,
    }


def _hit(h: MatchHit) -> dict[str, Any]:
    return {
        "bank": h.bank,
        "bank_id": h.bank_id,
        "entry_id": h.entry_id,
        "external_id": h.external_id,
        "distance": h.distance,
        "classification": h.classification,
        "signal_type": h.signal_type,
    }


def _result(r: HashResult) -> dict[str, Any]:
    return {
        "hash": r.hash,
        "matches": [_hit(h) for h in r.matches],
        "suppressed": [_hit(h) for h in r.suppressed],
        "allowed_by": [_hit(h) for h in r.allowed_by],
    }


def _video_hit(v: VideoHit) -> dict[str, Any]:
    return {
        "bank": v.bank,
        "bank_id": v.bank_id,
        "entry_id": v.entry_id,
        "external_id": v.external_id,
        "banked_share": round(v.banked_share, 4),
        "frames_matched": v.frames_matched,
        "frames_total": v.frames_total,
        "classification": v.classification,
        "allow_list": v.allow_list,
    }


def _search_banks(principal: Principal, requested: list[int | str] | None) -> set[int]:
    """The banks a lookup searches: the requested ones (by id or name) within reach, plus
    the allow-list banks in reach, so naming banks cannot bypass an allow-list."""
    rows = visible_bank_rows(principal)
    if requested is None:
        return {pk for pk, _, _ in rows}
    by_id = {pk for pk, _, _ in rows}
    by_name: dict[str, list[int]] = {}
    for pk, name, _ in rows:
        by_name.setdefault(name, []).append(pk)
    chosen = {pk for pk, _, allow in rows if allow}
    for item in requested:
        if isinstance(item, int):
            if item not in by_id:
                raise ApiError(404, "not_found", f"no such bank: {item}")
            chosen.add(item)
            continue
        named = by_name.get(item, [])
        if len(named) > 1:
            raise ApiError(400, "invalid_request", f"bank name {item!r} is ambiguous; use its id")
        if named:
            chosen.add(named[0])
        elif item.isdigit() and int(item) in by_id:
            chosen.add(int(item))
        else:
            raise ApiError(404, "not_found", f"no such bank: {item!r}")
    return chosen


# -- matching and hashing -------------------------------------------------------------------


@router.post(
    "/match",
    response={200: MatchOut, **_READ_ERRORS},
    summary="Look hashes up in the banks",
    description=(
        "Up to 1,000 hashes of one signal type, and optionally whole videos as their "
        "frames. Each bank counts PDQ hits within its own threshold unless `radius` is "
        "given; an allow-list bank that matches a hash moves the other matches to "
        "`suppressed`. Only banks you can see are searched; naming another bank is a 404."
    ),
)
def match(request: HttpRequest, payload: MatchIn) -> HttpResponse:
    principal = _principal(request, "match")
    if len(payload.hashes) > MAX_HASHES:
        raise ApiError(
            400,
            "too_many_hashes",
            f"at most {MAX_HASHES:,} hashes per request, got {len(payload.hashes):,}",
        )
    if sum(len(v.frames) for v in payload.videos) > MAX_VIDEO_FRAMES:
        raise ApiError(400, "too_many_frames", f"at most {MAX_VIDEO_FRAMES:,} frames per request")
    try:
        hashes = parse_hashes(payload.hashes, payload.signal_type)
        videos = [
            _parse_frames(v.frames, f"videos[{i}].frames") for i, v in enumerate(payload.videos)
        ]
    except HashParseError as exc:
        raise ApiError(
            400, "malformed_hash", str(exc), [{"field": exc.where, "problem": exc.problem}]
        ) from None
    banks = _search_banks(principal, payload.banks)
    index = matcher()
    results = index.match(
        hashes, signal_type=payload.signal_type, bank_ids=banks, radius=payload.radius
    )
    body: dict[str, Any] = {"results": [_result(r) for r in results], "videos": []}
    for frames in videos:
        found = index.match_video(frames, bank_ids=banks)
        body["videos"].append({"matches": [_video_hit(v) for v in found]})
    return _json(body)


def _upload_doc(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {"file": {"type": "string", "format": "binary"}, **(extra or {})}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": properties}
                }
            },
        }
    }


def _uploaded_file(request: HttpRequest) -> UploadedFile:
    _too_large(request)
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ApiError(400, "invalid_request", "send the file as multipart/form-data field 'file'")
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(400, "invalid_request", "file: a multipart field 'file' is required")
    if upload.size is not None and upload.size > settings.HAVEN.max_upload_bytes:
        raise ApiError(
            413, "too_large", f"the file is larger than {settings.HAVEN.max_upload_bytes:,} bytes"
        )
    return upload


def _hash_record(upload: UploadedFile) -> dict[str, Any]:
    """Hash an upload with the engine; on disk only under the media folder, then gone."""
    from haven.scan.batch import ScanOptions, hash_file

    options = ScanOptions(dihedral=True, video_threads=1)
    if isinstance(upload, TemporaryUploadedFile):  # already spooled to media/incoming
        return hash_file(upload.temporary_file_path(), options)
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR or settings.HAVEN.media_dir)
    suffix = Path(upload.name or "").suffix
    suffix = suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""
    handle, name = tempfile.mkstemp(prefix="hash-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return hash_file(name, options)
    finally:
        Path(name).unlink(missing_ok=True)


@router.post(
    "/hash",
    response={200: HashOut, **_WRITE_ERRORS},
    summary="Hash an uploaded image or video (nothing is stored)",
    description=(
        "PDQ with quality, MD5, SHA-256, the rotations and flips, the hash without "
        "letterbox bars; or a video's sampled frames. Bad media is a 400 whose code is the "
        "engine's (`corrupt`, `truncated`, `decompression_bomb`, `not_media`, ...)."
    ),
    openapi_extra=_upload_doc(),
)
def hash_upload(request: HttpRequest) -> HttpResponse:
    _principal(request, "hash")
    upload = _uploaded_file(request)
    record = _hash_record(upload)
    if "error" in record:
        raise ApiError(400, str(record.get("code", "media_error")), str(record["error"]))
    record.pop("path", None)
    if record["type"] == "video":
        record["frames"] = [
            {"number": n, "quality": q, "pdq": pdq, "seconds": t}
            for n, q, pdq, t in record["frames"]
        ]
    body = HashOut.model_validate(record).model_dump()
    return _json(body)


# -- banks ----------------------------------------------------------------------------------


def _counted(query: QuerySet[Bank]) -> QuerySet[Bank]:
    return query.annotate(entry_count=Count("entries"))


@router.get("/banks", response={200: list[BankOut], **_READ_ERRORS}, summary="Banks you can see")
def list_banks(request: HttpRequest) -> list[dict[str, Any]]:
    principal = _principal(request, "banks:read")
    return [_bank_out(b) for b in _counted(services.visible_banks(principal))]


@router.post("/banks", response={201: BankOut, **_WRITE_ERRORS}, summary="Create a bank")
def create_bank(request: HttpRequest, payload: BankIn) -> Status[dict[str, Any]]:
    principal = _principal(request, "banks:write")
    try:
        bank = services.create_bank(principal, request=request, **payload.model_dump())
    except BankError as exc:
        raise _bank_error(exc) from None
    return Status(201, _bank_out(bank, 0))


@router.get("/banks/{bank_id}", response={200: BankOut, **_READ_ERRORS}, summary="One bank")
def get_bank(request: HttpRequest, bank_id: BankId) -> dict[str, Any]:
    principal = _principal(request, "banks:read")
    return _bank_out(services.get_bank(principal, bank_id))


@router.patch("/banks/{bank_id}", response={200: BankOut, **_WRITE_ERRORS}, summary="Change a bank")
def update_bank(request: HttpRequest, bank_id: BankId, payload: BankPatch) -> dict[str, Any]:
    principal = _principal(request, "banks:write")
    bank = services.get_bank(principal, bank_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    try:
        bank = services.update_bank(principal, bank, request=request, **changes)
    except BankError as exc:
        raise _bank_error(exc) from None
    return _bank_out(bank)


@router.get(
    "/banks/{bank_id}/entries",
    response={200: EntryPage, **_READ_ERRORS},
    summary="A bank's entries, a page at a time",
)
def list_entries(
    request: HttpRequest, bank_id: BankId, filters: Query[EntryFilter]
) -> dict[str, Any]:
    principal = _principal(request, "banks:read")
    bank = services.get_bank(principal, bank_id)
    query = bank.entries.all().order_by("pk")
    if filters.enabled is not None:
        query = query.filter(enabled=filters.enabled)
    if filters.external_id:
        if any(ord(ch) < 32 for ch in filters.external_id):
            raise ApiError(400, "invalid_request", "external_id: control characters")
        query = query.filter(external_id__icontains=filters.external_id)
    if filters.hash:
        text = filters.hash.strip()
        signal = "md5" if len(text) == 32 else "pdq"
        try:
            query = query.filter(hash=parse_hashes([text], signal, "hash")[0])
        except HashParseError as exc:
            raise ApiError(400, "malformed_hash", str(exc)) from None
    page = query[filters.offset : filters.offset + filters.limit]
    return {
        "count": query.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_entry_out(e) for e in page],
    }


@router.post(
    "/banks/{bank_id}/entries",
    response={201: EntryOut, **_WRITE_ERRORS},
    summary="Add one hash to a bank",
)
def add_entry(request: HttpRequest, bank_id: BankId, payload: EntryIn) -> Status[dict[str, Any]]:
    principal = _principal(request, "banks:write")
    bank = services.get_bank(principal, bank_id)
    try:
        entry = services.add_entry(
            principal,
            bank,
            signal_type=payload.signal_type,
            hash_hex=payload.hash,
            external_id=payload.external_id,
            classification=payload.classification,
            note=payload.note,
            request=request,
        )
    except BankError as exc:
        raise _bank_error(exc) from None
    return Status(201, _entry_out(entry))


@router.get(
    "/banks/{bank_id}/entries/{entry_id}",
    response={200: EntryOut, **_READ_ERRORS},
    summary="One entry",
)
def get_entry(request: HttpRequest, bank_id: BankId, entry_id: EntryId) -> dict[str, Any]:
    principal = _principal(request, "banks:read")
    bank = services.get_bank(principal, bank_id)
    return _entry_out(services.get_entry(principal, bank, entry_id))


@router.patch(
    "/banks/{bank_id}/entries/{entry_id}",
    response={200: EntryOut, **_WRITE_ERRORS},
    summary="Enable or disable an entry, or change its note or classification",
)
def update_entry(
    request: HttpRequest, bank_id: BankId, entry_id: EntryId, payload: EntryPatch
) -> dict[str, Any]:
    principal = _principal(request, "banks:write")
    bank = services.get_bank(principal, bank_id)
    entry = services.get_entry(principal, bank, entry_id)
    try:
        if payload.note is not None or payload.classification is not None:
            entry = services.update_entry(
                principal,
                entry,
                note=payload.note,
                classification=payload.classification,
                request=request,
            )
        if payload.enabled is not None:
            entry = services.set_entry_enabled(principal, entry, payload.enabled, request=request)
    except BankError as exc:
        raise _bank_error(exc) from None
    return _entry_out(entry)


_IMPORT_FIELDS = {
    "format": {"type": "string", "enum": list(FORMATS)},
    "signal_type": {"type": "string", "enum": ["pdq", "md5", "sha256", "vpdq"]},
    "classification": {"type": "string"},
}
_IMPORT_DOC = _upload_doc(_IMPORT_FIELDS)
_IMPORT_DOC["requestBody"]["content"]["application/json"] = {
    "schema": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "description": "the hash list itself"},
            "source_name": {"type": "string", "description": "names the list in entry ids"},
            **_IMPORT_FIELDS,
        },
    }
}


def _import_request(request: HttpRequest) -> ImportText:
    _too_large(request)
    if (request.content_type or "").startswith("multipart/form-data"):
        upload = _uploaded_file(request)
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_request", "file: not a UTF-8 text file") from None
        fields: dict[str, Any] = {
            k: v for k, v in request.POST.items() if k in _IMPORT_FIELDS and v != ""
        }
        fields.update(text=text, source_name=Path(upload.name or "upload").name[:200])
    elif request.content_type == "application/json":
        try:
            fields = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_request", "the body is not valid JSON") from None
        if not isinstance(fields, dict):
            raise ApiError(400, "invalid_request", "the body must be a JSON object")
    else:
        raise ApiError(
            400, "invalid_request", "send multipart/form-data with a 'file', or JSON with 'text'"
        )
    try:
        return ImportText.model_validate(fields)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ApiError(400, "invalid_request", f"{where}: {first.get('msg', 'invalid')}") from None


@router.post(
    "/banks/{bank_id}/import",
    response={200: ImportOut, **_WRITE_ERRORS},
    summary="Import a hash list (file upload or JSON text)",
    description=(
        "Formats: plain, csv, local_file (python-threatexchange), vpdq (one video). A bad "
        "line refuses the whole list; entries whose id the bank holds count as duplicates."
    ),
    openapi_extra=_IMPORT_DOC,
)
def import_list(request: HttpRequest, bank_id: BankId) -> dict[str, Any]:
    principal = _principal(request, "banks:write")
    bank = services.get_bank(principal, bank_id)
    given = _import_request(request)
    try:
        result = services.import_hash_list(
            principal,
            bank,
            given.text,
            given.source_name,
            format=given.format,
            signal_type=given.signal_type,
            classification=given.classification,
            request=request,
        )
    except BankError as exc:
        raise _bank_error(exc) from None
    return {
        "added": result.added,
        "duplicates": result.duplicates,
        "total": result.total,
        "errors": result.errors,
    }


class ExportQuery(Schema):
    format: Literal["csv", "plain", "local_file", "vpdq"] = "csv"
    entry: int | None = Field(None, ge=1, le=MAX_ID, description="the vPDQ entry to export")
    include_disabled: bool = False


_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}


@router.get(
    "/banks/{bank_id}/export",
    response={200: str, **_READ_ERRORS},
    summary="Export a bank as a hash list",
    openapi_extra={
        "responses": {
            200: {
                "description": "the hash list",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    **_TEXT["content"],
                },
            }
        }
    },
)
def export(request: HttpRequest, bank_id: BankId, params: Query[ExportQuery]) -> HttpResponse:
    principal = _principal(request, "banks:export")
    bank = services.get_bank(principal, bank_id)
    try:
        text = services.export_bank(
            principal,
            bank,
            format=params.format,
            request=request,
            include_disabled=params.include_disabled,
            entry_id=params.entry,
        )
    except BankError as exc:
        raise _bank_error(exc) from None
    kind = "text/csv" if params.format == "csv" else "text/plain"
    suffix = {"csv": "csv", "vpdq": "vpdq.txt"}.get(params.format, "txt")
    response = HttpResponse(text, content_type=f"{kind}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bank-{bank.pk}.{suffix}"'
    return response


@router.get(
    "/index",
    response={200: IndexStatusOut, **_READ_ERRORS},
    summary="The matcher's index in this server process",
)
def index_status(request: HttpRequest) -> dict[str, Any]:
    _principal(request, "index:read")
    status = matcher().status()
    return {
        "entries": status.entries,
        "banks": status.banks,
        "cursor": status.cursor,
        "built_at": status.built_at,
        "synced_at": status.synced_at,
        "memory_bytes": status.memory_bytes,
        "lookups_total": status.lookups_total,
    }

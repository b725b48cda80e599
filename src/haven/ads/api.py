"""`POST /api/v1/text/scan`: entities, indicators and a triage score for a batch of texts.

Stateless: nothing of the texts is stored or logged, so a provider can scan every ad or
post on its platform and keep only what it acts on. Items are checked one by one and the
first bad one is named (`items[3].region`); the whole batch is refused, so a client never
has to guess which results are missing.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from haven.accounts.permissions import check, principal_of
from haven.ads.reader import MAX_TEXT_CHARS, is_encodable
from haven.ads.scanning import ScanInputError, check_lang, check_region, scan_text
from haven.web.errors import ApiError, ErrorResponse

__all__ = ["MAX_SCAN_CHARS", "MAX_SCAN_ITEMS", "router"]

router = Router(tags=["text signals"])

MAX_SCAN_ITEMS = 1000
MAX_SCAN_CHARS = 2_000_000  # about 1,000 long ads: bounds one request's CPU time
_E = ErrorResponse


class ScanItem(Schema):
    id: str | int = Field(description="the caller's id for the text; echoed in the result")
    text: str = Field(description=f"the text as posted, at most {MAX_TEXT_CHARS:,} characters")
    lang: str | None = Field(
        None, description="en, fr, es or pt; omitted: cues of every language are tried"
    )
    region: str | None = Field(
        None,
        description=(
            "ISO country assumed for phone numbers written without a country code; "
            "omitted: the node's HAVEN_PHONE_REGION"
        ),
    )


class ScanIn(Schema):
    items: list[ScanItem] = Field(description=f"1 to {MAX_SCAN_ITEMS:,} texts")


class EntityOut(Schema):
    type: str = Field(description="phone, email, handle, url, domain, wallet, price, age, city")
    value: str = Field(description="the text as posted (the span's slice)")
    normalized: str = Field(description="phones in E.164, e-mails lower case, ...")
    span: list[int] = Field(description="[start, end) in characters of the posted text")
    obscured: bool = Field(description="found only after undoing obfuscation")


class IndicatorOut(Schema):
    id: str
    category: str
    grade: str = Field(description="V validated, H hypothesised, X contested, N negative")
    span: list[int]
    reason: str


class ScanResultOut(Schema):
    id: str | int
    entities: list[EntityOut]
    indicators: list[IndicatorOut]
    score: float = Field(description="0-100 triage score: evidence for a reviewer, no verdict")
    reasons: list[str]


class ScanOut(Schema):
    results: list[ScanResultOut]


@router.post(
    "/text/scan",
    response={200: ScanOut, 400: _E, 401: _E, 403: _E, 413: _E},
    summary="Scan texts for contacts and trafficking indicators",
    description=(
        "Phones come back in E.164 with `obscured` when they were spelled out, leetspoken or "
        "split by symbols; every indicator hit has its span and the reason it counts. The "
        "score weights validated indicators over hypothesised and contested ones and is "
        "lowered by negative ones. Nothing is stored."
    ),
)
def scan(request: HttpRequest, payload: ScanIn) -> HttpResponse:
    check(principal_of(request), "text:scan")
    items = payload.items
    if not items:
        raise ApiError.field("items", "give at least one item")
    if len(items) > MAX_SCAN_ITEMS:
        raise ApiError(
            400,
            "too_many_items",
            f"at most {MAX_SCAN_ITEMS:,} items per request, got {len(items):,}",
        )
    total = sum(len(item.text) for item in items)
    if total > MAX_SCAN_CHARS:
        raise ApiError(
            413,
            "too_large",
            f"at most {MAX_SCAN_CHARS:,} characters of text per request, got {total:,}",
        )
    default_region = settings.HAVEN.phone_region
    seen: set[str] = set()
    checked: list[tuple[str | int, str, str | None, str]] = []
    surrogate = "is not valid Unicode (it holds a lone surrogate)"
    for position, item in enumerate(items):
        where = f"items[{position}]"
        key = str(item.id)
        if not key.strip() or len(key) > 200:
            raise ApiError.field(f"{where}.id", "must be 1 to 200 characters")
        if not is_encodable(key):
            raise ApiError.field(f"{where}.id", surrogate)
        if key in seen:
            raise ApiError.field(f"{where}.id", f"repeats the id {key[:40]!r}")
        seen.add(key)
        if len(item.text) > MAX_TEXT_CHARS:
            raise ApiError.field(f"{where}.text", f"is longer than {MAX_TEXT_CHARS:,} characters")
        if not is_encodable(item.text):
            raise ApiError.field(
                f"{where}.text", "is not valid Unicode (it holds a lone surrogate)"
            )
        try:
            lang = check_lang(item.lang, f"{where}.lang")
            region = check_region(item.region, f"{where}.region", default_region)
        except ScanInputError as exc:
            raise ApiError.field(exc.field, exc.problem) from None
        checked.append((item.id, item.text, lang, region))
    results: list[dict[str, Any]] = []
    for ident, text, lang, region in checked:
        results.append({"id": ident, **scan_text(text, lang=lang, region=region).as_json()})
    body = json.dumps({"results": results}, separators=(",", ":"), ensure_ascii=False)
    return HttpResponse(body, content_type="application/json")

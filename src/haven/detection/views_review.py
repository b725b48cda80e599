"""The review queue's pages: blurred previews, one audited reveal at a time, the decisions.

Reviewers' wellness is a hard rule (DESIGN.md): the browser never receives a held upload's
bytes, or anything decoded from them that is not greyscale and heavily blurred, until the
reviewer reveals that one item. The previews are therefore made here, on the server, from
the vault's bytes (`haven.banks.preview`); the original is served only by `review_file`,
against the live grant `haven.detection.review.reveal` issued (short-lived, one item per
reviewer, audited, and each serving written into the item's custody log by `open_item`).

The views stay thin: `haven.detection.review` decides, audits and runs the chain behind
each decision; a refusal (`ReviewError`) becomes a message on the page, never a traceback,
and a review outside the principal's reach answers 404.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from numpy.typing import NDArray
from PIL import Image

from haven.accounts.permissions import PermissionDenied, Principal, principal_of, require
from haven.audit.services import record
from haven.banks.preview import UploadStore, image_preview, sample_frames, video_strip
from haven.detection import review as reviews
from haven.detection.models import SURFACES, Review, UploaderAccount
from haven.detection.policies import Quality, bank_quality
from haven.detection.uploaders import is_repeat_offender
from haven.evidence.services import EvidenceError, read_unseen

__all__ = [
    "QUEUE_SIZE",
    "review_blur",
    "review_decide",
    "review_file",
    "review_item",
    "review_queue",
    "review_reveal",
    "review_thumb",
]

log = logging.getLogger(__name__)

QUEUE_SIZE = 50
BREAK_LENGTH_MINUTES = 5
REVEALED_FRAMES = 6
REVEALED_FRAME_SIDE = 360
_SERVABLE_IMAGES = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"}
_ACTIONS = ("confirm", "escalate", "false_positive")


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has already sent anonymous requests to sign in
        raise Http404("not signed in")
    return principal


def _break_minutes() -> float:
    return float(settings.HAVEN.review_break_minutes)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages and images here show (blurred) previews of possibly abusive media: never cache.
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return _no_store(
        render(request, "web/error.html", {"title": "Forbidden", "message": message}, status=403)
    )


# --- blurred previews from the vault ---------------------------------------------------------


def _sealed_bytes(review: Review) -> bytes | None:
    """The held file's bytes, for making its *blurred* preview only.

    This reads the vault with `read_unseen`, not `open_item`, so no "viewed" custody event
    is written: nobody sees these bytes. They stay in this process just long enough to be
    decoded, greyscaled, shrunk and blurred; only that blurred JPEG leaves the server.
    Every unblurred view goes through `reviews.revealed_bytes`, which records custody.
    """
    item = review.evidence
    if item is None:
        return None
    try:
        return read_unseen(item)
    except EvidenceError as exc:  # purged, or the vault refused it
        log.warning("review %s: evidence %s cannot be opened: %s", review.pk, item.pk, exc)
        return None


def _is_video(review: Review) -> bool:
    return review.content.media == "video" or (
        review.evidence is not None and review.evidence.media_type.startswith("video")
    )


@contextlib.contextmanager
def _scratch(data: bytes) -> Iterator[Path]:
    """A video's plaintext as a 0600 file for FFmpeg, under the media folder; removed on exit.

    Nothing else unblurred is ever written to disk: images are decoded in memory.
    """
    store = UploadStore(Path(settings.HAVEN.media_dir) / "review-scratch")
    with store.scratch(data) as path:
        yield path


@dataclass(frozen=True, slots=True)
class Blurred:
    """Blurred greyscale previews of one item (`src` data URIs), or why there are none."""

    srcs: tuple[tuple[str, int, int, str], ...] = ()
    note: str = ""


def _blurred(review: Review, *, frames: int) -> Blurred:
    data = _sealed_bytes(review)
    if data is None:
        if review.evidence_id is None:
            return Blurred(note="the provider sent hashes only: there is no file to preview")
        return Blurred(note="the file cannot be opened (purged or damaged)")
    try:
        if _is_video(review):
            with _scratch(data) as path:
                previews = video_strip(path, frames=frames)
        else:
            previews = [image_preview(data)]
    except Exception:  # hostile input reaching a decoder must still get a page
        log.exception("review %s: no preview", review.pk)
        return Blurred(note="no preview could be made")
    if not previews:
        return Blurred(note="no preview could be made")
    return Blurred(tuple((p.src, p.width, p.height, p.label) for p in previews))


# --- the queue --------------------------------------------------------------------------------


@dataclass(slots=True)
class MatchLine:
    bank_id: int
    bank: str
    external_id: str
    signal: str
    via: str
    distance: int | None
    classification: str
    status: str
    share: str
    quality: Quality = field(default_factory=Quality)

    @property
    def score(self) -> str:
        score = self.quality.score
        return "no decisions yet" if score is None else f"{score:.0%}"


@dataclass(slots=True)
class Row:
    review: Review
    matches: list[MatchLine]
    uploader: UploaderAccount | None
    surface: str

    @property
    def repeat_offender(self) -> bool:
        return self.uploader is not None and is_repeat_offender(self.uploader)

    @property
    def waiting_since(self) -> datetime:
        return self.review.created_at


_SURFACES = dict(SURFACES)


def _match_lines(review: Review, quality: dict[int, Quality]) -> list[MatchLine]:
    lines = []
    for m in review.content.matches:
        if not isinstance(m, dict) or m.get("status") == "allow-list":
            continue
        bank_id = int(m.get("bank_id") or 0)
        lines.append(
            MatchLine(
                bank_id=bank_id,
                bank=str(m.get("bank", "")),
                external_id=str(m.get("external_id", "")),
                signal=str(m.get("signal_type", "")).upper(),
                via=str(m.get("via", "")),
                distance=m.get("distance"),
                classification=str(m.get("classification", "")),
                status=str(m.get("status", "match")),
                share=str(m.get("share", "")),
                quality=quality.get(bank_id, Quality()),
            )
        )
    return lines


def _rows(reviews_: list[Review]) -> list[Row]:
    bank_ids = {
        int(m.get("bank_id") or 0)
        for r in reviews_
        for m in r.content.matches
        if isinstance(m, dict)
    }
    quality = bank_quality(bank_ids)
    wanted = {(r.agency_id, r.content.uploader_account) for r in reviews_}
    accounts = {
        (a.agency_id, a.account_id): a
        for a in UploaderAccount.objects.filter(
            agency_id__in={agency for agency, _ in wanted},
            account_id__in={account for _, account in wanted if account},
        )
    }
    return [
        Row(
            review=r,
            matches=_match_lines(r, quality),
            uploader=accounts.get((r.agency_id, r.content.uploader_account)),
            surface=_SURFACES.get(r.content.surface, r.content.surface),
        )
        for r in reviews_
    ]


def _decided(principal: Principal) -> QuerySet[Review]:
    return (
        reviews.queue(principal, "confirmed") | reviews.queue(principal, "false_positive")
    ).order_by("-decided_at", "-pk")


def _in_state(principal: Principal, state: str) -> QuerySet[Review]:
    return _decided(principal) if state == "decided" else reviews.queue(principal, "pending")


@require("review")
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    state = "decided" if request.GET.get("state") == "decided" else "pending"
    found = _in_state(principal, state)
    shown = list(found[:QUEUE_SIZE])
    return _no_store(
        render(
            request,
            "detection/review_queue.html",
            {
                "state": state,
                "rows": _rows(shown),
                "total": found.count(),
                "pending_count": reviews.queue(principal, "pending").count(),
                "queue_size": QUEUE_SIZE,
                "break_minutes": _break_minutes(),
                "break_length": BREAK_LENGTH_MINUTES,
            },
        )
    )


@require("review")
@require_GET
def review_thumb(request: HttpRequest, pk: int) -> HttpResponse:
    """A queue thumbnail: only ever a blurred greyscale JPEG, made from the vault's bytes."""
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    blurred = _blurred(review, frames=1)
    if not blurred.srcs:
        raise Http404(blurred.note)
    jpeg = base64.b64decode(blurred.srcs[0][0].partition(",")[2])
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Content-Disposition"] = "inline"
    return _no_store(response)


# --- one item ---------------------------------------------------------------------------------


def _neighbours(principal: Principal, review: Review) -> tuple[int | None, int | None]:
    """The items before and after this one in its queue (pending, or decided)."""
    state = "pending" if review.state == "pending" else "decided"
    pks = list(_in_state(principal, state).values_list("pk", flat=True)[:2000])
    if review.pk not in pks:
        return (None, pks[0] if pks else None)
    at = pks.index(review.pk)
    before = pks[at - 1] if at > 0 else None
    after = pks[at + 1] if at + 1 < len(pks) else None
    return before, after


def _report_link(review: Review) -> str:
    if not review.report_draft:
        return ""
    return reverse("detection:report-draft", args=[review.pk])


def _render_item(
    request: HttpRequest,
    principal: Principal,
    review: Review,
    *,
    revealed_url: str = "",
    revealed_until: str = "",
    exif: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    (row,) = _rows([review])
    before, after = _neighbours(principal, review)
    evidence = review.evidence
    context: dict[str, Any] = {
        "review": review,
        "row": row,
        "content": review.content,
        "evidence": evidence,
        "metadata": sorted((evidence.metadata if evidence is not None else {}).items()),
        "is_video": _is_video(review),
        # The previews are rendered only while the item is blurred: a revealed page needs
        # none, and rendering them costs a decode.
        "blurred": _blurred(review, frames=6) if not revealed_url else Blurred(),
        "revealed_url": revealed_url,
        "revealed_until": revealed_until,
        "reveal_seconds": reviews.REVEAL_SECONDS,
        "exif": exif,
        "can_reveal": principal.can("media:reveal") and review.evidence_id is not None,
        "classifications": reviews.CLASSIFICATIONS,
        "previous_url": reverse("detection:review-item", args=[before]) if before else "",
        "next_url": reverse("detection:review-item", args=[after]) if after else "",
        "queue_url": reverse("detection:review-queue"),
        "pending_count": reviews.queue(principal, "pending").count(),
        "report_url": _report_link(review),
        "posted": request.POST if request.method == "POST" else {},
        "break_minutes": _break_minutes(),
        "break_length": BREAK_LENGTH_MINUTES,
    }
    return _no_store(render(request, "detection/review_item.html", context, status=status))


@require("review")
@require_GET
def review_item(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    record(
        "review.view",
        request=request,
        principal=principal,
        target_type="review",
        target_id=review.pk,
        detail={"state": review.state},
    )
    return _render_item(request, principal, review)


@require("review")
@require_POST
def review_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal this one item (revoking any other reveal): the file, or with exif=1 its EXIF."""
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    want_exif = request.POST.get("exif") == "1"
    try:
        granted = reviews.reveal(principal, review, exif=want_exif)
        if want_exif:
            tags = reviews.exif_of(principal, review, granted.token)
            return _render_item(request, principal, review, exif=tags)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except (reviews.ReviewError, EvidenceError) as exc:
        messages.error(request, str(exc))
        return redirect("detection:review-item", pk=review.pk)
    url = reverse("detection:review-file", args=[review.pk]) + f"?t={granted.token}"
    return _render_item(
        request, principal, review, revealed_url=url, revealed_until=granted.expires_at_iso
    )


@require("review")
@require_POST
def review_blur(request: HttpRequest, pk: int) -> HttpResponse:
    """Blur again: end this reviewer's reveals now, before their grant would expire."""
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    reviews.end_reveals(principal)
    return redirect("detection:review-item", pk=review.pk)


def _image_type(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
    except Exception:  # not an image Pillow reads: the caller decides
        return None
    return Image.MIME.get(kind) if kind in _SERVABLE_IMAGES else None


def _revealed_frame(frame: Any) -> NDArray[np.uint8]:
    image = Image.fromarray(np.asarray(frame.to_ndarray(format="rgb24")))
    image.thumbnail((REVEALED_FRAME_SIDE, REVEALED_FRAME_SIDE))
    return np.asarray(image.convert("RGB"))


def _sample_frames(path: Path) -> list[NDArray[np.uint8]]:
    """A revealed video's key frames, in colour, spread over it like the blurred strip."""
    kept = sample_frames(path, frames=REVEALED_FRAMES, convert=_revealed_frame)
    return [pixels for _, pixels in kept]


def _frame_sheet(data: bytes) -> bytes:
    """A revealed video: its key frames unblurred, side by side in one JPEG (no audio)."""
    with _scratch(data) as path:
        frames = _sample_frames(path)
    if not frames:
        raise reviews.ReviewError("no frame of this video could be decoded")
    height = max(f.shape[0] for f in frames)
    width = sum(f.shape[1] for f in frames) + 4 * (len(frames) - 1)
    sheet = Image.new("RGB", (width, height), (0, 0, 0))
    x = 0
    for f in frames:
        sheet.paste(Image.fromarray(f), (x, 0))
        x += f.shape[1] + 4
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=85)
    return out.getvalue()


@require("review")
@require_GET
def review_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The unblurred file (a video: its key frames), only against a live grant for it."""
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    token = request.GET.get("t", "")
    try:
        data = reviews.revealed_bytes(principal, review, token)
        content_type = _image_type(data)
        if content_type is None:
            if not _is_video(review):
                raise reviews.ReviewError("this file is neither an image nor a video")
            data, content_type = _frame_sheet(data), "image/jpeg"
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except (reviews.ReviewError, EvidenceError) as exc:
        return _forbidden(request, str(exc))
    except Exception:  # a decoder failing on hostile input: a refusal, never a traceback
        log.exception("review %s: the revealed video could not be decoded", review.pk)
        return _forbidden(request, "this video could not be decoded")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _no_store(response)


# --- decisions --------------------------------------------------------------------------------


def _next_pending(principal: Principal, after: Review) -> str:
    following = reviews.queue(principal, "pending").exclude(pk=after.pk).first()
    if following is None:
        return reverse("detection:review-queue")
    return reverse("detection:review-item", args=[following.pk])


def _refuse(
    request: HttpRequest, principal: Principal, review: Review, message: str
) -> HttpResponse:
    messages.error(request, message)
    return _render_item(request, principal, review, status=400)


@require("review")
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, escalate (a confirmation with a reason) or mark a false positive."""
    principal = _principal(request)
    review = reviews.get_review(principal, pk)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    if action not in _ACTIONS:
        return _refuse(request, principal, review, "Choose confirm, escalate or false positive.")
    try:
        if action == "false_positive":
            decided = reviews.false_positive(
                principal, review, note=note, allow_list=request.POST.get("allow_list") == "on"
            )
            done = "Marked a false positive: the upload is released."
        else:
            classification = request.POST.get("classification", "")
            reason = request.POST.get("reason", "").strip()
            if action == "escalate" and not reason:
                return _refuse(
                    request, principal, review, "Say why this is escalated (the danger to a child)."
                )
            if classification not in reviews.CLASSIFICATIONS:
                choices = ", ".join(reviews.CLASSIFICATIONS)
                return _refuse(request, principal, review, f"Choose a classification: {choices}.")
            decided = reviews.confirm(
                principal,
                review,
                classification=classification,
                note=note,
                escalation_reason=reason if action == "escalate" else "",
            )
            done = (
                "Confirmed and escalated: its report has the highest priority."
                if decided.escalated
                else f"Confirmed as {classification}: the upload is removed."
            )
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except reviews.ReviewError as exc:
        return _refuse(request, principal, review, str(exc))
    messages.success(request, done)
    return redirect(_next_pending(principal, decided))

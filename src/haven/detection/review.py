"""The review queue: reveals that are audited and one at a time, and the reviewer's decisions.

A reviewer sees blurred greyscale previews (rendered on the server) until they ask to
reveal one item. A reveal is a short-lived grant for that one item; granting it revokes the
reviewer's other grants, so never more than one item is revealed at once. The unblurred
bytes are served only against a live grant, each time through the evidence vault, which
writes the viewing into the item's custody log. Whether a person saw the file (and its
EXIF) is kept on the review and goes into the report as such.

A decision runs the rest of the chain in one place:
- confirm: the uploader's history, the "removed here" bank (re-uploads are blocked), the
  provider's removal hook, and the draft report;
- false positive: the upload is released (the provider is told through its hook), the
  bank's quality counts it, and optionally the file goes on an allow-list;
- escalate: a confirmation whose report is marked for the highest priority.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from haven.accounts.permissions import (
    Principal,
    check,
    get_visible_or_404,
    system_principal,
    visible,
)
from haven.audit.services import record
from haven.banks.models import Bank
from haven.banks.services import BankError, add_entry
from haven.detection.models import RevealGrant, Review, ScannedContent
from haven.detection.removal import notify_provider
from haven.detection.removed_here import add_removed
from haven.detection.reporting import build_draft
from haven.detection.uploaders import bump
from haven.evidence.services import open_item

__all__ = [
    "CLASSIFICATIONS",
    "FALSE_POSITIVES",
    "REVEAL_SECONDS",
    "ReviewError",
    "confirm",
    "end_reveals",
    "exif_of",
    "false_positive",
    "get_review",
    "queue",
    "reveal",
    "revealed_bytes",
]

REVEAL_SECONDS = 120
CLASSIFICATIONS = ("A1", "A2", "B1", "B2")
FALSE_POSITIVES = "False positives"
ESCALATED_PRIORITY = 100


class ReviewError(ValueError):
    """A review action this node refuses; the message says why."""


def queue(principal: Principal, state: str = "pending") -> QuerySet[Review]:
    """The reviews a principal may work on, most urgent first."""
    found = visible(Review.objects.all(), check(principal, "review"))
    return found.filter(state=state).select_related("content", "evidence")


def get_review(principal: Principal, pk: int) -> Review:
    return get_visible_or_404(
        Review.objects.select_related("content", "evidence"), check(principal, "review"), pk=pk
    )


def _pending(review_pk: int) -> Review:
    review = Review.objects.select_for_update().select_related("content").get(pk=review_pk)
    if review.state != "pending":
        raise ReviewError(f"this item was decided already ({review.state} by {review.decided_by})")
    return review


# --- reveals ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reveal:
    token: str
    expires_at_iso: str


def reveal(principal: Principal, review: Review, *, exif: bool = False) -> Reveal:
    """Grant this reviewer a short look at one item, revoking their other grants."""
    check(principal, "media:reveal")
    check(principal, "review")
    if review.evidence_id is None:
        raise ReviewError("the provider sent hashes only: there is no file to reveal")
    if principal.user_id is None:
        raise ReviewError("only a signed-in person can reveal a file")
    now = timezone.now()
    with transaction.atomic():
        RevealGrant.objects.filter(user_id=principal.user_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
        grant = RevealGrant.objects.create(
            review=review,
            user_id=principal.user_id,
            token=secrets.token_urlsafe(32),
            kind="exif" if exif else "file",
            expires_at=now + timedelta(seconds=REVEAL_SECONDS),
        )
        field = "exif_viewed" if exif else "viewed"
        Review.objects.filter(pk=review.pk).update(**{field: True})
        setattr(review, field, True)
        record(
            "review.reveal_exif" if exif else "review.reveal",
            principal=principal,
            target_type="review",
            target_id=review.pk,
            detail={"evidence": review.evidence_id},
        )
    return Reveal(grant.token, grant.expires_at.isoformat())


def end_reveals(principal: Principal) -> int:
    """Blur again: end every grant the reviewer holds now (how many were live)."""
    if principal.user_id is None:
        return 0
    return RevealGrant.objects.filter(user_id=principal.user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _live_grant(principal: Principal, token: str, kind: str) -> RevealGrant:
    if principal.user_id is None:
        raise ReviewError("only a signed-in person can see a revealed file")
    grant = RevealGrant.objects.filter(token=token, user_id=principal.user_id).first()
    if grant is None or grant.revoked_at is not None or grant.expires_at <= timezone.now():
        raise ReviewError("this reveal has ended; reveal the item again")
    if grant.kind != kind:
        raise ReviewError(f"this reveal shows the {grant.kind} only")
    return grant


def _open(principal: Principal, review: Review, token: str, kind: str) -> bytes:
    grant = _live_grant(principal, token, kind)
    if grant.review_id != review.pk or review.evidence_id is None:
        raise ReviewError("this reveal is for another item")
    reason = f"review {review.pk}: " + ("reveal" if kind == "file" else "EXIF shown, not the file")
    _, data = open_item(principal, review.evidence_id, reason=reason)
    return data


def revealed_bytes(principal: Principal, review: Review, token: str) -> bytes:
    """The unblurred file, against a live grant for exactly this review (custody-logged)."""
    check(principal, "media:reveal")
    return _open(principal, review, token, "file")


def exif_of(principal: Principal, review: Review, token: str) -> dict[str, str]:
    """The file's EXIF tags as text, against a live grant (the reveal recorded the viewing)."""
    from PIL import ExifTags, Image

    check(principal, "media:reveal")
    data = _open(principal, review, token, "exif")
    try:
        with Image.open(io.BytesIO(data)) as image:
            tags = image.getexif()
    except Exception:  # a video, or no readable EXIF: nothing to show
        return {}
    return {
        str(ExifTags.TAGS.get(tag, tag)): str(value)[:200]
        for tag, value in tags.items()
        if not isinstance(value, bytes)
    }


# --- decisions ---------------------------------------------------------------------------


def confirm(
    principal: Principal,
    review: Review,
    *,
    classification: str,
    note: str = "",
    escalation_reason: str = "",
) -> Review:
    """Confirm the match: removal, re-upload blocking, history and the draft report."""
    check(principal, "review")
    if classification not in CLASSIFICATIONS:
        raise ReviewError(f"choose a classification: one of {', '.join(CLASSIFICATIONS)}")
    escalation_reason = escalation_reason.strip()[:500]
    with transaction.atomic():
        review = _pending(review.pk)
        content = review.content
        review.state = "confirmed"
        review.classification = classification
        review.note = note.strip()[:5000]
        review.decided_by = principal.actor
        review.decided_at = timezone.now()
        review.escalated = bool(escalation_reason)
        review.escalation_reason = escalation_reason
        if review.escalated:
            review.priority = ESCALATED_PRIORITY
        ScannedContent.objects.filter(pk=content.pk).update(decision="block")
        content.decision = "block"
        bump(content, "confirmed")
        add_removed(content, classification)
        notify_provider(content, "remove", "confirmed by a reviewer")
        if content.policy.get("report", True):
            review.report_draft = build_draft(review, principal)
        review.save()
        record(
            "review.escalate" if review.escalated else "review.confirm",
            principal=principal,
            target_type="review",
            target_id=review.pk,
            detail={"classification": classification, "content": content.pk},
        )
    return review


def _allow_list(content: ScannedContent, principal: Principal) -> None:
    keeper = system_principal(content.agency_id, "false-positives")
    bank = Bank.objects.filter(agency_id=content.agency_id, name=FALSE_POSITIVES).first()
    if bank is None:
        bank = Bank.objects.create(
            agency_id=content.agency_id,
            name=FALSE_POSITIVES,
            is_allow_list=True,
            source="this node: matches its reviewers marked false positive",
            description="A match here suppresses matches in the other banks.",
        )
    for signal in ("pdq", "md5"):
        value = content.hashes.get(signal)
        if not value:
            continue
        try:
            add_entry(
                keeper,
                bank,
                signal_type=signal,
                hash_hex=str(value),
                external_id=f"content:{content.content_id}:{signal}"[:200],
                note=f"marked false positive by {principal.actor}",
            )
        except BankError:
            continue


def false_positive(
    principal: Principal, review: Review, *, note: str = "", allow_list: bool = False
) -> Review:
    """Release the upload; the bank's quality counts the miss; optionally allow-list it."""
    check(principal, "review")
    with transaction.atomic():
        review = _pending(review.pk)
        content = review.content
        review.state = "false_positive"
        review.note = note.strip()[:5000]
        review.decided_by = principal.actor
        review.decided_at = timezone.now()
        review.save()
        ScannedContent.objects.filter(pk=content.pk).update(decision="allow")
        content.decision = "allow"
        if allow_list:
            _allow_list(content, principal)
        notify_provider(content, "release", "a reviewer found no match")
        record(
            "review.false_positive",
            principal=principal,
            target_type="review",
            target_id=review.pk,
            detail={"content": content.pk, "allow_list": allow_list},
        )
    return review

"""Appeals: an uploader contests a decision, and a second reviewer decides.

The provider forwards the uploader's appeal through the scan API. A reviewer other than
the one who decided looks again; an overturned decision restores the content (the hook is
told), withdraws the "removed here" entries, flags the bank entries behind the match (they
count against the bank's quality) and takes the confirmation off the uploader's history.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haven.accounts.permissions import Principal, check
from haven.audit.services import record
from haven.banks.models import BankEntry
from haven.detection.models import Appeal, Review, ScannedContent, UploaderAccount
from haven.detection.removal import notify_provider
from haven.detection.removed_here import withdraw_removed

__all__ = ["AppealError", "decide_appeal", "file_appeal"]

MAX_STATEMENT = 5000


class AppealError(ValueError):
    """An appeal this node refuses; the message says why."""


def file_appeal(principal: Principal, content: ScannedContent, statement: str) -> Appeal:
    """Record the uploader's appeal against the decision on `content`."""
    check(principal, "scan")
    statement = statement.strip()
    if not statement:
        raise AppealError("say what the uploader contests: the statement is empty")
    if len(statement) > MAX_STATEMENT:
        raise AppealError(f"the statement is longer than {MAX_STATEMENT} characters")
    review = Review.objects.filter(content=content).first()
    if review is None or review.state != "confirmed":
        raise AppealError("only a reviewer's confirmed decision can be appealed")
    if review.appeals.filter(state="pending").exists():
        raise AppealError("an appeal against this decision is already waiting")
    if review.appeals.exists():
        raise AppealError("this decision was appealed and decided already")
    with transaction.atomic():
        appeal = Appeal.objects.create(
            agency_id=content.agency_id, review=review, statement=statement
        )
        record("appeal.filed", principal=principal, target_type="appeal", target_id=appeal.pk)
    return appeal


def decide_appeal(principal: Principal, appeal: Appeal, *, overturn: bool, note: str) -> Appeal:
    """A second reviewer upholds or overturns the decision."""
    check(principal, "review")
    note = note.strip()
    if not note:
        raise AppealError("say why: the uploader's statement of reasons quotes it")
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update().select_related("review__content").get(pk=appeal.pk)
        )
        if appeal.state != "pending":
            raise AppealError(f"this appeal was decided already ({appeal.state})")
        review = appeal.review
        if review.decided_by == principal.actor:
            raise AppealError("a second reviewer decides an appeal, not the one who decided")
        appeal.state = "overturned" if overturn else "upheld"
        appeal.decided_by = principal.actor
        appeal.decided_at = timezone.now()
        appeal.note = note[:5000]
        appeal.save()
        if overturn:
            _overturn(review)
        record(
            f"appeal.{appeal.state}",
            principal=principal,
            target_type="appeal",
            target_id=appeal.pk,
            detail={"review": review.pk},
        )
    return appeal


def _overturn(review: Review) -> None:
    content = review.content
    now = timezone.now()
    ScannedContent.objects.filter(pk=content.pk).update(decision="allow", restored_at=now)
    content.decision, content.restored_at = "allow", now
    withdraw_removed(content)
    for entry in BankEntry.objects.filter(pk__in=review.bank_matches.values("entry_id")):
        entry.metadata = {
            **entry.metadata,
            "overturned": int(entry.metadata.get("overturned", 0)) + 1,
        }
        entry.save(update_fields=["metadata"])
    if content.uploader_account:
        UploaderAccount.objects.filter(
            agency_id=content.agency_id, account_id=content.uploader_account, confirmed__gt=0
        ).update(confirmed=F("confirmed") - 1)
    notify_provider(content, "restore", "an appeal overturned the decision")

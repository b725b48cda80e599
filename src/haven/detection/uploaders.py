"""Per-account history: what an uploader's uploads matched, and what became of them.

A provider acts differently on a first match than on the fifth confirmed one from the same
account: repeat offenders go to the front of the review queue and their reports say so.
Counters are bumped with F() expressions so concurrent scans never lose a count.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from haven.detection.models import ScannedContent, UploaderAccount

__all__ = ["REPEAT_OFFENDER_CONFIRMED", "bump", "is_repeat_offender", "note_upload"]

REPEAT_OFFENDER_CONFIRMED = 2  # confirmed matches from one account that make it a repeat offender


def is_repeat_offender(account: UploaderAccount) -> bool:
    return account.confirmed >= REPEAT_OFFENDER_CONFIRMED


def _account(content: ScannedContent) -> UploaderAccount | None:
    if not content.uploader_account:
        return None
    found = UploaderAccount.objects.filter(
        agency_id=content.agency_id, account_id=content.uploader_account
    ).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return UploaderAccount.objects.create(
                agency_id=content.agency_id,
                account_id=content.uploader_account,
                screen_name=content.uploader_name,
            )
    except IntegrityError:
        return UploaderAccount.objects.get(
            agency_id=content.agency_id, account_id=content.uploader_account
        )


def note_upload(content: ScannedContent, *, matched: bool) -> UploaderAccount | None:
    """Record a matching upload against its uploader; None when the scan named no account."""
    account = _account(content)
    if account is None:
        return None
    if matched:
        bump(content, "matches")
        account.refresh_from_db()
    return account


def bump(content: ScannedContent, counter: str) -> None:
    """Add one to an uploader's `matches`, `confirmed`, `reports` or `removals`."""
    if not content.uploader_account:
        return
    values = {counter: F(counter) + 1, "last_seen": timezone.now()}
    if content.uploader_name:
        values["screen_name"] = content.uploader_name
    UploaderAccount.objects.filter(
        agency_id=content.agency_id, account_id=content.uploader_account
    ).update(**values)

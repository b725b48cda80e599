"""The flood guard: a sudden burst of matches from one bank pauses its auto-actions.

A bank list that suddenly matches hundreds of uploads is far more often a bad import (a
common image, a hash of a blank frame) than a wave of abuse; blocking and reporting all of
them automatically would hurt many innocent users at once. So each bank's matches are
counted per minute, and when the count over the policy's window reaches its limit the
policy is paused (uploads are still held for review) and the administrators are alerted.
An administrator resumes the policy from its page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from haven.audit.services import record
from haven.detection.models import Alert, BankMatchMinute, BankPolicy

__all__ = ["count_matches", "resume"]


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _bump(bank_id: int, minute: datetime) -> None:
    updated = BankMatchMinute.objects.filter(bank_id=bank_id, minute=minute).update(
        matches=F("matches") + 1
    )
    if updated:
        return
    try:
        with transaction.atomic():
            BankMatchMinute.objects.create(bank_id=bank_id, minute=minute, matches=1)
    except IntegrityError:  # another request created this minute's row first
        BankMatchMinute.objects.filter(bank_id=bank_id, minute=minute).update(
            matches=F("matches") + 1
        )


def count_matches(policy: BankPolicy, agency_id: int, at: datetime) -> bool:
    """Count one acting match for the policy's bank; True when this match tripped the guard."""
    minute = _minute(at)
    _bump(policy.bank_id, minute)
    if policy.paused_at is not None or policy.pk is None:
        return False
    since = minute - timedelta(minutes=max(policy.flood_window_minutes, 1) - 1)
    total = (
        BankMatchMinute.objects.filter(bank_id=policy.bank_id, minute__gte=since).aggregate(
            n=Sum("matches")
        )["n"]
        or 0
    )
    if total < policy.flood_limit:
        return False
    reason = (
        f"{total} matches within {policy.flood_window_minutes} min "
        f"(limit {policy.flood_limit}): auto-actions paused"
    )
    tripped = BankPolicy.objects.filter(pk=policy.pk, paused_at__isnull=True).update(
        paused_at=at, paused_reason=reason
    )
    if not tripped:
        return False  # another request tripped it first
    policy.paused_at, policy.paused_reason = at, reason
    Alert.objects.create(
        agency_id=agency_id,
        kind="flood_guard",
        message=f"Bank {policy.bank.name!r}: {reason}. Check the bank, then resume its policy.",
        detail={"bank_id": policy.bank_id, "matches": total},
    )
    record(
        "detection.flood_paused",
        actor="system:flood-guard",
        target_type="bank",
        target_id=policy.bank_id,
        detail={"matches": total, "limit": policy.flood_limit},
    )
    return True


def resume(policy: BankPolicy, actor: str) -> None:
    """Lift a tripped flood guard (the caller has checked the permission)."""
    BankPolicy.objects.filter(pk=policy.pk).update(paused_at=None, paused_reason="")
    policy.paused_at, policy.paused_reason = None, ""
    record("detection.flood_resumed", actor=actor, target_type="bank", target_id=policy.bank_id)

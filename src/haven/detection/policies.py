"""Reading and changing bank policies, and each bank's quality as its reviewers judged it.

A bank without a policy row acts on the defaults (hold for review, report once
confirmed); the first edit creates the row. Changing the distance threshold goes through
the bank itself (`haven.banks.services.update_bank`), since every matcher reads it there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from haven.accounts.permissions import Principal, check
from haven.audit.services import record
from haven.banks.models import Bank
from haven.banks.services import get_bank, update_bank
from haven.detection.flood import resume
from haven.detection.models import BankPolicy, ReviewMatch

__all__ = [
    "MAX_FLOOD_LIMIT",
    "PolicyChange",
    "PolicyError",
    "Quality",
    "bank_quality",
    "decision_counts",
    "policy_of",
    "resume_policy",
    "update_policy",
]

MAX_FLOOD_LIMIT = 1_000_000
MAX_FLOOD_WINDOW_MINUTES = 24 * 60


class PolicyError(ValueError):
    """A policy change this node refuses; the message says why."""


@dataclass(frozen=True, slots=True)
class PolicyChange:
    block: bool
    hold: bool
    report: bool
    notify: bool
    allow_lists: tuple[int, ...] = ()
    enable_percent: int = 100
    flood_limit: int = 500
    flood_window_minutes: int = 10
    threshold: int | None = None


@dataclass(frozen=True, slots=True)
class Quality:
    """What reviewers made of a bank's matches: the share confirmed is its quality score."""

    confirmed: int = 0
    false_positives: int = 0
    pending: int = 0

    @property
    def decided(self) -> int:
        return self.confirmed + self.false_positives

    @property
    def score(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def policy_of(bank: Bank) -> BankPolicy:
    """The bank's policy, or the defaults (unsaved) when it has none yet."""
    found = BankPolicy.objects.filter(bank=bank).first()
    return found if found is not None else BankPolicy(bank=bank)


def update_policy(principal: Principal, bank: Bank, change: PolicyChange) -> BankPolicy:
    check(principal, "policies:manage")
    bank = get_bank(principal, bank.pk)
    if bank.is_allow_list:
        raise PolicyError("an allow-list suppresses matches; it has no actions of its own")
    if not 0 <= change.enable_percent <= 100:
        raise PolicyError("the enabled share is a percentage, 0 to 100")
    if not 1 <= change.flood_limit <= MAX_FLOOD_LIMIT:
        raise PolicyError(f"the flood limit is 1 to {MAX_FLOOD_LIMIT:,} matches")
    if not 1 <= change.flood_window_minutes <= MAX_FLOOD_WINDOW_MINUTES:
        raise PolicyError(f"the flood window is 1 to {MAX_FLOOD_WINDOW_MINUTES} minutes")
    if change.report and not change.hold:
        raise PolicyError("a report waits for a reviewer's confirmation: reporting needs hold")
    allow = list(Bank.objects.filter(pk__in=change.allow_lists, agency_id=bank.agency_id))
    if len(allow) != len(set(change.allow_lists)) or not all(b.is_allow_list for b in allow):
        raise PolicyError("allow-lists must be this agency's allow-list banks")
    with transaction.atomic():
        policy = policy_of(bank)
        for name in ("block", "hold", "report", "notify"):
            setattr(policy, name, getattr(change, name))
        policy.enable_percent = change.enable_percent
        policy.flood_limit = change.flood_limit
        policy.flood_window_minutes = change.flood_window_minutes
        policy.updated_at = timezone.now()
        policy.updated_by = principal.actor
        policy.save()
        policy.allow_lists.set(allow)
        if change.threshold is not None and change.threshold != bank.threshold:
            update_bank(principal, bank, threshold=change.threshold)
        record(
            "policy.update",
            principal=principal,
            target_type="bank",
            target_id=bank.pk,
            detail={
                "actions": [n for n in ("block", "hold", "report", "notify") if getattr(change, n)],
                "enable_percent": change.enable_percent,
                "allow_lists": sorted(b.pk for b in allow),
                "flood": [change.flood_limit, change.flood_window_minutes],
            },
        )
    return policy


def resume_policy(principal: Principal, bank: Bank) -> BankPolicy:
    """Lift the flood guard after an administrator checked the bank."""
    check(principal, "policies:manage")
    bank = get_bank(principal, bank.pk)
    policy = policy_of(bank)
    if policy.pk is None or policy.paused_at is None:
        raise PolicyError("this bank's policy is not paused")
    resume(policy, principal.actor)
    return policy


def decision_counts() -> dict[str, Count]:
    """Aggregates over ReviewMatch rows: the reviews behind a bank's matches that were
    confirmed, and those that were false positives. A confirmation that an appeal
    overturned counts as a false positive (here and in the transparency figures)."""
    overturned = Q(review__appeals__state="overturned")
    return {
        "confirmed": Count(
            "review", filter=Q(review__state="confirmed") & ~overturned, distinct=True
        ),
        "false_positives": Count(
            "review", filter=Q(review__state="false_positive") | overturned, distinct=True
        ),
    }


def bank_quality(bank_ids: Iterable[int]) -> dict[int, Quality]:
    """Confirmed, false-positive and pending reviews behind each bank's matches."""
    rows = (
        ReviewMatch.objects.filter(bank_id__in=list(bank_ids))
        .values("bank_id")
        .annotate(
            **decision_counts(),
            pending=Count("review", filter=Q(review__state="pending"), distinct=True),
        )
    )
    return {r["bank_id"]: Quality(r["confirmed"], r["false_positives"], r["pending"]) for r in rows}

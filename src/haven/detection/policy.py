"""Bank policies applied to one upload's matches: which actions run, and why.

Kept free of Django so the rules can be read (and tested) as plain data: the scan service
loads each matched bank's policy into a `Rule`, passes the matcher's rows as `Finding`s and
stores the `Verdict` with the upload, so a reviewer later sees exactly why it was held.

Rules, in order:
- an allow-list hit suppresses a bank's match when the bank's policy names that allow-list,
  or names none (then every allow-list counts, as in the matcher);
- a bank being enabled gradually acts on `enable_percent` of uploads only, chosen by a
  stable hash of the content id (the same upload always falls on the same side); the rest
  are recorded as "trial" matches, counted for the bank's quality but not acted on;
- a bank whose flood guard tripped keeps holding for review but does not block, report or
  notify automatically until an administrator resumes it;
- the strongest action wins: block over hold over allow; a reviewer sees the upload when
  any acting bank holds, unless a bank of material this node's reviewers confirmed
  ("removed here") matched: a person has already looked, so it is blocked unreviewed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["ACTIONS", "Finding", "Rule", "Verdict", "decide", "in_rollout"]

ACTIONS = ("block", "hold", "report", "notify")


@dataclass(frozen=True, slots=True)
class Rule:
    """One bank's policy, as the decision needs it."""

    bank_id: int
    block: bool = False
    hold: bool = True
    report: bool = True
    notify: bool = False
    confirmed_here: bool = False  # a person here confirmed its entries: no second review
    allow_lists: frozenset[int] = frozenset()
    enable_percent: int = 100
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One matcher row: a bank entry an upload matched (or an allow-list it hit)."""

    bank_id: int
    entry_id: int
    status: str  # "match", "suppressed" or "allow-list", as the matcher said


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: str  # "allow", "hold" or "block"
    review: bool = False  # a reviewer must look at it (a held, or blocked and held, upload)
    settled: bool = False  # matched material this node's reviewers confirmed before
    acting: tuple[int, ...] = ()  # banks whose policy acted
    suppressed: tuple[int, ...] = ()  # banks an allow-list suppressed
    trial: tuple[int, ...] = ()  # banks still being enabled that did not act on this upload
    paused: tuple[int, ...] = ()  # banks whose flood guard held back their auto-actions
    report: bool = False  # report once a reviewer confirms
    notify: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "review": self.review,
            "settled": self.settled,
            "acting_banks": list(self.acting),
            "suppressed_banks": list(self.suppressed),
            "trial_banks": list(self.trial),
            "paused_banks": list(self.paused),
            "report": self.report,
            "notify": self.notify,
            "reasons": list(self.reasons),
        }


def in_rollout(content_key: str, bank_id: int, percent: int) -> bool:
    """Whether a bank being enabled gradually acts on this upload (stable per upload)."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{bank_id}:{content_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def decide(findings: Iterable[Finding], rules: Mapping[int, Rule], content_key: str) -> Verdict:
    """The verdict for one upload. A bank without a rule acts as `Rule(bank_id)`."""
    rows = list(findings)
    allow_hits = {f.bank_id for f in rows if f.status == "allow-list"}
    matched = sorted({f.bank_id for f in rows if f.status in ("match", "suppressed")})
    acting: list[int] = []
    suppressed: list[int] = []
    trial: list[int] = []
    paused: list[int] = []
    reasons: list[str] = []
    block = hold = report = notify = settled = False
    for bank_id in matched:
        rule = rules.get(bank_id) or Rule(bank_id)
        by = allow_hits & rule.allow_lists if rule.allow_lists else allow_hits
        if by:
            suppressed.append(bank_id)
            reasons.append(f"bank {bank_id}: suppressed by allow-list {min(by)}")
            continue
        if not in_rollout(content_key, bank_id, rule.enable_percent):
            trial.append(bank_id)
            reasons.append(
                f"bank {bank_id}: matched while {rule.enable_percent}% enabled; no action"
            )
            continue
        acting.append(bank_id)
        if rule.paused:
            paused.append(bank_id)
            hold = hold or rule.hold or rule.block
            report = report or rule.report  # a report still waits for a person's confirmation
            reasons.append(f"bank {bank_id}: flood guard paused its auto-actions; held for review")
            continue
        settled = settled or rule.confirmed_here
        block = block or rule.block
        hold = hold or rule.hold
        report = report or rule.report
        notify = notify or rule.notify
        done = [name for name in ACTIONS if getattr(rule, name)]
        reasons.append(f"bank {bank_id}: {', '.join(done) or 'no action'}")
    if settled:  # material a reviewer here confirmed before: blocked, not reviewed again
        hold = report = False
    decision = "block" if block else "hold" if hold else "allow"
    return Verdict(
        decision=decision,
        review=hold,
        settled=settled,
        acting=tuple(acting),
        suppressed=tuple(suppressed),
        trial=tuple(trial),
        paused=tuple(paused),
        report=report and hold,
        notify=notify,
        reasons=tuple(reasons),
    )

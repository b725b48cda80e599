"""Triage priority: a score an analyst can check, because it says where every point came from.

An authority's queue is read top-down, so the order is a decision about which child is
looked at first. A learned or opaque score would be hard to defend; this one is a sum of
named factors with fixed weights (one table, `WEIGHTS`), each listed in the answer with the
reason in plain words, so the queue can show "why is this first?" and a supervisor can
argue with a weight rather than with a black box.

The factors are the ones issue 5 names: escalation (imminent danger), live-streaming,
infant or prepubescent material, child sex trafficking or online enticement, an identified
victim, an identified suspect, material no bank knows (new abuse, possibly a child still
being abused) and a repeat offender. The score is the sum of the weights present, capped
at 100; escalation always puts the report in the "immediate" tier with a one-hour
service level, whatever else it holds.

Facts come from the report alone (`facts_of`) plus what only the node knows (`Context`:
which hashes its banks hold, whether an account was seen before). An incident's facts are
its reports' facts joined (`TriageFacts.join`: a factor holds if it holds for any report),
so adding a report can raise an incident's priority, never lower it.

Engine code: plain data in and out, no Django import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Final

from haven.reports.format import (
    FileAnnotation,
    IncidentType,
    IndustryClassification,
    Report,
    ReportFile,
)

__all__ = [
    "FACTORS",
    "SLA_HOURS",
    "TIERS",
    "TIER_FLOORS",
    "WEIGHTS",
    "Context",
    "Priority",
    "Reason",
    "TriageFacts",
    "facts_of",
    "file_hash_keys",
    "priority_of",
]

# --- the table -------------------------------------------------------------------------
#: Points per factor, and the reason shown for it. The sum of every factor is above 100 on
#: purpose: a report with most factors is simply 100, and no single factor but escalation
#: decides the tier on its own.
#:
#: - escalated (30): the provider marked the report urgent (a child in imminent danger);
#:   it also forces the "immediate" tier and the 1-hour SLA.
#: - live_streaming (20): abuse streamed live is happening now, to a child somewhere.
#: - prepubescent (15): a file classified A1/A2 (prepubescent) or annotated "infant".
#: - trafficking_or_enticement (15): incident type child_sex_trafficking or
#:   online_enticement, where a child is being contacted or sold, not only depicted.
#: - victim_identified (15): the report lists a victim: a child who can be found.
#: - suspect_identified (10): the report names an account (each needs an identifier).
#: - new_material (10): a file whose hashes no bank holds: material not seen before.
#: - repeat_offender (10): an account reported by two providers or in two reports.
WEIGHTS: Final[Mapping[str, tuple[int, str]]] = {
    "escalated": (30, "the provider escalated the report: a child may be in imminent danger"),
    "live_streaming": (20, "a file is marked live-streamed: the abuse may be happening now"),
    "prepubescent": (15, "a file is classified A1/A2 or marked infant: a prepubescent child"),
    "trafficking_or_enticement": (
        15,
        "the incident is child sex trafficking or online enticement: a child is being "
        "contacted or sold",
    ),
    "victim_identified": (15, "the report lists a victim: a child who can be found"),
    "suspect_identified": (10, "the report names an account: a suspect who can be found"),
    "new_material": (10, "a file matches no bank: material not seen before"),
    "repeat_offender": (
        10,
        "an account was reported by two or more providers, or in two or more reports",
    ),
}
FACTORS: Final[tuple[str, ...]] = tuple(WEIGHTS)

#: Tiers from most to least urgent, the lowest score of each ("immediate" also whenever
#: the report is escalated), and the hours within which an analyst should have looked.
TIERS: Final[tuple[str, ...]] = ("immediate", "high", "normal", "low")
TIER_FLOORS: Final[Mapping[str, int]] = {"immediate": 80, "high": 50, "normal": 20, "low": 0}
SLA_HOURS: Final[Mapping[str, int]] = {"immediate": 1, "high": 24, "normal": 72, "low": 168}
MAX_SCORE: Final = 100

_PREPUBESCENT = frozenset({IndustryClassification.A1, IndustryClassification.A2})
_CONTACT = frozenset({IncidentType.CHILD_SEX_TRAFFICKING, IncidentType.ONLINE_ENTICEMENT})


@dataclass(frozen=True, slots=True)
class TriageFacts:
    """What a report (or an incident, its reports joined) holds that bears on priority."""

    escalated: bool = False
    live_streaming: bool = False
    prepubescent: bool = False
    trafficking_or_enticement: bool = False
    victim_identified: bool = False
    suspect_identified: bool = False
    new_material: bool = False
    repeat_offender: bool = False

    def present(self) -> tuple[str, ...]:
        """The factors that hold, in the table's order."""
        return tuple(name for name in FACTORS if getattr(self, name))

    def join(self, *others: TriageFacts) -> TriageFacts:
        """The facts of several reports together: each factor holds if it holds in any."""
        held = set(self.present())
        for other in others:
            held.update(other.present())
        return TriageFacts(**{name: name in held for name in FACTORS})

    def as_dict(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TriageFacts:
        """Facts stored with `as_dict`; unknown names are ignored, missing ones are false."""
        return cls(**{f.name: data.get(f.name) is True for f in fields(cls)})

    @classmethod
    def union(cls, facts: Iterable[TriageFacts]) -> TriageFacts:
        return cls().join(*facts)


@dataclass(frozen=True, slots=True)
class Reason:
    """One factor that counted: its name, its points, and why, in words."""

    factor: str
    weight: int
    why: str


@dataclass(frozen=True, slots=True)
class Priority:
    """A score 0–100, its tier, each factor that counted, and the SLA in hours."""

    score: int
    tier: str
    reasons: tuple[Reason, ...]
    sla_hours: int


@dataclass(frozen=True, slots=True)
class Context:
    """What the node knows beyond the report.

    `banked` holds the file hashes (`file_hash_keys` form, "md5:<hex>") that some bank
    holds; `repeat_offender` is whether one of the report's accounts was reported by two
    providers or in two reports.
    """

    banked: frozenset[str] = frozenset()
    repeat_offender: bool = False


def file_hash_keys(file: ReportFile) -> tuple[str, ...]:
    """The file's hashes as "kind:hex" (md5, sha1, sha256, pdq), the form `Context` uses."""
    pairs = (("md5", file.md5), ("sha1", file.sha1), ("sha256", file.sha256), ("pdq", file.pdq))
    return tuple(f"{kind}:{value}" for kind, value in pairs if value)


def facts_of(report: Report, context: Context = Context()) -> TriageFacts:
    """The facts of one report. A file is new material when none of its hashes is banked;
    live-streaming and infant are file annotations in the format (it has no live-stream
    location kind or incident annotation)."""
    files = report.files
    return TriageFacts(
        escalated=report.incident.escalation is not None,
        live_streaming=any(FileAnnotation.LIVE_STREAMING in f.annotations for f in files),
        prepubescent=any(
            f.classification in _PREPUBESCENT or FileAnnotation.INFANT in f.annotations
            for f in files
        ),
        trafficking_or_enticement=report.incident.type in _CONTACT,
        victim_identified=bool(report.victims),
        suspect_identified=bool(report.reported_accounts),
        new_material=any(
            not any(key in context.banked for key in file_hash_keys(f)) for f in files
        ),
        repeat_offender=context.repeat_offender,
    )


def priority_of(facts: TriageFacts) -> Priority:
    """The score (sum of the present factors' weights, at most 100), tier, reasons, SLA."""
    reasons = tuple(Reason(name, *WEIGHTS[name]) for name in facts.present())
    score = min(MAX_SCORE, sum(reason.weight for reason in reasons))
    tier = next(t for t in TIERS if score >= TIER_FLOORS[t])
    if facts.escalated:
        tier = "immediate"
    return Priority(score=score, tier=tier, reasons=reasons, sla_hours=SLA_HOURS[tier])

"""Grooming risk per conversation: stage cues with the messages behind them, for triage only.

Why: a reviewer facing a queue of flagged chats needs to see, per conversation, which of the
recognised grooming stages (trust building, isolation, secrecy, sexualised questions, image
requests, moving to a private channel, gifts or money, arranging to meet) appear, in which
message, and why, so that the most worrying conversations are read first. It must never
pass for a detector: the public corpora (PAN 2012) come from decoy chats and are biased,
and a phrase list misses most real conversations and flags some innocent ones. Every
assessment therefore carries the fixed `TRIAGE_NOTICE`, and a person must review.

How: the cue phrasings (per stage and language, each with a weight and a reason) live in
`data/grooming.toml`, not in code, so that trainers can read and correct them. Each message
goes through `haven.text.normalize` (NFKC, look-alike letters, full-width and circled
digits, zero-width characters, emoji as tokens, case folding), then accents are removed,
apostrophes unified and white space runs collapsed, keeping a map back to the original
characters at both steps, so every hit carries a span in the message as written. The
risk (0..100) rises with the number and strength of distinct stages, with how many stage
pairs appear in the typical order, and with how many stages one sender produced; appending
a message never lowers it.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from haven.text.normalize import NormalizedText, normalize

__all__ = [
    "STAGES",
    "TRIAGE_NOTICE",
    "Cue",
    "CueTable",
    "GroomingAssessment",
    "GroomingDataError",
    "GroomingError",
    "Message",
    "MessageLike",
    "StageFeature",
    "StageHit",
    "assess_conversation",
    "default_cues",
    "load_cues",
]

STAGES: tuple[str, ...] = (
    "trust_building",
    "isolation",
    "secrecy",
    "sexual_content",
    "image_request",
    "platform_move",
    "gifts_money",
    "meeting",
)

TRIAGE_NOTICE = (
    "Triage aid, not detection: public corpora such as PAN 2012 come from decoy chats and "
    "are biased; a person must review."
)

# Risk = 100 * (1 - exp(-raw / RISK_SCALE)), raw = sum of stage contributions
# + PAIR_BONUS per stage pair in the typical order + SENDER_BONUS per extra stage by one sender.
RISK_SCALE = 4.0
PAIR_BONUS = 0.15
SENDER_BONUS = 0.35
REPEAT_BONUS = 0.1  # per further message carrying the same stage, strength capped at 1
LEVELS = ((60.0, "high"), (30.0, "medium"), (0.0, "low"))

_DATA_FILE = "grooming.toml"
_APOSTROPHES = frozenset("\u2018\u2019\u02bc\u02bb\u2032\u00b4\u0060\uff07")


class GroomingError(ValueError):
    """Bad input to the grooming assessment (a message without text, an unknown language)."""


class GroomingDataError(GroomingError):
    """The cue table is malformed (unknown stage, bad pattern, duplicate id, bad weight)."""


@runtime_checkable
class MessageLike(Protocol):
    """Anything with a sender and a text, e.g. `haven.synth.chats.SyntheticMessage`."""

    @property
    def sender(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Message:
    """One chat message as the assessment reads it; `sent_at` is ISO 8601 when known."""

    sender: str
    text: str
    sent_at: str | None = None


@dataclass(frozen=True)
class Cue:
    """One phrasing of one stage in one language, matched on the folded text."""

    id: str
    stage: str
    lang: str
    weight: float
    reason: str
    pattern: str


@dataclass(frozen=True)
class StageHit:
    """A cue found in one message: where (span in the message as written) and why."""

    stage: str
    message_index: int
    sender: str
    span: tuple[int, int]
    text: str  # the original characters text[span[0]:span[1]] of that message
    cue: str  # the cue id in data/grooming.toml
    reason: str
    weight: float


@dataclass(frozen=True)
class StageFeature:
    """One stage present in the conversation, summarised for the reviewer."""

    stage: str
    label: str
    strength: float  # 0..1: the strongest cue, a little more when repeated
    contribution: float  # strength x the stage weight, the share of the raw risk
    messages: tuple[int, ...]  # message indices carrying the stage, in order
    senders: tuple[str, ...]


@dataclass(frozen=True)
class GroomingAssessment:
    """Per-conversation triage result; never a finding that grooming took place."""

    hits: tuple[StageHit, ...]
    stages: tuple[str, ...]  # stages present, in the typical order
    features: tuple[StageFeature, ...]
    risk: float  # 0..100
    level: str  # "low" | "medium" | "high"
    progression: float  # share of present stage pairs in the typical order (1.0 under 2)
    lead_sender: str | None  # the sender behind the most stages (None when no hit)
    reasons: tuple[str, ...]
    message_count: int
    triage_only: str = TRIAGE_NOTICE


@dataclass(frozen=True)
class _StageInfo:
    id: str
    order: int
    weight: float
    label: str


@dataclass(frozen=True)
class _StageMatcher:
    stage: str
    any_cue: re.Pattern[str]  # all cues of the stage as one alternation: a cheap first pass
    cues: tuple[tuple[Cue, re.Pattern[str]], ...]  # each cue alone, run where any_cue hit


class CueTable:
    """The stages and cues of one data file, compiled once per language (None: all of them)."""

    def __init__(self, stages: Iterable[_StageInfo], cues: Iterable[Cue]) -> None:
        self._stages = {info.id: info for info in stages}
        self.cues: tuple[Cue, ...] = tuple(cues)
        self.languages: tuple[str, ...] = tuple(sorted({cue.lang for cue in self.cues}))
        self._matchers: dict[str | None, tuple[_StageMatcher, ...]] = {
            lang: self._compile(lang) for lang in (None, *self.languages)
        }

    def stage_order(self, stage: str) -> int:
        return self._stages[stage].order

    def stage_weight(self, stage: str) -> float:
        return self._stages[stage].weight

    def stage_label(self, stage: str) -> str:
        return self._stages[stage].label

    def matchers(self, lang: str | None) -> tuple[_StageMatcher, ...]:
        if lang is not None:
            lang = lang.strip().lower()
        try:
            return self._matchers[lang]
        except KeyError:
            known = ", ".join(self.languages)
            raise GroomingError(f"no grooming cues for language {lang!r}; known: {known}") from None

    def _compile(self, lang: str | None) -> tuple[_StageMatcher, ...]:
        matchers = []
        for stage in STAGES:
            cues = tuple(c for c in self.cues if c.stage == stage and lang in (None, c.lang))
            if not cues:
                continue
            alternatives = "|".join(f"(?:{c.pattern})" for c in cues)
            compiled = tuple((c, re.compile(c.pattern)) for c in cues)
            matchers.append(_StageMatcher(stage, re.compile(alternatives), compiled))
        return tuple(matchers)


def load_cues(path: str | Path) -> CueTable:
    """Read and validate a cue table in the format of data/grooming.toml."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GroomingDataError(f"cannot read grooming cues from {path}: {exc}") from exc
    return _table_from(data, str(path))


@functools.cache
def default_cues() -> CueTable:
    """The cue table shipped with Haven (haven/text/data/grooming.toml), loaded once."""
    source = resources.files("haven.text").joinpath("data").joinpath(_DATA_FILE)
    return _table_from(tomllib.loads(source.read_text(encoding="utf-8")), _DATA_FILE)


def _table_from(data: Mapping[str, object], where: str) -> CueTable:
    raw_stages = data.get("stages")
    raw_cues = data.get("cues")
    if not isinstance(raw_stages, dict) or not isinstance(raw_cues, list):
        raise GroomingDataError(f"{where}: needs a [stages] table and a [[cues]] array")
    if set(raw_stages) != set(STAGES):
        raise GroomingDataError(f"{where}: [stages] must be exactly {', '.join(STAGES)}")
    stages = []
    for stage in STAGES:
        entry = raw_stages[stage]
        try:
            info = _StageInfo(
                stage, int(entry["order"]), float(entry["weight"]), str(entry["label"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GroomingDataError(f"{where}: stage {stage}: {exc!r}") from exc
        if info.weight <= 0:
            raise GroomingDataError(f"{where}: stage {stage}: weight must be positive")
        stages.append(info)
    cues: list[Cue] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw_cues, 1):
        cue = _cue_from(entry, f"{where}: cue #{number}")
        if cue.id in seen:
            raise GroomingDataError(f"{where}: duplicate cue id {cue.id!r}")
        seen.add(cue.id)
        cues.append(cue)
    return CueTable(stages, cues)


def _cue_from(entry: object, where: str) -> Cue:
    if not isinstance(entry, dict):
        raise GroomingDataError(f"{where}: not a table")
    try:
        cue = Cue(
            id=str(entry["id"]),
            stage=str(entry["stage"]),
            lang=str(entry["lang"]).lower(),
            weight=float(entry["weight"]),
            reason=str(entry["reason"]),
            pattern=str(entry["pattern"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GroomingDataError(f"{where}: {exc!r}") from exc
    if cue.stage not in STAGES:
        raise GroomingDataError(f"{where} ({cue.id}): unknown stage {cue.stage!r}")
    if not 0 < cue.weight <= 1:
        raise GroomingDataError(f"{where} ({cue.id}): weight must be in (0, 1]")
    try:
        compiled = re.compile(cue.pattern)
    except re.error as exc:
        raise GroomingDataError(f"{where} ({cue.id}): bad pattern: {exc}") from exc
    if compiled.groupindex:
        raise GroomingDataError(f"{where} ({cue.id}): named groups are reserved")
    if compiled.match(""):
        raise GroomingDataError(f"{where} ({cue.id}): pattern matches the empty string")
    return cue


# ---------------------------------------------------------------- folding with offsets
# (on top of haven.text.normalize: accents, apostrophes and white space)


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """The folded form of one character ('' when it is dropped)."""
    if char in _APOSTROPHES:
        return "'"
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Mn", "Me"):  # zero-width, controls, combining marks
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", kept).casefold()


_ODD_ASCII_SPACE = re.compile(r"[^\S ]|  |^ ")  # any white space the fast path cannot keep


def _fold(text: str) -> tuple[str, Sequence[int]]:
    """Accent-free folded text and, for each of its characters, the index it came from."""
    if text.isascii() and _ODD_ASCII_SPACE.search(text) is None:
        return text.lower(), range(len(text))  # the common case: one to one
    out: list[str] = []
    origin: list[int] = []
    last_space = True  # drops leading white space too
    for index, char in enumerate(text):
        folded = char.lower() if char.isascii() and not char.isspace() else _fold_char(char)
        if not folded:
            continue
        if folded == " ":
            if last_space:
                continue
            last_space = True
        else:
            last_space = folded.endswith(" ")
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


@dataclass(frozen=True)
class _FoldedMessage:
    """A message as the cues see it: `normalize` (look-alikes, width, emoji), then accents
    and apostrophes folded and white space collapsed, with the way back to the original."""

    text: str
    normalized: NormalizedText
    origin: Sequence[int]  # index in normalized.text of each character of text

    @classmethod
    def of(cls, message: str) -> _FoldedMessage:
        normalized = normalize(message)
        text, origin = _fold(normalized.text)
        return cls(text, normalized, origin)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Span in the message as written of text[start:end] (whole clusters, marks included)."""
        return self.normalized.original_span(self.origin[start], self.origin[end - 1] + 1)


# ---------------------------------------------------------------- assessment


def _coerce(message: object, index: int) -> tuple[str, str]:
    if isinstance(message, tuple | list):
        if len(message) not in (2, 3):
            raise GroomingError(
                f"message {index}: expected (sender, text[, sent_at]), got {len(message)} items"
            )
        sender, text = message[0], message[1]
    elif isinstance(message, MessageLike):
        sender, text = message.sender, message.text
    else:
        raise GroomingError(f"message {index}: expected a Message, got {type(message).__name__}")
    if not isinstance(sender, str) or not isinstance(text, str):
        raise GroomingError(f"message {index}: sender and text must be strings")
    return sender, text


def _find_hits(
    index: int, sender: str, text: str, matchers: Sequence[_StageMatcher]
) -> list[StageHit]:
    folded = _FoldedMessage.of(text)
    hits = []
    for matcher in matchers:
        if matcher.any_cue.search(folded.text) is None:  # most messages carry no cue of a stage
            continue
        for cue, regex in matcher.cues:  # every cue, so that a weak one cannot hide a strong one
            for match in regex.finditer(folded.text):
                if match.end() <= match.start():
                    continue
                start, end = folded.original_span(match.start(), match.end())
                hits.append(
                    StageHit(
                        stage=cue.stage,
                        message_index=index,
                        sender=sender,
                        span=(start, end),
                        text=text[start:end],
                        cue=cue.id,
                        reason=f"{cue.stage}: {cue.reason}",
                        weight=cue.weight,
                    )
                )
    return hits


def assess_conversation(
    messages: Sequence[Message | MessageLike | tuple[str, str] | tuple[str, str, str | None]],
    *,
    lang: str | None = None,
    cues: CueTable | None = None,
) -> GroomingAssessment:
    """Stage cues per message and a 0..100 triage risk for one conversation, in message order.

    `lang` restricts the cues to one language (en, fr, es, pt); by default every language's
    cues are tried, since chats mix languages. Raises GroomingError on malformed messages or
    an unknown language. The result always carries `TRIAGE_NOTICE`: it is a reading aid for a
    person, never evidence that grooming took place.
    """
    table = cues if cues is not None else default_cues()
    matchers = table.matchers(lang)
    if isinstance(messages, str | bytes):
        raise GroomingError("messages must be a sequence of messages, not one string")
    hits: list[StageHit] = []
    count = 0
    for index, message in enumerate(messages):
        sender, text = _coerce(message, index)
        hits.extend(_find_hits(index, sender, text, matchers))
        count += 1
    hits.sort(key=lambda h: (h.message_index, h.span, table.stage_order(h.stage)))
    return _score(tuple(hits), count, table)


def _score(hits: tuple[StageHit, ...], count: int, table: CueTable) -> GroomingAssessment:
    by_stage: dict[str, list[StageHit]] = {}
    for hit in hits:
        by_stage.setdefault(hit.stage, []).append(hit)
    present = tuple(sorted(by_stage, key=table.stage_order))
    features = []
    for stage in present:
        stage_hits = by_stage[stage]
        messages = tuple(sorted({h.message_index for h in stage_hits}))
        strength = min(1.0, max(h.weight for h in stage_hits) + REPEAT_BONUS * (len(messages) - 1))
        features.append(
            StageFeature(
                stage=stage,
                label=table.stage_label(stage),
                strength=strength,
                contribution=strength * table.stage_weight(stage),
                messages=messages,
                senders=tuple(sorted({h.sender for h in stage_hits})),
            )
        )
    first_seen = {f.stage: f.messages[0] for f in features}
    pairs = [(a, b) for i, a in enumerate(present) for b in present[i + 1 :]]
    in_order = sum(1 for a, b in pairs if first_seen[a] <= first_seen[b])
    progression = in_order / len(pairs) if pairs else 1.0
    stages_by_sender: dict[str, set[str]] = {}
    for hit in hits:
        stages_by_sender.setdefault(hit.sender, set()).add(hit.stage)
    lead_sender, lead_stages = None, 0
    for sender in sorted(stages_by_sender):
        if len(stages_by_sender[sender]) > lead_stages:
            lead_sender, lead_stages = sender, len(stages_by_sender[sender])
    raw = (
        sum(f.contribution for f in features)
        + PAIR_BONUS * in_order
        + SENDER_BONUS * max(0, lead_stages - 1)
    )
    risk = round(100.0 * (1.0 - math.exp(-raw / RISK_SCALE)), 1)
    level = next(name for floor, name in LEVELS if risk >= floor)
    reasons = _reasons(features, len(pairs), in_order, lead_sender, lead_stages)
    return GroomingAssessment(
        hits=hits,
        stages=present,
        features=tuple(features),
        risk=risk,
        level=level,
        progression=progression,
        lead_sender=lead_sender,
        reasons=reasons,
        message_count=count,
    )


def _reasons(
    features: Sequence[StageFeature],
    pairs: int,
    in_order: int,
    lead_sender: str | None,
    lead_stages: int,
) -> tuple[str, ...]:
    if not features:
        return ("no grooming-stage cue found (absence of cues is not evidence of safety)",)
    labels = ", ".join(f.label for f in features)
    reasons = [f"{len(features)} of {len(STAGES)} stages: {labels}"]
    for feature in features:
        where = ", ".join(str(i) for i in feature.messages)
        reasons.append(f"{feature.label}: strength {feature.strength:.2f} in message(s) {where}")
    if pairs:
        reasons.append(f"{in_order} of {pairs} stage pairs appear in the typical order")
    if lead_stages > 1:
        reasons.append(f"{lead_stages} stages come from one sender ({lead_sender})")
    return tuple(reasons)

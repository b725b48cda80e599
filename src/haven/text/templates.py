"""Tokens, shingles and template/slot detection for near-duplicate ads.

Why: operations post the same text over and over with a name, a city, a price or a phone
slotted in. Finding that template is the strongest text link between ads, and the slot
values (the names and cities that change) are what a reviewer needs to see. InfoShield
(ICDE 2021) deletes every digit and emoji before it compares ads, which throws away the
most telling tokens (obscured phone digits, prices, the emoji used as code words). This
tokeniser keeps them: each digit run and each emoji symbol is a token of its own.

Template detection here is deliberately cheap: inside a group of near-duplicate ads, a
token that occurs in at least `share` of the members is part of the template, the runs of
other tokens are slot fills, and a slot is keyed by the template token it follows. That is
enough to print "same template, 6 names slotted in" with the values; it is not a full
multiple alignment.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Slot",
    "Template",
    "TemplateError",
    "detect_template",
    "fold",
    "shingles",
    "tokenize",
]

# Letter runs, digit runs, or one non-word, non-space character (kept only if a symbol).
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
# Symbol categories kept as tokens: emoji and other pictographs (So), currency (Sc), maths
# (Sm). Modifier symbols (Sk: skin tones, accents) and punctuation carry no signal.
_KEPT_SYMBOLS = frozenset(("So", "Sc", "Sm"))


class TemplateError(ValueError):
    """Bad input to the tokeniser or to template detection."""


def fold(text: str) -> str:
    """NFKC, case-folded, NFKC again (case folding can un-normalise a few characters)."""
    if not isinstance(text, str):
        raise TemplateError(f"text must be a str, got {type(text).__name__}")
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def tokenize(text: str) -> tuple[str, ...]:
    """Lower-case NFKC tokens: letter runs, digit runs, and each emoji or symbol alone.

    Underscores, punctuation, variation selectors, joiners and skin-tone modifiers split
    tokens and are dropped; digits and emoji are never dropped. Never raises on a str.
    """
    out: list[str] = []
    append = out.append
    category = unicodedata.category
    for token in _TOKEN_RE.findall(fold(text)):
        if len(token) == 1 and not token.isalnum() and category(token) not in _KEPT_SYMBOLS:
            continue
        append(token)
    return tuple(out)


def shingles(tokens: Sequence[str], k: int = 3) -> tuple[tuple[str, ...], ...]:
    """The k-token shingles of a token sequence; a shorter non-empty text is one shingle."""
    if k < 1:
        raise TemplateError(f"shingle size must be >= 1, got {k}")
    if not tokens:
        return ()
    if len(tokens) <= k:
        return (tuple(tokens),)
    return tuple(tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1))


@dataclass(frozen=True)
class Slot:
    """One place in a template where members differ, and what they put there."""

    after: str  # the template token the slot follows ("^" = start of text)
    occurrence: int  # which occurrence of that template token (0 = first)
    values: tuple[tuple[str, int], ...]  # (fill, members with that fill), most common first

    @property
    def distinct(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Template:
    """The fixed text shared by a group of ads and the slots that vary."""

    members: int  # ads the template was read from
    share: float  # a token in at least this share of members is fixed text
    fixed_tokens: int  # distinct fixed tokens
    text: str  # the first member with each slot shown as {n}
    slots: tuple[Slot, ...]  # slots with at least two distinct fills, in text order
    names: tuple[str, ...]  # one-word fills in 2+ slots that are not a known city (heuristic)

    @property
    def coverage(self) -> float:
        """Share of the first member's tokens that are template text (1.0 = exact copies)."""
        body = self.text.split()
        fixed = sum(1 for t in body if not (t.startswith("{") and t.endswith("}")))
        return fixed / len(body) if body else 0.0


def _slot_runs(
    tokens: Sequence[str], fixed: frozenset[str]
) -> list[tuple[tuple[str, int], tuple[str, ...]]]:
    """(slot key, fill) for each run of non-template tokens of one member."""
    runs: list[tuple[tuple[str, int], tuple[str, ...]]] = []
    seen: Counter[str] = Counter()
    key = ("^", 0)
    fill: list[str] = []
    for token in tokens:
        if token in fixed:
            if fill:
                runs.append((key, tuple(fill)))
                fill = []
            key = (token, seen[token])
            seen[token] += 1
        else:
            fill.append(token)
    if fill:
        runs.append((key, tuple(fill)))
    return runs


def detect_template(
    token_lists: Sequence[Sequence[str]],
    *,
    share: float = 0.6,
    known_places: Iterable[str] = (),
) -> Template:
    """Split a group of near-duplicate token lists into template text and slots.

    A token present in at least `share` of the members is template text. Slot fills are
    keyed by the template token they follow and its occurrence number, so "with {ruby}" and
    "with {ivy}" land in the same slot. `known_places` (cities already known for the group)
    are kept out of `names`; a name is a one-word alphabetic fill found in two or more slots.
    """
    if not 0.0 < share <= 1.0:
        raise TemplateError(f"share must be in (0, 1], got {share}")
    members = len(token_lists)
    if members < 2:
        raise TemplateError(f"a template needs at least 2 members, got {members}")
    df: Counter[str] = Counter()
    for tokens in token_lists:
        df.update(set(tokens))
    need = max(2, math.ceil(share * members - 1e-9))
    fixed = frozenset(t for t, n in df.items() if n >= need)

    fills: dict[tuple[str, int], Counter[tuple[str, ...]]] = {}
    order: dict[tuple[str, int], int] = {}
    per_member = [_slot_runs(tokens, fixed) for tokens in token_lists]
    for runs in per_member:
        for key, fill in runs:
            fills.setdefault(key, Counter())[fill] += 1
            order.setdefault(key, len(order))
    varying = [k for k in sorted(fills, key=order.__getitem__) if len(fills[k]) >= 2]
    number = {k: i + 1 for i, k in enumerate(varying)}

    places = {fold(p) for p in known_places if p}
    slots: list[Slot] = []
    in_slots: Counter[str] = Counter()
    for key in varying:
        ranked = sorted(fills[key].items(), key=lambda kv: (-kv[1], kv[0]))
        slots.append(Slot(key[0], key[1], tuple((" ".join(f), n) for f, n in ranked)))
        for fill, _ in ranked:
            word = fill[0]
            if len(fill) == 1 and word.isalpha() and len(word) > 1 and word not in places:
                in_slots[word] += 1
    # a persona's name is repeated (greeting, body, sign-off): a one-word fill seen in two
    # or more slots is read as a name; one-off fills are more often ordinary variation
    names = {word.title(): None for word, count in in_slots.items() if count >= 2}

    parts: list[str] = []
    runs0 = iter(per_member[0])
    first = token_lists[0]
    i = 0
    while i < len(first):
        if first[i] in fixed:
            parts.append(first[i])
            i += 1
            continue
        key, fill = next(runs0)
        parts.append(f"{{{number[key]}}}" if key in number else " ".join(fill))
        i += len(fill)
    return Template(
        members=members,
        share=share,
        fixed_tokens=len(fixed),
        text=" ".join(parts),
        slots=tuple(slots),
        names=tuple(sorted(names)),
    )

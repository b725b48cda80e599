"""Fold ad text into one comparable form while remembering where every character came from.

Why: ads hide contact details and cue words behind full-width or circled digits, Cyrillic
look-alike letters, zero-width characters and emoji. Every extractor in `haven.text` matches
against one folded form (NFKC per grapheme cluster, look-alikes folded to ASCII, non-ASCII
digits as ASCII digits, case-folded, each emoji replaced by a ``" :name: "`` token), but a
reviewer must see the span in the text that was actually posted. `NormalizedText` therefore
carries an offset map back to the original string, built per cluster so that length changes
(NFKC "①⓪" → "10", "ß" → "ss", an emoji → its name) never shift a span.

The module also owns `PhraseIndex`, which compiles lists of cue phrases into one trie-shaped
regular expression over the folded text (accent-insensitive, flexible separators): matching
rules belong with the folding rules they depend on.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import emoji
from confusable_homoglyphs import confusables

__all__ = [
    "NormalizationError",
    "NormalizedText",
    "PhraseIndex",
    "accent_class",
    "fold_key",
    "normalize",
    "trie_regex",
]

T = TypeVar("T")


class NormalizationError(ValueError):
    """Raised for input that is not text or for spans outside the normalised text."""


def _build_lookalikes() -> dict[str, str]:
    """Map single non-ASCII characters to the ASCII letter or digit they imitate."""
    table: dict[str, str] = {}
    for char, entries in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            target = entry["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[char] = target.lower()
                break
    return table


_LOOKALIKES: Mapping[str, str] = _build_lookalikes()
_EMOJI: Mapping[str, dict[str, object]] = emoji.EMOJI_DATA


# Lengths of the emoji sequences that start with each character, longest first: one or
# two dictionary probes per character instead of one per possible length.
def _emoji_lengths() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for key in _EMOJI:
        lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


_EMOJI_LENGTHS: Mapping[str, tuple[int, ...]] = _emoji_lengths()
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # marks left after NFKC, invisible format chars


@dataclass(frozen=True)
class NormalizedText:
    """Folded text plus the map back to the original.

    ``offsets[i]`` is the index in ``original`` of the cluster that produced ``text[i]``
    (``len(text) + 1`` entries, the last one ``len(original)``); ``ends[i]`` is where that
    cluster ends in ``original``. Both are non-decreasing.
    """

    original: str
    text: str
    offsets: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Span in ``original`` covering the clusters that produced ``text[start:end]``."""
        if not 0 <= start <= end <= len(self.text):
            raise NormalizationError(
                f"span ({start}, {end}) outside normalised text of length {len(self.text)}"
            )
        if start == end:
            return (self.offsets[start], self.offsets[start])
        return (self.offsets[start], self.ends[end - 1])


def _fold_char(char: str) -> str:
    """Fold one character that NFKC has already produced."""
    if char.isascii():
        return char.lower()
    mapped = _LOOKALIKES.get(char)
    if mapped is not None:
        return mapped
    if unicodedata.category(char) in _DROPPED_CATEGORIES:
        return ""
    digit = unicodedata.digit(char, None)
    if digit is not None:
        return str(digit)
    return char.casefold()


def _emoji_at(text: str, index: int, stop: int) -> int:
    """Length of the longest emoji sequence starting at ``index`` (0 when none)."""
    char = text[index]
    if ord(char) < 0x2000 and char not in "\u00a9\u00ae":
        return 0
    for length in _EMOJI_LENGTHS.get(char, ()):
        if length <= stop - index and text[index : index + length] in _EMOJI:
            return length
    return 0


@functools.lru_cache(maxsize=4096)
def _fold_segment(segment: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Fold ``segment`` cluster by cluster: the folded text, and for each of its characters
    where its cluster starts and ends in ``segment``.

    Memoised (a pure function of the segment): ads repeat the same emoji and accents.
    """
    pieces: list[str] = []
    offsets: list[int] = []
    ends: list[int] = []
    index, stop = 0, len(segment)
    while index < stop:
        length = _emoji_at(segment, index, stop)
        if length:
            name = str(_EMOJI[segment[index : index + length]]["en"]).strip(":").casefold()
            piece = f" :{name}: "
            cluster_end = index + length
        else:
            cluster_end = index + 1
            while cluster_end < stop and unicodedata.combining(segment[cluster_end]):
                cluster_end += 1
            composed = unicodedata.normalize("NFKC", segment[index:cluster_end])
            piece = "".join(_fold_char(char) for char in composed)
        pieces.append(piece)
        offsets.extend([index] * len(piece))
        ends.extend([cluster_end] * len(piece))
        index = cluster_end
    return "".join(pieces), tuple(offsets), tuple(ends)


def normalize(text: str) -> NormalizedText:
    """Fold ``text`` for matching; never fails on any ``str``.

    Pure ASCII takes a fast path (lower-casing only). Other text is split into ASCII runs
    and non-ASCII runs; a combining mark that follows an ASCII letter pulls that letter into
    its cluster so that NFKC can compose them.
    """
    if not isinstance(text, str):
        raise NormalizationError(f"expected str, got {type(text).__name__}")
    size = len(text)
    if text.isascii():
        return NormalizedText(text, text.lower(), tuple(range(size + 1)), tuple(range(1, size + 1)))
    out: list[str] = []
    offsets: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _NON_ASCII.finditer(text):
        start, stop = match.start(), match.end()
        if start > position and unicodedata.combining(text[start]):
            start -= 1
        out.append(text[position:start].lower())
        offsets.extend(range(position, start))
        ends.extend(range(position + 1, start + 1))
        piece, piece_offsets, piece_ends = _fold_segment(text[start:stop])
        out.append(piece)
        offsets.extend(map(start.__add__, piece_offsets))
        ends.extend(map(start.__add__, piece_ends))
        position = stop
    out.append(text[position:].lower())
    offsets.extend(range(position, size))
    ends.extend(range(position + 1, size + 1))
    offsets.append(size)
    return NormalizedText(text, "".join(out), tuple(offsets), tuple(ends))


_SEPARATORS = re.compile(r"[\s\-_.]+")


def fold_key(phrase: str) -> str:
    """Accent-free, case-folded form of a phrase with separators collapsed to one space."""
    decomposed = unicodedata.normalize("NFD", normalize(phrase).text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare).strip()


def _match_key(matched: str) -> str:
    """`fold_key` of a slice of already normalised text (cheaper: no second normalize)."""
    if not matched.isascii():
        decomposed = unicodedata.normalize("NFD", matched)
        matched = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", matched).strip()


_ACCENTED: dict[str, str] = {
    "a": "àáâãäå",
    "c": "ç",
    "e": "èéêë",
    "i": "ìíîï",
    "n": "ñ",
    "o": "òóôõöø",
    "u": "ùúûü",
    "y": "ýÿ",
}


def accent_class(char: str) -> str:
    """Regex fragment matching ``char`` with or without an accent (space: any separator)."""
    if char == " ":
        return r"[\s\-_.]+"
    variants = _ACCENTED.get(char)
    if variants is None:
        return re.escape(char)
    return f"[{char}{variants}]"


_Node = dict[str, "_Node"]


def trie_regex(keys: Iterable[str], char_class: Callable[[str], str] = accent_class) -> str:
    """One regex alternation shaped as a prefix trie: fast to scan, longest match first."""
    trie: _Node = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: _Node) -> str:
        branches = [char_class(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


class PhraseIndex(Generic[T]):
    """Find cue phrases in normalised text, whole words only, accent-insensitive.

    Built once (at import) from ``{phrase: payloads}``; matching is one regex scan.
    """

    def __init__(self, phrases: Mapping[str, Iterable[T]]) -> None:
        table: dict[str, list[T]] = {}
        for phrase, payloads in phrases.items():
            key = fold_key(phrase)
            if key:
                table.setdefault(key, []).extend(payloads)
        self._payloads: dict[str, tuple[T, ...]] = {k: tuple(v) for k, v in table.items()}
        pattern = trie_regex(self._payloads) if self._payloads else r"(?!x)x"
        self._regex = re.compile(f"(?<!\\w)(?:{pattern})(?!\\w)")

    def find(self, text: str) -> list[tuple[int, int, tuple[T, ...]]]:
        """Non-overlapping matches ``(start, end, payloads)`` in normalised ``text``."""
        found: list[tuple[int, int, tuple[T, ...]]] = []
        for match in self._regex.finditer(text):
            payloads = self._payloads.get(_match_key(match.group()))
            if payloads:
                found.append((match.start(), match.end(), payloads))
        return found

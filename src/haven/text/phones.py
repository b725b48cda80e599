"""Find phone numbers in folded ad text, including numbers hidden from naive filters.

Why: ads that want to avoid moderation write "two 0 two, five5five, oh one f0ur two" or
"zéro six quatre-vingt-dix-neuf ...", while prices, heights, dates, "24/7" and reference
numbers look like digit runs too. Running phonenumbers' matcher on every ad is both too
slow and blind to spelled digits, so this module:

1. builds a same-length scan copy in which emoji tokens are separators and o / l / i inside
   digit tokens are 0 / 1 ("0491 ⭐ 570", "6І7"), as are o / l / i-only tokens next to a
   digit group ("555, OIІО"); only stretches around digits are looked at, so prose costs
   little; then masks decoys (prices, times, heights, dates, references) in it;
2. scans once for *runs* of digit atoms - literal digits or digit words in English, French,
   Spanish and Portuguese, leetspeak ("f0ur", "c1nco", "s3pt") and sound-alike spellings
   ("sinko", "troa", "kuatro") included, glued or separated by short punctuation
   ("cero1unoocho": a stretched letter never swallows the start of the next word);
3. joins runs across weak tokens ("oh", "o", "for", "to", "fore", "ate", "hun") only when
   digits sit on both sides, or at the edge of a spelled run that is no number without
   them, so prose such as "for two nights" or "I ate at two" never turns into a number;
4. hands only candidate windows of a plausible length to ``phonenumbers.parse`` (memoised,
   region-first validity check) and keeps those that are valid numbers.

A number counts as ``obscured`` when it only appears after de-obfuscation (words, weak
tokens, look-alike characters, odd separators or digit-by-digit spacing).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from haven.text.normalize import NormalizedText, trie_regex

__all__ = ["PhoneCandidate", "PhoneError", "find_phones"]


class PhoneError(ValueError):
    """Raised for an unknown region code."""


@dataclass(frozen=True)
class PhoneCandidate:
    """A phone number found in normalised text (span in ``NormalizedText.text``)."""

    start: int
    end: int
    e164: str
    obscured: bool


# Digit words: value and kind ("u" unit 0-9, "t" 10-19, "d" tens 20-90, "x" 2-digit whole).
_WORDS: dict[str, dict[str, tuple[int, str]]] = {
    "en": {
        "zero": (0, "u"), "one": (1, "u"), "two": (2, "u"), "three": (3, "u"),
        "four": (4, "u"), "five": (5, "u"), "six": (6, "u"), "seven": (7, "u"),
        "eight": (8, "u"), "nine": (9, "u"), "ten": (10, "t"), "eleven": (11, "t"),
        "twelve": (12, "t"), "thirteen": (13, "t"), "fourteen": (14, "t"),
        "fifteen": (15, "t"), "sixteen": (16, "t"), "seventeen": (17, "t"),
        "eighteen": (18, "t"), "nineteen": (19, "t"), "twenty": (20, "d"),
        "thirty": (30, "d"), "forty": (40, "d"), "fourty": (40, "d"), "fifty": (50, "d"),
        "sixty": (60, "d"), "seventy": (70, "d"), "eighty": (80, "d"), "ninety": (90, "d"),
    },
    "fr": {
        "zero": (0, "u"), "un": (1, "u"), "une": (1, "u"), "deux": (2, "u"),
        "trois": (3, "u"), "quatre": (4, "u"), "cinq": (5, "u"), "six": (6, "u"),
        "sept": (7, "u"), "huit": (8, "u"), "neuf": (9, "u"), "dix": (10, "t"),
        "onze": (11, "t"), "douze": (12, "t"), "treize": (13, "t"), "quatorze": (14, "t"),
        "quinze": (15, "t"), "seize": (16, "t"), "vingt": (20, "d"), "trente": (30, "d"),
        "quarante": (40, "d"), "cinquante": (50, "d"), "soixante": (60, "d"),
        "quatre vingt": (80, "d"), "quatre vingts": (80, "d"), "septante": (70, "d"),
        "huitante": (80, "d"), "octante": (80, "d"), "nonante": (90, "d"),
    },
    "es": {
        "cero": (0, "u"), "uno": (1, "u"), "una": (1, "u"), "dos": (2, "u"),
        "tres": (3, "u"), "cuatro": (4, "u"), "cinco": (5, "u"), "seis": (6, "u"),
        "siete": (7, "u"), "ocho": (8, "u"), "nueve": (9, "u"), "diez": (10, "t"),
        "once": (11, "t"), "doce": (12, "t"), "trece": (13, "t"), "catorce": (14, "t"),
        "quince": (15, "t"), "dieciseis": (16, "t"), "diecisiete": (17, "t"),
        "dieciocho": (18, "t"), "diecinueve": (19, "t"), "veinte": (20, "d"),
        "veintiuno": (21, "x"), "veintiun": (21, "x"), "veintidos": (22, "x"),
        "veintitres": (23, "x"), "veinticuatro": (24, "x"), "veinticinco": (25, "x"),
        "veintiseis": (26, "x"), "veintisiete": (27, "x"), "veintiocho": (28, "x"),
        "veintinueve": (29, "x"), "treinta": (30, "d"), "cuarenta": (40, "d"),
        "cincuenta": (50, "d"), "sesenta": (60, "d"), "setenta": (70, "d"),
        "ochenta": (80, "d"), "noventa": (90, "d"),
    },
    "pt": {
        "zero": (0, "u"), "um": (1, "u"), "uma": (1, "u"), "dois": (2, "u"),
        "duas": (2, "u"), "tres": (3, "u"), "quatro": (4, "u"), "cinco": (5, "u"),
        "seis": (6, "u"), "meia": (6, "u"), "sete": (7, "u"), "oito": (8, "u"),
        "nove": (9, "u"), "dez": (10, "t"), "onze": (11, "t"), "doze": (12, "t"),
        "treze": (13, "t"), "catorze": (14, "t"), "quatorze": (14, "t"), "quinze": (15, "t"),
        "dezesseis": (16, "t"), "dezasseis": (16, "t"), "dezessete": (17, "t"),
        "dezassete": (17, "t"), "dezoito": (18, "t"), "dezenove": (19, "t"),
        "dezanove": (19, "t"), "vinte": (20, "d"), "trinta": (30, "d"),
        "quarenta": (40, "d"), "cinquenta": (50, "d"), "sessenta": (60, "d"),
        "setenta": (70, "d"), "oitenta": (80, "d"), "noventa": (90, "d"),
    },
}  # fmt: skip
# Sound-alike spellings that are not ordinary words: full digit words of their language.
_SOUND_ALIKES: dict[str, dict[str, int]] = {
    "en": {"wun": 1, "fower": 4, "fiv": 5, "sevan": 7, "ait": 8, "nien": 9, "aour": 4},
    "fr": {
        "hun": 1, "deu": 2, "troa": 3, "trwa": 3, "katr": 4, "katre": 4, "quatr": 4,
        "sink": 5, "sinq": 5, "cink": 5, "set": 7, "sett": 7, "wit": 8, "uit": 8,
        "neu": 9, "sis": 6,
    },
    "es": {
        "uhno": 1, "doz": 2, "trez": 3, "kuatro": 4, "kwatro": 4, "sinko": 5, "cinko": 5,
        "sinco": 5, "seiz": 6, "seys": 6, "otcho": 8, "nuebe": 9, "sero": 0, "zero": 0,
    },
    "pt": {
        "hum": 1, "doiz": 2, "treis": 3, "trez": 3, "kuatro": 4, "kwatro": 4, "sinko": 5,
        "sinco": 5, "seiz": 6, "seys": 6, "seti": 7, "oitu": 8, "novi": 9, "zeru": 0, "hume": 1,
    },
}  # fmt: skip
for _lang, _aliases in _SOUND_ALIKES.items():
    for _alias, _value in _aliases.items():
        _WORDS[_lang].setdefault(_alias, (_value, "u"))
# Three-letter starts of digit words (and "oh"): a stretched letter stops where one of them
# begins ("zeroonethree", "zerooh").
_WORD_STARTS = (
    "(?:"
    + "|".join(
        sorted({w.replace(" ", "")[:3] for t in _WORDS.values() for w in t if len(w) >= 3} | {"oh"})
    )
    + ")"
)
# "double five" = 55; connectors between tens and units ("vingt et un", "noventa y nueve").
_REPEATERS = {"double": 2, "triple": 3}
_CONNECTORS = frozenset({"and", "et", "y", "e"})
# Weak tokens stand for a digit only with digits on both sides (or glued to one), or at the
# edge of a run of spelled digits when the run is no number without them.
_WEAK = {
    "oh": "0", "o": "0", "for": "4", "fore": "4", "to": "2", "too": "2", "tree": "3",
    "ate": "8", "won": "1", "hun": "1", "uhn": "1", "kat": "4", "cet": "7",
}  # fmt: skip
_GLUED_ONLY = {"l": "1", "i": "1"}
_WEAK_WORDS = "|".join(sorted(_WEAK, key=len, reverse=True))

_LEET = {"o": "0", "i": "1", "l": "1", "e": "3", "a": "4", "s": "5", "t": "7"}
# A leet "1" may stand for i, l or o ("c1nco", "e1even", "1ne"): keys are tried in turn.
_UNLEET = tuple(
    str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "1": one})
    for one in ("i", "l", "o")
)
_ACCENTS = {"a": "àáâãä", "c": "ç", "e": "èéêë", "i": "ìíîï", "n": "ñ", "o": "òóôõö", "u": "ùúûü"}
_ONE_AS_O = "1"  # extra leet form of "o" at the start of a word only ("1ne")
# Spellings whose leading digit is no letter's leet form: matched as written ("4our" is
# looked up as its unleeted key "aour").
_LEET_ONLY = ("1ne", "4our")


def _word_class(char: str) -> str:
    """A letter, its accented and leet forms, then optional repeats ("unno", "fiiive").

    A repeat is not taken where another digit word starts ("unoocho", "nineeight"), nor
    right before the letter's leet digit: "three3" is three then 3, not "thre" + "e" + "3".
    """
    if char == " ":
        return r"[\s\-]*"
    leet = _LEET.get(char, "")
    variants = _ACCENTS.get(char, "") + leet
    single = f"[{char}{variants}]" if variants else re.escape(char)
    if not char.isalpha():
        return single
    not_leet = f"(?!{leet})" if leet else ""
    return f"{single}(?:(?!{_WORD_STARTS}){re.escape(char)}{not_leet})*"


def _collapse(word: str) -> str:
    """Squeeze repeated letters so that stretched spellings share one key ("unno" → "uno")."""
    return "".join(char for char, _ in itertools.groupby(word))


@functools.lru_cache(maxsize=1024)
def _bare(word: str) -> str:
    """``word`` without accents, repeats kept ("três" → "tres", "three" stays)."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.lru_cache(maxsize=4096)
def _word_keys(word: str) -> tuple[str, ...]:
    """Lookup keys of a matched digit word: no accents, leet, separators or repeats."""
    keys: list[str] = []
    for table in _UNLEET if any(c in word for c in "01345") else _UNLEET[:1]:
        decomposed = unicodedata.normalize("NFD", word.translate(table))
        letters = "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c))
        keys.append(_collapse(letters))
    return tuple(keys)


_LANGS = ("en", "fr", "es", "pt")
_OH = "oh"  # "oh" for zero is an atom of its own kind: kept inside a run, trimmed at its end
_EMOJI_GAP = "\x1f"  # emoji tokens become runs of this character in the scan text
_EMOJI_RUN = re.compile(f"{_EMOJI_GAP}+")


@dataclass(frozen=True)
class _Tables:
    words: dict[str, tuple[int, str]]
    base: dict[str, tuple[int, str]]  # the plain digit words only, no sound-alikes
    run: re.Pattern[str]
    atom: re.Pattern[str]


def _tables(langs: Iterable[str]) -> _Tables:
    words: dict[str, tuple[int, str]] = {_OH: (0, "oh")}
    for lang in langs:
        for word, value in _WORDS[lang].items():
            words.setdefault(_collapse(word.replace(" ", "")), value)
    spelled = _spelled_keys(langs)
    keys = {*spelled, *(_collapse(key) for key in spelled), *_REPEATERS, _OH}
    # A digit-led spelling counts only as a whole token end: "11neuf" is 1 1 neuf, not 1 one.
    leet_only = "|".join(f"{key}(?![^\\W\\d_])" for key in _LEET_ONLY)
    alternation = leet_only + "|" + trie_regex(sorted(keys), _word_class)
    # One digit per atom, so that a leet word may start right after digits ("0100ne").
    # An o / l / i glued to the front of an atom or to the end of one is a digit
    # ("0lumsete", "οnueve9", "neufо"); `_atoms` reads it as a look-alike atom.
    glued = f"[oli](?=(?:{alternation})|[0-9])"
    atom = f"(?:{alternation})|[0-9]|{glued}|(?<=[^\\W_])[oli](?![^\\W\\d_])"
    # no word atom starts mid-word
    first = f"(?<![^\\W\\d_])(?:{alternation})|[0-9]"
    chars = r"[ \t\-.()/,*_|~:•·+\[\]]"
    # An emoji token counts as one mark; possessive: no atom starts with a mark (fast scan).
    sep = f"{chars}{{0,3}}+(?:{_EMOJI_GAP}++{chars}{{0,3}}+)*+"
    run = re.compile(f"(?:{first})(?:{sep}(?:(?:and|et|y|e)[ \\t\\-]+)?(?:{atom}))*")
    base = {
        key: value
        for lang in langs
        for word, value in _WORDS[lang].items()
        if word not in _SOUND_ALIKES[lang] and " " not in word
        for key in (_bare(word),)
    }
    return _Tables(words, base, run, re.compile(atom))


def _spelled_keys(langs: Iterable[str]) -> list[str]:
    return sorted({word for lang in langs for word in _WORDS[lang]})


@functools.cache
def _tables_for(lang: str | None) -> _Tables:
    """A language's tables (with English), or every language's; built on first use, since
    compiling the spelled-number patterns takes seconds and most processes never read a
    phone number (a scan server's workers, most `haven` commands)."""
    return _tables(_LANGS) if lang is None else _tables((lang, "en"))


_NO_LETTER = r"(?![^\W\d_])"  # no letter follows, accented ones included ("0170 más")
# Decoys: digit runs that are prices, times, heights, dates or references, never phones.
_NOT_AFTER_DIGIT = r"(?<!\d)(?<!\d[\-./ ])"
_NOT_BEFORE_DIGIT = r"(?!\d)(?![\-./ ]\d)"
_DECOY = re.compile(
    "|".join(
        [
            r"[$€£¥]\s?\d[\d,.]*",
            r"\d[\d,.]*\s?(?:[$€£]|usd|aud|eur|gbp|dollars?|euros?|bucks|roses?|reais)"
            + _NO_LETTER,
            r"\d+\s?(?:/|per|par|por|la|l')\s?(?:h|hr|hrs|hour|heure|hora|\d*\s?min)",
            r"\d+[ \t]?(?:hh|hr|hrs|h|min|mins|ans|años|anos|yo|yrs?|years?|cm|kg|kgs|lbs?|m)"
            + _NO_LETTER,
            r"(?<![\d/])(?<![\d/] )(?<![^\W\d_])\d{1,2}\s?/\s?7(?!\d)(?!\s?/\s?\d)",
            r"7j/7|24h/24|\d{1,2}\s?[:h]\s?\d{2}(?!\d)",
            r"\d\s?'\s?\d{1,2}(?:\"|'')?|\d\s?(?:ft|feet)\s?\d{0,2}",
            _NOT_AFTER_DIGIT
            + r"(?!00)\d{1,2}([\-./])(?!00)\d{1,2}\1(?:19|20)?\d{2}"
            + _NOT_BEFORE_DIGIT,
            _NOT_AFTER_DIGIT
            + r"(?:19|20)\d{2}([\-./])(?!00)\d{1,2}\2(?!00)\d{1,2}"
            + _NOT_BEFORE_DIGIT,
            _NOT_AFTER_DIGIT + r"\d{2}[a-h]{0,3}-\d{2}-\d{2}" + _NOT_BEFORE_DIGIT,
            r"(?<![a-z])(?:ref|réf|reference|référence|referencia|referência|id|order|"
            r"invoice|ticket|code|zip|postcode|annonce|anuncio|anúncio|no\.|n°|nº|#)"
            r"\s?[.:#]?\s?[0-9a-z]*[0-9](?:[0-9a-z\-/]|[ ](?=[0-9]))*[0-9]",  # stops at words
        ]
    )
)
_DECOY_START = re.compile(r"[0-9$€£¥#]")
_DECOY_KEYWORD = re.compile(
    r"(?:ref|réf|id|order|invoice|ticket|code|zip|postcode|annonce|anuncio|anúncio|no\.|n°|nº)"
)
_WEAK_SEP = "[ \\t\\-.,/|:~]"
# Between two runs an emoji token counts as one mark, as do "*", "_", "•" and "·".
_GAP_SEP = f"(?:[ \\t\\-.,/|:~*_•·]|{_EMOJI_GAP}+)"
# Tokens of o / l / i only ("o", "І", "Ol", "oo") are digits between two runs of digits.
_LOOKALIKE_WORD = "(?!(?:lol|oil|loo|lool|lolo|lil)(?![^\\W\\d_]))[oli]{1,5}"
_GAP_TOKEN = re.compile(f"(?<![^\\W\\d_])(?:{_WEAK_WORDS}|{_LOOKALIKE_WORD})(?![^\\W\\d_])")
# One to three weak or look-alike tokens between two runs ("nin3 - o z3ro", "5*o*І*9").
_WEAK_GAP = re.compile(f"(?:{_GAP_SEP}{{0,3}}{_GAP_TOKEN.pattern}){{1,3}}{_GAP_SEP}{{0,3}}|(l|i)")
_WEAK_TOKEN = re.compile(f"{_WEAK_WORDS}")
# One to four o / l / i tokens spaced off the start or the end of a run.
_LOOKALIKE_PIECE = re.compile("[oli]+")
_LOOK_LEAD = re.compile(
    f"(?<![^\\W\\d_])({_LOOKALIKE_WORD}(?:{_GAP_SEP}{{1,3}}{_LOOKALIKE_WORD}){{0,3}})"
    f"{_GAP_SEP}{{1,3}}$"
)
_LOOK_TRAIL = re.compile(
    f"{_GAP_SEP}{{1,3}}({_LOOKALIKE_WORD}(?:{_GAP_SEP}{{1,3}}{_LOOKALIKE_WORD}){{0,3}})"
    "(?![^\\W\\d_])(?! +[^\\W\\d_])"
)
_WEAK_BEFORE = re.compile(f"(?<![a-z])({_WEAK_WORDS})$")
# A weak token spaced off the edge of a run that starts or ends with a spelled digit.
_WEAK_LEAD = re.compile(
    f"(?<![^\\W\\d_])((?:{_WEAK_WORDS})(?:{_WEAK_SEP}{{1,3}}(?:{_WEAK_WORDS})){{0,2}})"
    f"{_WEAK_SEP}{{1,3}}$"
)
_WEAK_TRAIL = re.compile(
    f"{_WEAK_SEP}{{1,3}}((?:{_WEAK_WORDS})(?:{_WEAK_SEP}{{1,3}}(?:{_WEAK_WORDS})){{0,2}})"
    "(?![^\\W\\d_])"
)
_PLAIN_GAP = re.compile(r"\s?[\-./]?\s?|\)\s?|\s?\(")
_NANP_TRUNK = frozenset({"US", "CA"})
_TRUNK_REQUIRED = frozenset({"FR", "AU", "GB", "NZ", "DE", "BE", "NL", "CH", "AT", "IE", "BR"})


@dataclass(frozen=True)
class _Atom:
    start: int
    end: int
    digits: str
    kind: str  # "digit" | "word" | "weak"


_MARGIN = 16  # characters of context kept around a candidate window for decoy patterns


def _candidate_windows(
    text: str, spans: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Stretches of text where runs of digit atoms could hold a phone number, and those runs.

    Runs chain when at most twelve characters apart, an emoji counting as one, or sixteen
    when only weak or look-alike tokens sit between; a chain
    shorter than seven characters cannot
    hold seven digits (no atom has more digits than characters), so it is dropped
    before any atom is parsed.
    """
    clusters: list[tuple[int, int, list[tuple[int, int]]]] = []
    for start, end in spans:
        last = clusters[-1][1] if clusters else 0
        if clusters and (_marks(text, last, start) <= 12 or _lookalike_gap(text, last, start)):
            clusters[-1][2].append((start, end))
            clusters[-1] = (clusters[-1][0], end, clusters[-1][2])
        else:
            clusters.append((start, end, [(start, end)]))
    windows: list[tuple[int, int]] = []
    kept: list[tuple[int, int]] = []
    for start, end, members in clusters:
        if end - start < 7:
            continue
        kept.extend(members)
        start, end = max(0, start - _MARGIN), min(len(text), end + _MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows, kept


def _lookalike_gap(text: str, start: int, end: int) -> bool:
    """A gap of up to sixteen marks made of weak or look-alike tokens ("5 . O . l . O . 5")."""
    return _marks(text, start, end) <= 16 and _WEAK_GAP.fullmatch(text, start, end) is not None


def _mask_decoys(text: str, windows: list[tuple[int, int]], folded: str) -> str:
    """Replace decoy spans inside ``windows`` by newlines (same length: offsets stay valid).

    Decoys are looked for in the scan text and, where look-alike letters were read as
    digits there, in ``folded`` (the text before that reading) as well: "01.01.2026 ol
    99 00" stays a date though "ol" scans as "01". A decoy of ``folded`` counts only when
    it and what precedes it read the same in both: in "+33-I-99-00-21" the "I" is a digit, so
    "99-00-21" is no date.
    """
    spans: list[tuple[int, int]] = []
    for window_start, window_end in windows:
        found = [m.span() for m in _decoys(text, window_start, window_end)]
        if text[window_start:window_end] != folded[window_start:window_end]:
            for match in _decoys(folded, window_start, window_end):
                start, end = max(0, match.start() - 2), match.end()
                if text[start:end] == folded[start:end]:
                    found.append(match.span())
            found.sort()
        spans.extend(found)
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if end <= start:
            continue
        pieces.append(text[position:start])
        pieces.append("\n" * (end - start))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _decoys(text: str, start: int, end: int) -> list[re.Match[str]]:
    """What ``_DECOY.finditer`` finds in ``text[start:end]``, tried only where one can start.

    Every decoy starts with a digit, a currency sign, "#" or a reference keyword; two
    prefix scans find those places far faster than trying the whole pattern everywhere.
    """
    starts = sorted(
        {m.start() for m in _DECOY_START.finditer(text, start, end)}
        | {m.start() for m in _DECOY_KEYWORD.finditer(text, start, end)}
    )
    found: list[re.Match[str]] = []
    reached = start
    for position in starts:
        if position < reached:
            continue
        match = _DECOY.match(text, position, end)
        if match is not None and match.end() > match.start():
            found.append(match)
            reached = match.end()
    return found


def _atoms(text: str, start: int, end: int, tables: _Tables) -> list[_Atom]:
    """Split a run into atoms and fold spelled numbers ("quatre-vingt-dix-neuf" → 99)."""
    atoms: list[_Atom] = []
    pending_repeat = 1
    for match in tables.atom.finditer(text, start, end):
        raw = match.group()
        if raw.isdigit():
            previous = atoms[-1] if atoms else None
            if previous is not None and previous.kind == "digit" and previous.end == match.start():
                atoms[-1] = _Atom(previous.start, match.end(), previous.digits + raw, "digit")
            else:
                atoms.append(_Atom(match.start(), match.end(), raw * pending_repeat, "digit"))
            pending_repeat = 1
            continue
        if raw in _LOOKALIKE_DIGIT:  # a look-alike letter glued to an atom
            atoms.append(_Atom(match.start(), match.end(), _LOOKALIKE_DIGIT[raw], "look"))
            pending_repeat = 1
            continue
        keys = _word_keys(raw)
        if keys[0] in _REPEATERS:
            pending_repeat = _REPEATERS[keys[0]]
            continue
        entry = next((tables.words[k] for k in keys if k in tables.words), None)
        head = _digit_after_word(raw, tables)
        if head is not None:
            entry = head
        if entry is None:
            continue
        word_end = match.end() - (head is not None)
        value, kind = entry
        if kind == _OH:
            atoms.append(_Atom(match.start(), word_end, "0" * pending_repeat, _OH))
        else:
            previous = atoms[-1] if atoms else None
            combined = None
            if previous is not None and previous.kind == "word" and pending_repeat == 1:
                prev_value = int(previous.digits) if len(previous.digits) == 2 else -1
                gap = text[previous.end : match.start()]
                if _TENS_GAP.fullmatch(gap):
                    combined = _combine(prev_value, value, kind, gap)
            if combined is not None and previous is not None:
                atoms[-1] = _Atom(previous.start, word_end, f"{combined:02d}", "word")
            else:
                digits = str(value) if kind == "u" else f"{value:02d}"
                atoms.append(_Atom(match.start(), word_end, digits * pending_repeat, "word"))
        pending_repeat = 1
        if head is not None:
            atoms.append(_Atom(word_end, match.end(), raw[-1], "digit"))
    return atoms


def _digit_after_word(raw: str, tables: _Tables) -> tuple[int, str] | None:
    """The digit word before a glued digit that could also be a leet letter: "un3" is
    un + 3 rather than "une", "8um4" is 8, um, 4 rather than "uma" (a plain digit word,
    not a sound-alike, must come first: "fiv3" stays five)."""
    head = raw[:-1]
    if len(raw) < 3 or not raw[-1].isdigit() or not head.isalpha():
        return None
    return tables.base.get(_bare(head))


# Between a tens word and its unit: spaces, hyphens, "and"; a comma or slash ends the pair.
_TENS_GAP = re.compile(r"[ \t\-]*(?:(?:and|et|y|e)[ \t\-]+)?")


def _combine(previous: int, value: int, kind: str, gap: str) -> int | None:
    """Join a tens word with what follows: "forty two", "soixante-dix", "vingt et un"."""
    if previous < 10 or len(gap) > 5:
        return None
    if previous >= 20 and previous % 10 == 0 and kind == "u" and 1 <= value <= 9:
        return previous + value
    if previous in (60, 80) and kind == "t":
        return previous + value
    if previous == 10 and kind == "u" and 7 <= value <= 9:
        return 10 + value
    return None


def _weak_digit(text: str, start: int, end: int) -> str | None:
    match = _WEAK_GAP.fullmatch(text, start, end)
    if match is None:
        return None
    if match.group(1):
        return _GLUED_ONLY[match.group(1)]
    return _weak_tokens(match.group())


def _weak_tokens(gap: str) -> str:
    """Digits of the weak tokens in a gap ("oh oh" → "00", "uhn kat" → "14")."""
    return "".join(_gap_digits(token.group()) for token in _GAP_TOKEN.finditer(gap))


def _gap_digits(token: str) -> str:
    weak = _WEAK.get(token)
    return weak if weak is not None else token.translate(_LOOKALIKE_DIGITS)


def _marks(text: str, start: int, end: int) -> int:
    """Length of ``text[start:end]`` with each emoji token counted as one character."""
    if end - start <= 16:
        return end - start
    gaps = text.count(_EMOJI_GAP, start, end)
    if not gaps:
        return end - start
    return end - start - gaps + len(_EMOJI_RUN.findall(text, start, end))


def _runs(
    masked: str,
    tables: _Tables,
    scan: str,
    scan_spans: list[tuple[int, int]],
) -> list[list[_Atom]]:
    """Runs of atoms, merged across weak tokens, that hold at least seven digits.

    A run that masking left untouched is kept from the first scan (no second scan).
    """
    spans: list[tuple[int, int]] = []
    for span in scan_spans:
        if masked[span[0] : span[1]] == scan[span[0] : span[1]]:
            spans.append(span)
        else:  # a decoy was masked inside this run: split what is left of it
            spans.extend(m.span() for m in tables.run.finditer(masked, *span))
    merged: list[list[_Atom]] = []
    current: list[_Atom] = []
    last_end = -10
    for start, end in spans:
        atoms = _atoms(masked, start, end, tables)
        while atoms and atoms[0].kind != "digit" and start > 0 and masked[start - 1].isalpha():
            atoms.pop(0)  # word atom glued to preceding letters ("someone")
            start = atoms[0].start if atoms else end
        while atoms and atoms[-1].kind != "digit" and end < len(masked) and masked[end].isalpha():
            atoms.pop()
            end = atoms[-1].end if atoms else start
        while len(atoms) > 1 and _loose_oh(atoms[-2], atoms[-1]):
            atoms.pop()  # "... 0142 oh" - a trailing "oh" counts only glued or after words
        if not atoms:
            continue
        del atoms[: _word_tail(masked, atoms)]  # digits ending a name ("official86 | 415 ...")
        weak = None
        if current and 0 < _marks(masked, last_end, atoms[0].start) <= 16:
            weak = _weak_digit(masked, last_end, atoms[0].start)
        if weak is not None:
            current.append(_Atom(last_end, atoms[0].start, weak, "weak"))
            current.extend(atoms)
        else:
            if current:
                merged.append(current)
            current = _with_glued_weak(masked, atoms)
        last_end = current[-1].end
    if current:
        merged.append(current)
    return [run for run in merged if _may_hold_number(masked, run)]


def _may_hold_number(text: str, run: list[_Atom]) -> bool:
    """Seven digits or more, or three or more with o / l / i tokens spaced off an edge
    ("2 o 2 5 5 5 o l o o") that `_with_lookalike_edges` may add."""
    digits = sum(len(atom.digits) for atom in run)
    if digits >= 7:
        return True
    if digits < 3:
        return False
    return _LOOK_TRAIL.match(text, run[-1].end) is not None or (
        _LOOK_LEAD.search(text, max(0, run[0].start - 60), run[0].start) is not None
    )


def _word_tail(text: str, atoms: list[_Atom]) -> int:
    """How many leading atoms are digits glued to the end of a word (a handle, a name, a
    wallet: "official86", "lac7l") spaced off a run that holds a number of its own
    ("star52 - 916.555.0129"); 0 when none.

    A weak token glued in front ("for80 ...") is no word of its own and stays.
    """
    start = atoms[0].start if atoms else 0
    if atoms[0].kind != "digit" or start < 2:
        return 0
    if not (text[start - 1].isalpha() and text[start - 2].isalpha()):
        return 0
    count = 1
    while count < len(atoms) and atoms[count].start == atoms[count - 1].end:
        if atoms[count].kind not in ("digit", "look"):
            return 0
        count += 1
    if count == len(atoms) or _WEAK_BEFORE.search(text, max(0, start - 4), start) is not None:
        return 0
    return count if sum(len(atom.digits) for atom in atoms[count:]) >= 7 else 0


def _loose_oh(previous: _Atom, last: _Atom) -> bool:
    return last.kind == _OH and previous.kind == "digit" and last.start > previous.end


def _with_glued_weak(text: str, atoms: list[_Atom]) -> list[_Atom]:
    """Accept a weak token glued to the front of a run ("for80 2sixseven")."""
    first = atoms[0]
    if first.kind != "digit":
        return atoms
    match = _WEAK_BEFORE.search(text, max(0, first.start - 3), first.start)
    if match is None:
        return atoms
    return [_Atom(match.start(), first.start, _WEAK[match.group(1)], "weak"), *atoms]


def _is_plain(atoms: list[_Atom], nt: NormalizedText, scan: str) -> bool:
    """True when the number is written the ordinary way (digits in groups, usual marks)."""
    if any(atom.kind != "digit" for atom in atoms):
        return False
    if nt.text[atoms[0].start : atoms[-1].end] != scan[atoms[0].start : atoms[-1].end]:
        return False  # look-alike letters or emoji between the digits
    if sum(1 for atom in atoms if len(atom.digits) == 1) >= 3:
        return False  # digit-by-digit spacing

    for left, right in itertools.pairwise(atoms):
        if not _PLAIN_GAP.fullmatch(nt.text, left.end, right.start):
            return False
    start, end = nt.original_span(atoms[0].start, atoms[-1].end)
    return all(char.isascii() for char in nt.original[start:end])


@functools.lru_cache(maxsize=8192)
def _parse(digits: str, international: bool, region: str, whole_run: bool) -> str | None:
    """E.164 form of a candidate digit string, or None when it is not a valid number.

    Memoised (a pure function of its arguments): ads repeat numbers and failed prefixes.
    """
    candidates: list[tuple[str, str]] = []
    if international:
        candidates.append(("+" + digits, region))
    elif digits.startswith("00") and len(digits) > 9:
        candidates.append(("+" + digits[2:], region))
    elif digits.startswith("011") and region in _NANP_TRUNK and len(digits) > 10:
        candidates.append(("+" + digits[3:], region))
    else:
        if region not in _TRUNK_REQUIRED or digits.startswith("0"):
            candidates.append((digits, region))
        if whole_run and len(digits) >= 11:
            candidates.append(("+" + digits, region))
    for text, parse_region in candidates:
        try:
            number = phonenumbers.parse(text, parse_region)
        except phonenumbers.NumberParseException:
            continue
        # The region's own check is far cheaper than is_valid_number's search over every
        # region sharing the country code (25 for +1); it decides the common case.
        if phonenumbers.is_valid_number_for_region(number, parse_region) or (
            phonenumbers.is_valid_number(number)
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _plus_before(text: str, start: int) -> int | None:
    """Index of a "+" (or the word "plus") written just before ``start``, if any."""
    window = text[max(0, start - 6) : start]
    stripped = window.rstrip(" ")
    if stripped.endswith("+"):
        return start - (len(window) - len(stripped)) - 1
    if stripped.endswith("plus"):
        return start - (len(window) - len(stripped)) - 4
    return None


def _national_lengths(region: str) -> frozenset[int]:
    """Digit counts a nationally written number may have (with its trunk prefix)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return frozenset(range(7, 17))
    lengths = set(metadata.general_desc.possible_length or range(7, 16))
    trunk = len(metadata.national_prefix or "")
    return frozenset(lengths | {length + trunk for length in lengths})


def _windows(
    run: list[_Atom], nt: NormalizedText, scan: str, region: str
) -> tuple[list[PhoneCandidate], bool]:
    """Greedy left-to-right: the longest valid number starting at each atom.

    Also says whether a reading is doubtful: a number written after "+" read only as a
    national one, or a foreign number read with no "+" or international prefix.
    """
    found: list[PhoneCandidate] = []
    doubtful = False
    text = scan
    national = _national_lengths(region)
    home = f"+{phonenumbers.country_code_for_region(region)}"
    index = 0
    count = len(run)
    while index < count:
        plus = _plus_before(text, run[index].start)
        if run[index].kind == "weak" and index > 0:
            plus = None
        hit: tuple[int, str] | None = None
        digits_total = 0
        prefix_lengths: list[int] = []
        for atom in run[index:]:
            digits_total += len(atom.digits)
            prefix_lengths.append(digits_total)
        for stop in range(count, index, -1):
            length = prefix_lengths[stop - index - 1]
            if not 7 <= length <= 16:
                continue
            digits = "".join(atom.digits for atom in run[index:stop])
            whole = index == 0 and stop == count
            if (
                plus is None
                and length not in national
                and not digits.startswith("0")
                and not (whole and length >= 11)
            ):
                continue
            e164 = _parse(digits, plus is not None, region, whole)
            if e164 is None and plus is not None:
                e164 = _parse(digits, False, region, whole)
                doubtful = doubtful or e164 is not None
            elif e164 is not None and plus is None and not e164.startswith(home):
                # a foreign number with no "+" is read so only when nothing better is found
                doubtful = doubtful or not digits.startswith(("00", "011"))
            if e164 is not None:
                hit = (stop, e164)
                break
        if hit is None:
            index += 1
            continue
        stop, e164 = hit
        atoms = run[index:stop]
        while atoms and atoms[-1].kind == "weak":
            atoms = atoms[:-1]
        start = plus if plus is not None else atoms[0].start
        if plus is None and start > 0 and text[start - 1] == "(":
            start -= 1
        obscured = not _is_plain(atoms, nt, scan) or (plus is not None and text[plus] != "+")
        found.append(PhoneCandidate(start, atoms[-1].end, e164, obscured))
        index = stop
    return found, doubtful


def find_phones(
    nt: NormalizedText, *, region: str = "US", lang: str | None = None
) -> list[PhoneCandidate]:
    """Phone numbers in ``nt.text`` as E.164, with spans in the normalised text.

    ``region`` is the ISO country assumed for numbers written without a country code;
    ``lang`` narrows the digit words to that language plus English (None: all four).
    """
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise PhoneError(f"unknown region {region!r}")
    tables = _tables_for(lang if lang in _LANGS else None)
    gapped, scan = _scan_text(nt.text)
    scan_spans = [match.span() for match in tables.run.finditer(scan)]
    windows, scan_spans = _candidate_windows(scan, scan_spans)
    if not windows:
        return []
    masked = _mask_decoys(scan, windows, gapped)
    found: list[PhoneCandidate] = []
    for run in _runs(masked, tables, scan, scan_spans):
        hits, doubtful = _windows(run, nt, scan, region)
        if not hits or doubtful:
            # No number, or one written after "+" that only parses nationally: a weak or
            # look-alike token at an edge may complete the number as written.
            fallback: list[PhoneCandidate] = []
            for edged in _with_weak_edges(masked, run):
                edged_hits, edged_doubtful = _windows(edged, nt, scan, region)
                if edged_hits and not edged_doubtful:
                    hits = edged_hits
                    break
                fallback = fallback or edged_hits
            else:
                hits = hits or fallback
        found.extend(hits)
    return found


def _with_weak_edges(text: str, run: list[_Atom]) -> list[list[_Atom]]:
    """Runs with spaced weak tokens added before or after spelled digits at their edges.

    Tried only when the run alone holds no number ("o for n1ne ...", "... s1x uhn"), so
    that "call 202 555 0142 to book" keeps its number as written. Up to three weak tokens
    per edge, fewer weak tokens than spelled digits in all; variants with
    the most tokens come first.
    """
    first, last = run[0], run[-1]
    leads: list[_Atom] = []
    trails: list[_Atom] = []
    if first.kind in ("word", _OH):
        lead = _WEAK_LEAD.search(text, max(0, first.start - 16), first.start)
        if lead is not None:
            for token in _WEAK_TOKEN.finditer(text, lead.start(1), lead.end(1)):
                leads.append(_Atom(token.start(), token.end(), _WEAK[token.group()], "edge"))
    if last.kind in ("word", _OH):
        trail = _WEAK_TRAIL.match(text, last.end)
        if trail is not None:
            for token in _WEAK_TOKEN.finditer(text, trail.start(1), trail.end(1)):
                trails.append(_Atom(token.start(), token.end(), _WEAK[token.group()], "edge"))
    variants: list[list[_Atom]] = []
    words = sum(1 for atom in run if atom.kind == "word")
    inner_weak = sum(1 for atom in run if atom.kind == "weak")
    for lead_count in range(len(leads), -1, -1):
        for trail_count in range(len(trails), -1, -1):
            # Weak tokens must stay a small share of a spelled run ("tree to one to one").
            weak = inner_weak + lead_count + trail_count
            if (lead_count or trail_count) and weak < words:
                head = leads[len(leads) - lead_count :]
                variants.append([*head, *run, *trails[:trail_count]])
    variants.extend(_with_lookalike_edges(text, run))
    return variants


def _with_lookalike_edges(text: str, run: list[_Atom]) -> list[list[_Atom]]:
    """Runs with o / l / i tokens spaced off their edges read as digits ("Ο 49 I57 Ο 98 O").

    Tried after the weak-token variants and only when the run alone holds no number; a
    token followed by a space and a word stays a word ("... 0142 I am").
    """
    first, last = run[0], run[-1]
    leads: list[_Atom] = []
    trails: list[_Atom] = []
    lead = _LOOK_LEAD.search(text, max(0, first.start - 60), first.start)
    if lead is not None:
        leads = _lookalike_atoms(text, lead.start(1), lead.end(1))
    trail = _LOOK_TRAIL.match(text, last.end)
    if trail is not None:
        trails = _lookalike_atoms(text, trail.start(1), trail.end(1))
    variants: list[list[_Atom]] = []
    for lead_count in range(len(leads), -1, -1):
        for trail_count in range(len(trails), -1, -1):
            if lead_count or trail_count:
                head = leads[len(leads) - lead_count :]
                variants.append([*head, *run, *trails[:trail_count]])
    return variants


def _lookalike_atoms(text: str, start: int, end: int) -> list[_Atom]:
    return [
        _Atom(token.start(), token.end(), token.group().translate(_LOOKALIKE_DIGITS), "look")
        for token in _LOOKALIKE_PIECE.finditer(text, start, end)
    ]


_EMOJI_TOKEN = re.compile(r" :([^\s:]{1,80}): ")
_KEYCAP = re.compile(r"keycap_(\d+)")
# A token of digits mixed with o / l / i look-alikes ("o49i", "6l7", "ol95"), no other letter.
# (Tokens of digits alone are not matched: nothing to replace in them.)
_LOOKALIKE_TOKEN = re.compile(r"(?<![^\W\d_])(?:[oli]+[0-9]|[0-9]+[oli])[0-9oli]*(?![^\W\d_])")
# Tokens of o / l / i only ("oiio", "ol"): digits when a digit group sits next to them.
_LETTERS_ONLY_TOKEN = re.compile(r"(?<![^\W\d_])(?=[oli]*o)[oli]{2,5}(?![^\W\d_])")
# Tokens of l / i only ("il", "ІІ"): 1s only at the edge of a phone-shaped run of digit
# groups ("01.99.00.67.il"), since "il" and "li" are ordinary words next to a lone number.
_ONES_TOKEN = re.compile(  # starts with [li] so that the scan skips ahead fast
    r"[li](?<=[0-9][.\-/][li])[li]{0,3}(?![^\W\d_])"
    # after a space, not when a word follows: "202 555 0142 i am free" keeps its pronoun
    r"|[li](?<=[0-9] [li])[li]{0,3}(?![^\W\d_])(?! +[^\W\d_])"
    r"|[li](?<![^\W\d_][li])[li]{0,3}(?=[ .\-/][0-9])"
)
_GROUPS_BEFORE = re.compile(r"(?<![^\W_])[0-9]{2,4}([ .\-/])(?:[0-9]{2,4}\1){2,}$")
_GROUPS_AFTER = re.compile(r"([ .\-/])(?:[0-9]{2,4}\1){2,}[0-9]{2,4}(?![^\W_])")
_LETTER_WORDS = frozenset({"lol", "oil", "loo", "lool", "lolo"})
_GROUP_SEP = r"[ \t\-.,/()|:*_•·\x1f]{1,3}"
_GROUP_BEFORE = re.compile(f"(?<![^\\W\\d_])[0-9]{{2,3}}{_GROUP_SEP}$")
_GROUP_AFTER = re.compile(f"{_GROUP_SEP}[0-9]{{2,3}}(?![^\\W\\d_])")
_LOOKALIKE_DIGIT = {"o": "0", "l": "1", "i": "1"}
_LOOKALIKE_DIGITS = str.maketrans(_LOOKALIKE_DIGIT)


def _scan_text(text: str) -> tuple[str, str]:
    """Same-length copies of ``text`` for the digit scan: with emoji as gaps, and the scan.

    Emoji tokens become `_EMOJI_GAP` runs (a keycap keeps its digits); in the scan, o / l / i
    inside digit tokens also become 0 / 1, so "0491 ⭐ 570" and "6І7" scan like ordinary
    digit runs.
    """
    if ":" in text:
        text = _EMOJI_TOKEN.sub(_emoji_gap, text)
    pieces: list[str] = []
    position = 0
    for start, end in _digit_regions(text):
        pieces.append(text[position:start])
        piece = _LOOKALIKE_TOKEN.sub(_lookalike_digits, text[start:end])
        piece = _LETTERS_ONLY_TOKEN.sub(_letters_next_to_digits, piece)
        pieces.append(_ONES_TOKEN.sub(_ones_next_to_groups, piece))
        position = end
    if not pieces:
        return text, text
    pieces.append(text[position:])
    return text, "".join(pieces)


_DIGIT_GROUP = re.compile(r"[0-9]+")
_REGION_MARGIN = 14  # look-alike tokens sit in or next to a digit group


def _digit_regions(text: str) -> list[tuple[int, int]]:
    """Whitespace-bounded stretches around digit groups: the only places look-alikes count.

    Prose far from any digit is left alone, which keeps the look-alike passes cheap.
    """
    regions: list[tuple[int, int]] = []
    size = len(text)
    for match in _DIGIT_GROUP.finditer(text):
        start, end = match.start() - _REGION_MARGIN, match.end() + _REGION_MARGIN
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    snapped: list[tuple[int, int]] = []
    for start, end in regions:
        start = text.rfind(" ", 0, max(0, start)) + 1
        stop = text.find(" ", min(end, size))
        end = size if stop < 0 else stop
        if snapped and start <= snapped[-1][1]:
            snapped[-1] = (snapped[-1][0], end)
        else:
            snapped.append((start, end))
    return snapped


def _letters_next_to_digits(match: re.Match[str]) -> str:
    """Read "oiio", "ol", "oo" as digits only beside a digit group ("555, oiio", "ol 99")."""
    token = match.group()
    if token in _LETTER_WORDS:
        return token
    text, start, end = match.string, match.start(), match.end()
    before = _GROUP_BEFORE.search(text, max(0, start - 8), start)
    if before is None and _GROUP_AFTER.match(text, end) is None:
        return token
    return token.translate(_LOOKALIKE_DIGITS)


def _ones_next_to_groups(match: re.Match[str]) -> str:
    """Read "il", "ll" as 1s after or before three digit groups with one separator."""
    text, start, end = match.string, match.start(), match.end()
    if _GROUPS_BEFORE.search(text, max(0, start - 20), start) is None and (
        _GROUPS_AFTER.match(text, end) is None
    ):
        return match.group()
    return match.group().translate(_LOOKALIKE_DIGITS)


def _emoji_gap(match: re.Match[str]) -> str:
    size = match.end() - match.start()
    keycap = _KEYCAP.fullmatch(match.group(1))
    if keycap is None:
        return _EMOJI_GAP * size
    digits = keycap.group(1)
    return (_EMOJI_GAP + digits).ljust(size, _EMOJI_GAP)


def _lookalike_digits(match: re.Match[str]) -> str:
    return match.group().translate(_LOOKALIKE_DIGITS)

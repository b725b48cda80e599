"""Synthetic classified ads with exact ground truth, for testing and benchmarking `haven.text`.

Why: the text engine (entities, indicators, linking) must be measured on ads whose truth is
known to the character, and Haven never holds real ads. This module writes benign-worded
ads in the style of companionship, massage and "personal" classifieds, plus plainly benign
classifieds as negatives, in English, French, Spanish and Portuguese. Every ad carries:

- the exact span, written form and normalized value of every phone, e-mail, handle, URL,
  bitcoin wallet, price, stated age and city it contains (`TruthEntity`);
- whether each phone or e-mail is obfuscated (spelled digits, leetspeak, look-alike
  Unicode, separators, emoji) and the spans of phone-like noise that is *not* a phone
  (prices, heights, dates, "24/7", reference numbers: `decoys`);
- the indicator ids of shared/reference/indicators.md it was written to carry;
- the advertiser or operation it belongs to (`cluster`) and the ground-truth reading of that
  cluster (`kind`): operations posting from one template with slotted names, sharing a few
  phones and a photo hash and moving across cities; spam spanning many cities or phones;
  independent advertisers and benign sellers.

Hard rules kept here: phone numbers only from fictional ranges (US +1 NXX 555-0100..0199,
Australia +61 491 570 xxx, France +33 1 99 00 xx xx), e-mail and web domains only reserved
example names, wallets with random payloads, nothing explicit, nothing about minors, and
every record says `synthetic: true`. The generator shares no pattern table with
`haven.text`: the extractor is judged on text it was not built from.

Everything is seeded (`random.Random(seed)`) and reproducible; no set of strings is ever
iterated to make a choice (string hashing is randomised per process).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from haven.synth import ad_vocabulary as vocab

__all__ = [
    "AD_KINDS",
    "CATEGORIES",
    "ENTITY_TYPES",
    "OBFUSCATION_STYLES",
    "WALLET_KINDS",
    "SynthError",
    "SyntheticAd",
    "TruthEntity",
    "ad_record",
    "base58check_encode",
    "bech32_segwit_encode",
    "generate_ads",
    "make_wallet",
    "obfuscate_email",
    "obfuscate_phone",
    "write_jsonl",
]

ENTITY_TYPES = ("phone", "email", "handle", "url", "wallet", "price", "age", "city")
AD_KINDS = ("trafficking-like", "spam", "benign")
CATEGORIES = ("companion", "massage", "classified")
WALLET_KINDS = ("p2pkh", "p2sh", "p2wpkh", "p2wsh")

# How a phone number can be hidden from filters. Styles combine freely.
OBFUSCATION_STYLES = (
    "spelled",  # digits written out in the ad's language, digit by digit
    "spelled_pairs",  # two-digit groups written out ("quatre-vingt-dix-neuf")
    "leet",  # homophones and digit-for-letter spellings ("for", "to", "oh", "f0ur")
    "mixed",  # digits and words run together ("for80 2sixseven")
    "separators",  # odd separators and regrouping ("2.0.2*555*01.42")
    "emoji_separators",  # emoji between digits or groups
    "fullwidth",  # full-width digits "２０２"
    "circled",  # circled digits "②⓪②", also negative circled "❷⓿❷"
    "math_digits",  # mathematical bold / double-struck / sans / monospace digits "𝟐𝟎𝟐"
    "keycap",  # keycap emoji "2️⃣0️⃣2️⃣"
    "homoglyph_letters",  # look-alike letters for 0 and 1 (Latin/Cyrillic/Greek O, l, I)
)
_STYLE_SET = frozenset(OBFUSCATION_STYLES)
_T = TypeVar("_T")


def _pick(rng: random.Random, seq: Sequence[_T]) -> _T:
    """rng.choice without its overhead (the corpus generator calls it millions of times)."""
    return seq[int(rng.random() * len(seq))]


def _sample(rng: random.Random, seq: Sequence[_T], k: int) -> list[_T]:
    """rng.sample without its overhead: k distinct items by a partial Fisher-Yates shuffle."""
    pool = list(seq)
    n = len(pool)
    if not 0 <= k <= n:
        raise SynthError(f"cannot draw {k} items from {n}")
    for i in range(k):
        j = i + int(rng.random() * (n - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo))


class SynthError(ValueError):
    """Bad input to the synthetic ad generator (count, seed, digits, style, language)."""


@dataclass(frozen=True, slots=True)
class TruthEntity:
    """One entity of an ad, exactly as written (`text == ad.text[span[0]:span[1]]`)."""

    type: str
    text: str
    normalized: str
    span: tuple[int, int]
    obscured: bool = False


@dataclass(frozen=True, slots=True)
class SyntheticAd:
    """A synthetic ad and its ground truth (see the module docstring)."""

    id: str
    text: str
    lang: str
    region: str
    city: str
    posted_at: str
    entities: tuple[TruthEntity, ...]
    indicators: tuple[str, ...]
    decoys: tuple[tuple[int, int], ...]
    cluster: str | None
    kind: str
    image_pdq: str | None
    synthetic: bool = True
    category: str = "companion"  # "companion" | "massage" | "classified" (extra truth)


# ------------------------------------------------------------------------------ wallets

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def base58check_encode(version: int, payload: bytes) -> str:
    """Base58Check: version byte + payload + the first 4 bytes of double SHA-256."""
    if not 0 <= version <= 255:
        raise SynthError(f"version byte out of range: {version}")
    raw = bytes((version,)) + payload
    data = raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _bech32_polymod(values: Iterable[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _BECH32_GEN[i]
    return chk


def bech32_segwit_encode(hrp: str, version: int, program: bytes) -> str:
    """A BIP-173 Bech32 segwit address (version 0: 20- or 32-byte programs)."""
    if version != 0 or len(program) not in (20, 32):
        raise SynthError("only segwit v0 with a 20- or 32-byte program is generated")
    acc = bits = 0
    data = [version]
    for byte in program:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _bech32_polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(mod >> (5 * (5 - i))) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def make_wallet(rng: random.Random, kind: str | None = None) -> str:
    """A checksum-valid bitcoin mainnet address with a random (owner-less) payload."""
    kind = kind or _pick(rng, WALLET_KINDS)
    if kind == "p2pkh":
        return base58check_encode(0x00, rng.randbytes(20))
    if kind == "p2sh":
        return base58check_encode(0x05, rng.randbytes(20))
    if kind == "p2wpkh":
        return bech32_segwit_encode("bc", 0, rng.randbytes(20))
    if kind == "p2wsh":
        return bech32_segwit_encode("bc", 0, rng.randbytes(32))
    raise SynthError(f"unknown wallet kind {kind!r}; one of {WALLET_KINDS}")


# ------------------------------------------------------------------------ obfuscation

_DIGITS_RE = re.compile(r"\+?[0-9]{4,15}")
_ROUND_TENS = frozenset(("20", "30", "40", "50", "60", "70", "80", "90"))
_CIRCLED = ("⓪", *(chr(0x2460 + i) for i in range(9)))
_NEG_CIRCLED = ("⓿", *(chr(0x2776 + i) for i in range(9)))
_MATH_BASES = (0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6)
_ZERO_LOOKALIKES = ("O", "o", "О", "о", "Ο", "ο")  # Latin, Cyrillic, Greek
_ONE_LOOKALIKES = ("l", "I", "І")  # Latin small L, Latin capital I, Cyrillic І
_GLYPH_STYLES = ("fullwidth", "circled", "math_digits", "keycap", "homoglyph_letters")
_PLAIN_GROUP_SEPS = (" ", " ", "-", ".", " - ", ", ", " / ")


def _natural_groups(digits: str) -> list[str]:
    """How the number is grouped when read out: +cc, then the national convention."""
    if digits.startswith("+"):
        body = digits[1:]
        cc = "1" if body.startswith("1") else body[:2]
        rest = body[len(cc) :]
        if cc == "1":
            sizes: Sequence[int] = (3, 3, 4)
        elif cc == "33":
            sizes = (1, 2, 2, 2, 2)
        else:
            sizes = (3, 3, 3)
        return ["+" + cc, *_chunk(rest, sizes)]
    if len(digits) == 10 and digits.startswith("04"):
        return _chunk(digits, (4, 3, 3))
    if digits.startswith("0"):
        return _chunk(digits, (2,) * 5)
    return _chunk(digits, (3, 3, 4))


def _chunk(digits: str, sizes: Sequence[int]) -> list[str]:
    out: list[str] = []
    i = 0
    for size in sizes:
        if i >= len(digits):
            break
        out.append(digits[i : i + size])
        i += size
    if i < len(digits):
        out[-1] += digits[i:]
    return [g for g in out if g]


def _irregular_groups(body: str, rng: random.Random) -> list[str]:
    if rng.random() < 0.4:
        return list(body)
    out: list[str] = []
    i = 0
    while i < len(body):
        size = _pick(rng, (1, 2, 2, 3))
        out.append(body[i : i + size])
        i += size
    return out


def _render_unit(unit: str, style: str, lang: str, rng: random.Random, math_base: int) -> str:
    if style == "ascii":
        return unit
    if style == "spelled_pairs":
        return vocab.spell_number(int(unit), lang)
    d = int(unit)
    if style == "spelled":
        word = _pick(rng, vocab.SPELLED_DIGITS[lang][d])
        r = rng.random()
        return word.upper() if r < 0.08 else word.capitalize() if r < 0.16 else word
    if style == "leet":
        return _pick(rng, vocab.LEET_DIGITS[lang][d])
    if style == "fullwidth":
        return chr(0xFF10 + d)
    if style == "circled":
        return (_CIRCLED if rng.random() < 0.8 else _NEG_CIRCLED)[d]
    if style == "math_digits":
        return chr(math_base + d)
    if style == "keycap":
        return unit + "\ufe0f\u20e3"
    # homoglyph_letters: only 0 and 1 have look-alike letters; others stay as they are.
    if d == 0:
        return _pick(rng, _ZERO_LOOKALIKES)
    if d == 1:
        return _pick(rng, _ONE_LOOKALIKES)
    return unit


def obfuscate_phone(
    digits: str,
    lang: str,
    rng: random.Random,
    *,
    styles: Iterable[str] | None = None,
) -> tuple[str, bool]:
    """Write a phone number the way filter-dodging ads do; return (text, obscured).

    `digits` is the number as dialled: national ("2025550142", "0491570123",
    "0199001234") or international ("+12025550142"). `styles` is any subset of
    `OBFUSCATION_STYLES`; None draws 1-3 at random; an empty collection writes the number
    plainly, grouped the national way, and returns obscured=False. Every non-empty mix
    returns obscured=True and text from which the digits can be read back in order
    (words in `lang`, look-alike characters, separators ignored). A style that cannot
    apply to a digit (look-alike letters exist only for 0 and 1) leaves it as written,
    and if nothing at all was hidden one digit is written full-width.
    """
    if not isinstance(digits, str) or not _DIGITS_RE.fullmatch(digits):
        raise SynthError(f"digits must be 4-15 ASCII digits, optionally after '+': {digits!r}")
    if lang not in vocab.LANGS:
        raise SynthError(f"unknown language {lang!r}; one of {vocab.LANGS}")
    if styles is None:
        chosen = _sample(rng, OBFUSCATION_STYLES, _pick(rng, (1, 1, 2, 2, 3)))
    else:
        chosen = list(dict.fromkeys(styles))
        unknown = [s for s in chosen if s not in _STYLE_SET]
        if unknown:
            raise SynthError(f"unknown obfuscation styles {unknown}; one of {OBFUSCATION_STYLES}")
    groups = _natural_groups(digits)
    if not chosen:
        sep = _pick(rng, (" ", "-", "."))
        return sep.join(groups), False

    has = set(chosen)  # membership only, never iterated
    mixed = "mixed" in has
    pairs = "spelled_pairs" in has
    unit_styles = [s for s in chosen if s in ("spelled", "leet", *_GLYPH_STYLES)]
    if mixed and not any(s in ("spelled", "leet", "spelled_pairs") for s in chosen):
        unit_styles.append("spelled")
    if pairs and not unit_styles:
        unit_styles.append("spelled")
    math_base = _pick(rng, _MATH_BASES)

    plus = groups[0].startswith("+")
    head = groups[0][1:] if plus else None
    if "separators" in has:
        body = "".join(groups[1:] if plus else groups)
        natural_body = groups[1:] if plus else groups
        irregular = _irregular_groups(body, rng)
        if irregular == natural_body:
            irregular = list(body)
        groups = ([groups[0]] if plus else []) + irregular
        group_sep = _pick(rng, vocab.ODD_SEPARATORS)
    elif "emoji_separators" in has:
        emo = _pick(rng, vocab.EMOJI_SEPARATORS)
        group_sep = _pick(rng, (emo, " " + emo + " ", emo + emo))
    else:
        group_sep = _pick(rng, _PLAIN_GROUP_SEPS)
    emoji_every_digit = "emoji_separators" in has and rng.random() < 0.4
    if emoji_every_digit:
        group_sep = _pick(rng, vocab.EMOJI_SEPARATORS)

    # (text, kind, canonical-word) per unit; kind: "word" | "glyph"; group boundary flags.
    rendered: list[tuple[str, str, bool, bool, str]] = []
    hidden = False
    for gi, group in enumerate(groups):
        g = head if (plus and gi == 0) else group
        assert g is not None
        units: list[str] = []
        if pairs and len(g) >= 2 and rng.random() < 0.85:
            start = len(g) % 2
            if start:
                units.append(g[0])
            for k in range(start, len(g), 2):
                pair = g[k : k + 2]
                units.extend((pair[0], pair[1]) if pair[0] == "0" else (pair,))
        else:
            units.extend(g)
        for ui, unit in enumerate(units):
            if len(unit) == 2:
                style = "spelled_pairs"
            elif mixed and rng.random() < 0.45:
                style = "ascii"
            else:
                style = _pick(rng, unit_styles) if unit_styles else "ascii"
            text = _render_unit(unit, style, lang, rng, math_base)
            if text != unit:
                hidden = True
            kind = "word" if style in ("spelled", "leet", "spelled_pairs") else "glyph"
            rendered.append((text, kind, ui == 0, style == "spelled", unit))
    if not hidden and not ("separators" in has or "emoji_separators" in has):
        for idx, (_, kind, first, canon, unit) in enumerate(rendered):
            if kind == "glyph" and len(unit) == 1:
                rendered[idx] = (chr(0xFF10 + int(unit)), kind, first, canon, unit)
                break

    out: list[str] = ["+"] if plus else []
    prev: tuple[str, str, bool, bool, str] | None = None
    for cur in rendered:
        if prev is not None:
            out.append(_join(prev, cur, group_sep, mixed, emoji_every_digit, rng))
        out.append(cur[0])
        prev = cur
    return "".join(out), True


def _join(
    prev: tuple[str, str, bool, bool, str],
    cur: tuple[str, str, bool, bool, str],
    group_sep: str,
    mixed: bool,
    emoji_every_digit: bool,
    rng: random.Random,
) -> str:
    """What goes between two rendered units, so that the digits read back unambiguously.

    Units are (text, kind, first_in_group, canonical_spelled_word, digits).
    """
    prev_word, cur_word = prev[1] == "word", cur[1] == "word"
    if cur[2] or emoji_every_digit:
        sep = group_sep
    elif not (prev_word or cur_word):
        sep = ""  # glyphs and digits run together
    elif mixed and not (prev_word and cur_word):
        sep = ""  # "for80", "2six"
    elif mixed and prev[3] and cur[3] and rng.random() < 0.5:
        sep = ""  # "sixseven": plain digit words stay readable run together
    else:
        sep = " "
    if prev_word or cur_word:
        # A bare hyphen between number words reads as one compound ("forty-two").
        if sep.strip() == "-":
            sep = " - "
        # After a round ten, anything but a clear break reads as a compound ("soixante dix").
        if prev_word and prev[4] in _ROUND_TENS and "," not in sep and "/" not in sep:
            sep = ", "
    return sep


_EMAIL_AT = {"en": ("at",), "fr": ("at", "arobase"), "es": ("arroba", "at"), "pt": ("arroba", "at")}
_EMAIL_DOT = {
    "en": ("dot",),
    "fr": ("point", "dot"),
    "es": ("punto", "dot"),
    "pt": ("ponto", "dot"),
}


def obfuscate_email(address: str, lang: str, rng: random.Random) -> str:
    """'bella22 at example dot com' and friends, in the ad's language."""
    local, _, domain = address.partition("@")
    if not local or not domain:
        raise SynthError(f"not an e-mail address: {address!r}")
    at = _pick(rng, _EMAIL_AT.get(lang, ("at",)))
    dot = _pick(rng, _EMAIL_DOT.get(lang, ("dot",)))
    form = _below(rng, 5)
    if form == 0:
        return local + f" {at} " + domain.replace(".", f" {dot} ")
    if form == 1:
        return local + f" ({at}) " + domain.replace(".", f" ({dot}) ")
    if form == 2:
        return local + f"[{at}]" + domain.replace(".", f"[{dot}]")
    if form == 3:
        return local + " @ " + domain.replace(".", " . ")
    return local + f" {at.upper()} " + domain.replace(".", f" {dot.upper()} ")


# ------------------------------------------------------------------------------ phones


@dataclass(frozen=True, slots=True)
class _Phone:
    country: str  # "US" | "AU" | "FR"
    nsn: str  # national significant number (no trunk 0)

    @property
    def e164(self) -> str:
        return "+" + _CC[self.country] + self.nsn

    def dialled(self, international: bool) -> str:
        if international:
            return self.e164
        return self.nsn if self.country == "US" else "0" + self.nsn


_CC = {"US": "1", "AU": "61", "FR": "33"}
# City area codes first (so a city's block indices are small), then every other one.
_US_AREA_CODES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [*(code for _, codes in vocab.CITIES["US"] for code in codes), *vocab.US_AREA_CODES]
    )
)
_POOL_SIZE = {"US": 100 * len(_US_AREA_CODES), "AU": 1000, "FR": 10000}
_BLOCK = {"US": 100, "AU": 1000, "FR": 100}

_PLAIN_NATIONAL = {
    "US": (
        "{0}-{1}-{2}",
        "({0}) {1}-{2}",
        "{0}.{1}.{2}",
        "{0} {1} {2}",
        "{0}{1}{2}",
        "1-{0}-{1}-{2}",
    ),
    "AU": ("0{0} {1} {2}", "0{0}{1}{2}", "0{0}-{1}-{2}", "0{0} {1}{2}"),
    "FR": (
        "0{0} {1} {2} {3} {4}",
        "0{0}.{1}.{2}.{3}.{4}",
        "0{0}{1}{2}{3}{4}",
        "0{0}-{1}-{2}-{3}-{4}",
    ),
}
_PLAIN_INTL = {
    "US": ("+1 {0} {1} {2}", "+1-{0}-{1}-{2}", "+1 ({0}) {1}-{2}", "+1{0}{1}{2}", "+1.{0}.{1}.{2}"),
    "AU": ("+61 {0} {1} {2}", "+61{0}{1}{2}", "+61 {0}-{1}-{2}", "+61 (0) {0} {1} {2}"),
    "FR": (
        "+33 {0} {1} {2} {3} {4}",
        "+33 (0){0} {1} {2} {3} {4}",
        "+33{0}{1}{2}{3}{4}",
        "+33 {0}.{1}.{2}.{3}.{4}",
    ),
}


def _phone_parts(phone: _Phone) -> tuple[str, ...]:
    n = phone.nsn
    if phone.country == "US":
        return n[:3], n[3:6], n[6:]
    if phone.country == "AU":
        return n[:3], n[3:6], n[6:]
    return n[0], n[1:3], n[3:5], n[5:7], n[7:9]


def _phone_from_index(country: str, index: int) -> _Phone:
    if country == "US":
        area, last = divmod(index, 100)
        return _Phone("US", f"{_US_AREA_CODES[area]}55501{last:02d}")
    if country == "AU":
        return _Phone("AU", f"491570{index:03d}")
    return _Phone("FR", f"19900{index:04d}")


class _PhonePool:
    """Hands out fictional numbers, each to one advertiser only while the range lasts."""

    __slots__ = ("exhausted", "free", "rng", "unique", "used")

    def __init__(self, rng: random.Random, unique: bool) -> None:
        self.rng = rng
        self.unique = unique
        self.used = {c: bytearray(n) for c, n in _POOL_SIZE.items()}
        self.free = dict(_POOL_SIZE)
        self.exhausted = dict.fromkeys(_POOL_SIZE, False)

    def take(
        self, country: str, count: int, consecutive: bool, blocks: Sequence[int]
    ) -> list[_Phone]:
        """Up to `count` numbers: consecutive ones when asked and possible, near `blocks`
        (US area-code blocks of the advertiser's city) when possible."""
        used, size, block = self.used[country], _POOL_SIZE[country], _BLOCK[country]
        rng = self.rng
        if consecutive and not self.exhausted[country]:
            for _ in range(20):
                base = (_pick(rng, blocks) if blocks else _below(rng, size // block)) * block
                start = base + _below(rng, block - count + 1)
                idx = range(start, start + count)
                if not any(used[i] for i in idx):
                    for i in idx:
                        used[i] = 1
                    self.free[country] -= count
                    return [_phone_from_index(country, i) for i in idx]
        out: list[_Phone] = []
        for _ in range(count):
            index = self._one(country, blocks)
            if index < 0:
                if not self.unique:
                    out.append(_phone_from_index(country, _below(rng, size)))
                continue
            used[index] = 1
            self.free[country] -= 1
            out.append(_phone_from_index(country, index))
        return out

    def _one(self, country: str, blocks: Sequence[int]) -> int:
        """A free index, or -1 once 40 probes in a row miss (the range is nearly used up)."""
        if self.exhausted[country]:
            return -1
        used, size, block, rng = self.used[country], _POOL_SIZE[country], _BLOCK[country], self.rng
        for attempt in range(40):
            if blocks and attempt < 10:
                index = _pick(rng, blocks) * block + _below(rng, block)
            else:
                index = _below(rng, size)
            if not used[index]:
                return index
        self.exhausted[country] = True
        return -1


def _plain_phone(phone: _Phone, international: bool, region: str, rng: random.Random) -> str:
    parts = _phone_parts(phone)
    if international:
        forms = _PLAIN_INTL[phone.country]
        if phone.country == "FR" and region == "FR" and rng.random() < 0.2:
            return "0033 " + "{} {} {} {} {}".format(*parts)
    else:
        forms = _PLAIN_NATIONAL[phone.country]
    return _pick(rng, forms).format(*parts)


# ---------------------------------------------------------------------------- templates

_SLOTS = (
    "name",
    "age",
    "city",
    "city2",
    "price",
    "price2",
    "rose",
    "height",
    "weight",
    "date",
    "time",
    "ref",
    "hours",
    "postcode",
    "venue",
    "deco",
)
_SLOT_ID = {name: i for i, name in enumerate(_SLOTS)}
(
    _S_NAME,
    _S_AGE,
    _S_CITY,
    _S_CITY2,
    _S_PRICE,
    _S_PRICE2,
    _S_ROSE,
    _S_HEIGHT,
    _S_WEIGHT,
    _S_DATE,
    _S_TIME,
    _S_REF,
    _S_HOURS,
    _S_POSTCODE,
    _S_VENUE,
    _S_DECO,
) = range(len(_SLOTS))
_SLOT_RE = re.compile(r"\{(\w+)\}")

Piece = str | int


@dataclass(frozen=True, slots=True)
class _Sentence:
    pieces: tuple[Piece, ...]
    tags: tuple[str, ...]  # indicator ids this sentence carries
    estimate: int  # rough rendered length
    needs_age18: bool = False


def _parse(template: str, tags: tuple[str, ...] = ()) -> _Sentence:
    pieces: list[Piece] = []
    pos = 0
    for m in _SLOT_RE.finditer(template):
        if m.start() > pos:
            pieces.append(template[pos : m.start()])
        name = m.group(1)
        if name not in _SLOT_ID:
            raise SynthError(f"unknown slot {{{name}}} in template {template!r}")
        pieces.append(_SLOT_ID[name])
        pos = m.end()
    if pos < len(template):
        pieces.append(template[pos:])
    estimate = sum(len(p) if isinstance(p, str) else 9 for p in pieces)
    needs18 = "youth" in tags and _S_AGE in pieces
    return _Sentence(tuple(pieces), tags, estimate, needs18)


def _parse_sections(
    sections: dict[str, dict[str, tuple[str, ...]]],
) -> dict[str, dict[str, tuple[_Sentence, ...]]]:
    return {
        sec: {lang: tuple(_parse(t) for t in texts) for lang, texts in by_lang.items()}
        for sec, by_lang in sections.items()
    }


_COMPANION = _parse_sections(vocab.COMPANION_SECTIONS)
_MASSAGE = _parse_sections(vocab.MASSAGE_SECTIONS)
_CLASSIFIED = {topic: _parse_sections(secs) for topic, secs in vocab.CLASSIFIED_SECTIONS.items()}
_CUES: dict[str, dict[str, tuple[_Sentence, ...]]] = {
    ind: {
        lang: tuple(_parse(t, (ind, *vocab.CUE_EXTRA_TAGS.get(t, ()))) for t in texts)
        for lang, texts in by_lang.items()
    }
    for ind, by_lang in vocab.INDICATOR_CUES.items()
}
_SLUGS = {
    name: unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    for name in vocab.NAMES
}
_CITY_NAMES = {region: tuple(c for c, _ in cities) for region, cities in vocab.CITIES.items()}
_CITY_BLOCKS = {
    city: tuple(_US_AREA_CODES.index(code) for code in codes) for city, codes in vocab.CITIES["US"]
}

# ------------------------------------------------------------------------------ decoys

_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
_FICTIONAL_DIGITS = re.compile(r"55501\d\d|491570|19900")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rand_digits(rng: random.Random, count: int) -> str:
    return f"{_below(rng, 10**count):0{count}d}"


def _ref_text(lang: str, rng: random.Random) -> str:
    """A reference number shaped like a phone number that no phone parser accepts."""
    while True:
        form = _below(rng, 5)
        if form == 0:
            core = f"{_pick(rng, ('2025', '2026'))}-{_rand_digits(rng, 4)}-{_rand_digits(rng, 4)}"
        elif form == 1:
            core = f"#{_pick(rng, '24789')}{_rand_digits(rng, 7)}"
        elif form == 2:
            head = f"1{_pick(rng, '24567')}{_below(rng, 10)}"
            core = f"{head}-{_rand_digits(rng, 3)}-{_rand_digits(rng, 4)}"
        elif form == 3:
            core = f"1{_pick(rng, '24567')} " + " ".join(_rand_digits(rng, 2) for _ in range(4))
        else:
            core = f"{_rand_digits(rng, 3)}-{_rand_digits(rng, 2)}-{_rand_digits(rng, 3)}"
            if core[0] == "0":
                continue
        if not _FICTIONAL_DIGITS.search(re.sub(r"\D", "", core)):
            break
    label = {
        "en": ("Ref ", "ID ", "ref. "),
        "fr": ("Réf. ", "n° "),
        "es": ("Ref. ", "n.º "),
        "pt": ("Ref. ", "nº "),
    }
    return _pick(rng, label[lang]) + core


def _height_text(lang: str, region: str, rng: random.Random) -> str:
    cm = _between(rng, 150, 186)
    if lang == "en" and region == "US" and rng.random() < 0.8:
        inches = round(cm / 2.54)
        ft, inch = divmod(inches, 12)
        return _pick(rng, (f"{ft}'{inch}\"", f"{ft}'{inch}", f"{ft}ft{inch}", f"{ft}’{inch}”"))
    if lang == "fr" or rng.random() < 0.3:
        return _pick(rng, (f"1m{cm - 100:02d}", f"1,{cm - 100:02d} m", f"{cm} cm"))
    return _pick(rng, (f"1.{cm - 100:02d} m", f"1,{cm - 100:02d} m", f"{cm} cm", f"{cm}cm"))


def _weight_text(lang: str, region: str, rng: random.Random) -> str:
    kg = _between(rng, 45, 76)
    if lang == "en" and region == "US":
        lbs = round(kg * 2.2046)
        return _pick(rng, (f"{lbs} lbs", f"{lbs}lbs", f"{lbs} lb"))
    return _pick(rng, (f"{kg} kg", f"{kg}kg"))


def _date_text(lang: str, region: str, ts: int, rng: random.Random) -> str:
    t = time.gmtime(ts + _between(rng, 1, 21) * 86400)
    d, m, y = t.tm_mday, t.tm_mon, t.tm_year
    if lang == "en" and region == "US":
        return _pick(
            rng,
            (
                f"{m:02d}/{d:02d}/{y}",
                f"{m}/{d}",
                f"{_MONTHS_EN[m - 1]} {d}",
                f"{y}-{m:02d}-{d:02d}",
            ),
        )
    return _pick(
        rng, (f"{d:02d}/{m:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d}/{m}", f"{y}-{m:02d}-{d:02d}")
    )


def _time_text(lang: str, rng: random.Random) -> str:
    a, b = _between(rng, 8, 13), _between(rng, 19, 24)
    if lang == "en":
        return _pick(
            rng,
            (
                f"{a}am-{b - 12}pm",
                f"from {a}am to {b - 12}pm",
                f"{a}:00-{b}:00",
                f"{a}am till late",
            ),
        )
    if lang == "fr":
        return _pick(rng, (f"de {a}h à {b}h", f"{a}h-{b}h", f"{a}h00 - {b}h30"))
    return _pick(rng, (f"de {a}:00 a {b}:00", f"{a}h-{b}h", f"{a}:00 - {b}:30"))


def _postcode_text(region: str, rng: random.Random) -> str:
    if region == "US":
        z = f"{_between(rng, 10000, 99999)}"
        return z if rng.random() < 0.7 else f"{z}-{_rand_digits(rng, 4)}"
    if region == "AU":
        return f"{_between(rng, 2000, 8000)}"
    return f"{_between(rng, 1, 96):02d}{_rand_digits(rng, 3)}"


# ------------------------------------------------------------------------------ prices

_CURRENCY = {"US": "USD", "AU": "AUD", "FR": "EUR"}


def _price_forms(lang: str, region: str) -> tuple[str, ...]:
    if region == "FR":
        if lang == "fr":
            return ("{}€", "{} €", "{} euros", "{} EUR")
        return ("{}€", "{} €", "{} euros")
    if region == "AU":
        return (
            ("${}", "AU${}", "{} AUD", "A${}", "{} dollars")
            if lang == "en"
            else ("${}", "AU${}", "{} AUD")
        )
    if lang == "en":
        return ("${}", "$ {}", "{} USD", "{} dollars", "${}.00")
    if lang == "es":
        return ("${}", "{} dólares", "{} USD")
    return ("US$ {}", "${}", "{} dólares", "{} USD")


_ROSE_FORMS = {
    "en": ("{} roses", "{}🌹", "{} 🌹"),
    "fr": ("{} roses", "{}🌹"),
    "es": ("{} rosas", "{}🌹"),
    "pt": ("{} rosas", "{}🌹"),
}
_CLASSIFIED_PRICES = {
    "tutoring": (20, 60, 2.0),
    "furniture": (60, 600, 0.6),
    "room": (450, 1400, 3.0),
    "bicycle": (80, 700, 1.0),
    "dog_walking": (15, 30, 3.0),
    "cleaning": (25, 45, 2.0),
    "lessons": (30, 60, 4.5),
}

# --------------------------------------------------------------------------- advertisers

# type -> (kind, category pool, share of ads, indicator weights, obscure probability)
_IND_WEIGHTS = {
    "operation": (
        ("trust", 0.6),
        ("youth", 0.35),
        ("ethnicity", 0.35),
        ("third_party", 0.45),
        ("many_people", 0.3),
        ("risky_services", 0.25),
        ("restricted_movement", 0.35),
        ("venue", 0.2),
        ("event_targeting", 0.12),
        ("availability", 0.4),
        ("emoji_code", 0.3),
        ("movement", 0.3),
        ("screening", 0.1),
    ),
    "spam": (
        ("movement", 0.6),
        ("availability", 0.5),
        ("trust", 0.4),
        ("emoji_code", 0.3),
        ("screening", 0.2),
    ),
    "independent": (
        ("screening", 0.5),
        ("movement", 0.35),
        ("trust", 0.12),
        ("availability", 0.1),
        ("emoji_code", 0.05),
    ),
}
_TYPES = (
    # type, kind, share of ads, obscure probability
    ("classified", "benign", 0.14, 0.03),
    ("classified_repost", "benign", 0.05, 0.03),
    ("independent", "benign", 0.22, 0.12),
    ("independent_repost", "benign", 0.09, 0.12),
    ("operation_single", "trafficking-like", 0.06, 0.45),
    ("operation", "trafficking-like", 0.32, 0.45),
    ("spam", "spam", 0.12, 0.3),
)
_LANG_WEIGHTS = (("en", 0.45), ("fr", 0.25), ("es", 0.18), ("pt", 0.12))
_LANG_REGIONS = {
    "en": (("US", 0.75), ("AU", 0.25)),
    "fr": (("FR", 1.0),),
    "es": (("US", 0.6), ("FR", 0.25), ("AU", 0.15)),
    "pt": (("US", 0.5), ("FR", 0.3), ("AU", 0.2)),
}
_PLATFORMS = tuple(vocab.PLATFORM_KEYWORDS)


def _size(kind: str, rng: random.Random) -> int:
    u = 1.0 - rng.random()
    if kind == "operation":
        if rng.random() < 0.03:
            return _between(rng, 51, 151)
        return min(50, 2 + int(u ** (-1 / 1.25)) - 1)
    if kind == "spam":
        return min(250, 12 + int(12 * u ** (-1 / 1.2)))
    if kind in ("classified_repost", "independent_repost"):
        return min(12, 1 + int(u ** (-1 / 2.0)))
    return 1


def _mean_size(kind: str) -> float:
    rng = random.Random(7)
    return sum(_size(kind, rng) for _ in range(4000)) / 4000


_TYPE_WEIGHTS = tuple(share / _mean_size(t) for t, _, share, _ in _TYPES)


def _weighted(pairs: Sequence[tuple[str, float]], rng: random.Random) -> str:
    r = rng.random() * sum(w for _, w in pairs)
    for item, w in pairs:
        r -= w
        if r < 0:
            return item
    return pairs[-1][0]


class _Advertiser:
    """One advertiser or operation: its persona pool, contacts, itinerary and template."""

    atype: str
    kind: str
    cluster: str | None
    size: int
    lang: str
    region: str
    category: str
    topic: str
    names: list[str]
    ages: dict[str, int]
    cities: list[str]
    phones: list[_Phone]
    intl: bool
    email: str | None
    handle: tuple[str, str] | None
    url: str | None
    wallet: str | None
    image: str | None
    image_share: float
    venue: str
    price_a: int
    price_b: int
    price_form: str
    rose: bool
    obscure: float
    paras: list[list[_Sentence]]
    contacts: list[str]
    start: int
    span_days: int
    edits: bool
    swaps: list[tuple[int, int, int, str, str]]


# ------------------------------------------------------------------------------ writer


class _Writer:
    """Appends text and records entity and decoy spans as it goes."""

    __slots__ = (
        "adv",
        "age",
        "city",
        "city2",
        "decoys",
        "entities",
        "name",
        "parts",
        "pos",
        "rng",
        "tags",
        "ts",
    )

    def __init__(self, adv: _Advertiser, rng: random.Random) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[TruthEntity] = []
        self.decoys: list[tuple[int, int]] = []
        self.tags: list[str] = []
        self.adv = adv
        self.rng = rng
        self.name = ""
        self.age = 0
        self.city = ""
        self.city2 = ""
        self.ts = 0

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def entity(
        self, typ: str, s: str, norm: str, obscured: bool = False, decoy: bool = False
    ) -> None:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        self.entities.append(TruthEntity(typ, s, norm, (start, self.pos), obscured))
        if decoy:
            self.decoys.append((start, self.pos))

    def decoy(self, s: str) -> None:
        start = self.pos
        self.parts.append(s)
        self.pos += len(s)
        self.decoys.append((start, self.pos))

    def price(self, amount: int, rose: bool) -> None:
        adv = self.adv
        if rose:
            form = _pick(self.rng, _ROSE_FORMS[adv.lang])
            self.tags.append("emoji_code")
        else:
            form = adv.price_form
        self.entity("price", form.format(amount), f"{amount} {_CURRENCY[adv.region]}", decoy=True)

    def sentence(self, s: _Sentence) -> None:
        adv, rng = self.adv, self.rng
        if s.tags:
            self.tags.extend(s.tags)
        for p in s.pieces:
            if type(p) is str:
                self.parts.append(p)
                self.pos += len(p)
            elif p == _S_NAME:
                self.add(self.name)
            elif p == _S_CITY:
                self.entity("city", self.city, self.city)
            elif p == _S_AGE:
                a = str(self.age)
                self.entity("age", a, a, decoy=True)
            elif p == _S_PRICE:
                self.price(adv.price_a, adv.rose)
            elif p == _S_PRICE2:
                self.price(adv.price_b, adv.rose)
            elif p == _S_ROSE:
                self.price(adv.price_b, True)
            elif p == _S_DECO:
                self.add(_pick(rng, vocab.DECORATIVE_EMOJI))
            elif p == _S_CITY2:
                self.entity("city", self.city2, self.city2)
            elif p == _S_HEIGHT:
                self.decoy(_height_text(adv.lang, adv.region, rng))
            elif p == _S_WEIGHT:
                self.decoy(_weight_text(adv.lang, adv.region, rng))
            elif p == _S_DATE:
                self.decoy(_date_text(adv.lang, adv.region, self.ts, rng))
            elif p == _S_TIME:
                self.decoy(_time_text(adv.lang, rng))
            elif p == _S_REF:
                self.decoy(_ref_text(adv.lang, rng))
            elif p == _S_HOURS:
                self.decoy(_pick(rng, vocab.HOURS_FORMS[adv.lang]))
                if adv.category != "classified":
                    self.tags.append("availability")
            elif p == _S_POSTCODE:
                self.decoy(_postcode_text(adv.region, rng))
            elif p == _S_VENUE:
                self.add(adv.venue)

    def phone(self, phone: _Phone, lead_kind: str) -> None:
        adv, rng = self.adv, self.rng
        self.add(_pick(rng, vocab.CONTACT_LEADS[lead_kind][adv.lang]))
        intl = phone.country != adv.region or adv.intl
        if rng.random() < adv.obscure:
            text, obscured = obfuscate_phone(phone.dialled(intl), adv.lang, rng)
        else:
            text, obscured = _plain_phone(phone, intl, adv.region, rng), False
        self.entity("phone", text, phone.e164, obscured)
        if obscured:
            self.tags.append("obscured_contact")

    def contact(self, item: str) -> None:
        adv, rng, lang = self.adv, self.rng, self.adv.lang
        if item == "email":
            assert adv.email is not None
            self.add(_pick(rng, vocab.CONTACT_LEADS["email"][lang]))
            if rng.random() < adv.obscure * 0.6:
                self.entity("email", obfuscate_email(adv.email, lang, rng), adv.email, True)
                self.tags.append("obscured_contact")
            else:
                shown = adv.email if rng.random() < 0.85 else adv.email.capitalize()
                self.entity("email", shown, adv.email)
        elif item == "handle":
            assert adv.handle is not None
            platform, name = adv.handle
            lead = _pick(rng, vocab.CONTACT_LEADS["handle"][lang])
            keyword = _pick(rng, vocab.PLATFORM_KEYWORDS[platform])
            self.add(f"{lead}{keyword}{_pick(rng, (': ', ' - ', ' ', ': '))}")
            shown = ("@" + name) if rng.random() < 0.35 else name
            self.entity("handle", shown, f"{platform}:{name.lower()}")
        elif item == "url":
            assert adv.url is not None
            self.add(_pick(rng, vocab.CONTACT_LEADS["url"][lang]))
            self.entity("url", adv.url, _normalize_url(adv.url))
        elif item == "wallet":
            assert adv.wallet is not None
            if adv.category == "classified":
                self.add(_pick(rng, vocab.PAYMENT_LEADS[lang]))
                self.entity("wallet", adv.wallet, adv.wallet)
            else:
                self.add(_pick(rng, vocab.WALLET_LEADS[lang]))
                self.entity("wallet", adv.wallet, adv.wallet)
                self.tags.append("screening")


def _normalize_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    host, slash, path = rest.partition("/")
    return (scheme.lower() + "://" if scheme else "") + host.lower() + slash + path


# ----------------------------------------------------------------------- construction


def _new_advertiser(
    atype: str,
    kind: str,
    obscure: float,
    size: int,
    serial: int,
    rng: random.Random,
    pool: _PhonePool,
    seen: dict[str, None],
) -> _Advertiser:
    adv = _Advertiser()
    adv.atype, adv.kind, adv.size = atype, kind, size
    prefix = {
        "operation": "op",
        "spam": "spam",
        "classified_repost": "seller",
        "independent_repost": "ind",
    }
    adv.cluster = f"synth-{prefix.get(atype, 'x')}-{serial:06d}" if size > 1 else None
    adv.lang = _weighted(_LANG_WEIGHTS, rng)
    adv.region = _weighted(_LANG_REGIONS[adv.lang], rng)
    benign_seller = atype.startswith("classified")
    adv.category = (
        "classified" if benign_seller else ("massage" if rng.random() < 0.35 else "companion")
    )
    adv.topic = _pick(rng, vocab.BENIGN_TOPICS) if benign_seller else ""
    adv.obscure = obscure
    group = "operation" if atype.startswith("operation") else atype.split("_")[0]

    # persona pool
    n_names = 1
    if group == "operation":
        n_names = min(10, 1 + int((1.0 - rng.random()) ** -0.9) - 1 + _below(rng, 2))
    elif group == "spam":
        n_names = _between(rng, 1, 6)
    adv.names = _sample(rng, vocab.NAMES, max(1, n_names))
    # cities (itinerary)
    cities = _CITY_NAMES[adv.region]
    if group == "spam":
        n_cities = rng.randrange(11, len(cities) + 1)
    elif group == "operation" and size > 1:
        n_cities = min(len(cities), 1 + min(size - 1, int(rng.expovariate(0.6))))
    elif group == "independent" and size > 1:
        n_cities = _pick(rng, (1, 1, 2))
    else:
        n_cities = 1
    adv.cities = _sample(rng, cities, n_cities)

    # indicators -> cue sentences
    cue_ids: list[str] = []
    if group in _IND_WEIGHTS:
        weights = _IND_WEIGHTS[group]
        cue_ids = [ind for ind, w in weights if rng.random() < w]
        if group == "operation" and len(cue_ids) < 2:
            cue_ids += [ind for ind, _ in _sample(rng, weights, 2)]
        cue_ids = list(dict.fromkeys(cue_ids))[: 5 if group == "operation" else 3]
    if (
        adv.category == "massage"
        and group == "operation"
        and rng.random() < 0.5
        and "venue" not in cue_ids
    ):
        cue_ids.append("venue")
    cues = [_pick(rng, _CUES[ind][adv.lang]) for ind in cue_ids]
    age18 = any(c.needs_age18 for c in cues)
    if age18:
        adv.ages = dict.fromkeys(adv.names, 18)
    elif group == "operation":
        adv.ages = {
            n: _pick(rng, (18, 19, 19, 20, 20, 21, 21, 22, 23, 24, 25, 27)) for n in adv.names
        }
    else:
        adv.ages = {n: _between(rng, 21, 46) for n in adv.names}

    # prices
    risky = "risky_services" in cue_ids
    currency = _CURRENCY[adv.region]
    if benign_seller:
        lo, hi, ratio = _CLASSIFIED_PRICES[adv.topic]
        a = _between(rng, lo, hi + 1)
        adv.price_a = a if a < 100 else a // 10 * 10
        adv.price_b = max(adv.price_a + 5, int(adv.price_a * ratio) // 5 * 5)
    else:
        hour = _between(rng, 40, 90) if risky else _between(rng, 150, 460)
        if currency == "EUR":
            hour = int(hour * 0.8)
        adv.price_b = hour // 10 * 10
        adv.price_a = max(20, int(hour * rng.uniform(0.55, 0.7)) // 10 * 10)
    adv.price_form = _pick(rng, _price_forms(adv.lang, adv.region))
    adv.rose = group == "operation" and rng.random() < 0.15
    adv.venue = _pick(rng, vocab.VENUES)

    # contacts
    foreign = rng.random() < 0.08
    country = _pick(rng, [c for c in _CC if c != adv.region]) if foreign else adv.region
    adv.intl = rng.random() < 0.2
    if group == "spam":
        n_phones = _between(rng, 6, 13) if rng.random() < 0.5 else _between(rng, 1, 4)
    elif group == "operation":
        n_phones = _pick(rng, (1, 1, 1, 2, 2, 3))
    elif group == "independent" or benign_seller:
        n_phones = 0 if rng.random() < 0.2 else 1
    else:
        n_phones = 1
    blocks: Sequence[int] = ()
    if country == "US":
        blocks = _CITY_BLOCKS.get(adv.cities[0], ()) if adv.region == "US" else ()
    consecutive = n_phones > 1 and rng.random() < 0.35
    adv.phones = pool.take(country, n_phones, consecutive, blocks) if n_phones else []
    slug = _SLUGS[adv.names[0]]
    p_email = {"operation": 0.3, "spam": 0.3, "independent": 0.4}.get(group, 0.3)
    p_handle = {"operation": 0.35, "spam": 0.4, "independent": 0.45}.get(group, 0.05)
    p_url = {"operation": 0.1, "spam": 0.35, "independent": 0.25}.get(group, 0.05)
    p_wallet = {"spam": 0.1}.get(group, 0.05 if not benign_seller else 0.02)
    want_email = rng.random() < p_email
    want_handle = rng.random() < p_handle
    if not adv.phones and not want_email and not want_handle:
        want_email, want_handle = rng.random() < 0.5, True
    adv.email = _unique(seen, lambda: _email_address(slug, rng)) if want_email else None
    adv.handle = (
        (_pick(rng, _PLATFORMS), _unique(seen, lambda: _handle_name(slug, rng)))
        if want_handle
        else None
    )
    adv.url = _unique(seen, lambda: _url(slug, rng)) if rng.random() < p_url else None
    adv.wallet = make_wallet(rng) if rng.random() < p_wallet else None
    image_p = {"operation": 0.6, "spam": 0.5, "independent": 0.4}.get(group, 0.2)
    adv.image = f"{rng.getrandbits(256):064x}" if rng.random() < image_p else None
    adv.image_share = rng.uniform(0.6, 1.0)

    # template: paragraphs of sentences, and the contact block
    lang = adv.lang
    if benign_seller:
        secs = _CLASSIFIED[adv.topic]
        body = list(_sample(rng, secs["body"][lang], rng.randrange(3, len(secs["body"][lang]) + 1)))
        body += _sample(rng, secs["extra"][lang], _between(rng, 1, 4))
        adv.paras = [
            [_pick(rng, secs["headline"][lang])],
            body,
            [_pick(rng, secs["price"][lang])],
            [],
            [_pick(rng, secs["closing"][lang])],
        ]
    else:
        secs = _MASSAGE if adv.category == "massage" else _COMPANION
        target = rng.triangular(300, 1000, 640)
        para2: list[_Sentence] = [_pick(rng, secs["intro"][lang])]
        optional = [*_sample(rng, secs["about"][lang], 2), _pick(rng, secs["service"][lang])]
        if rng.random() < 0.6:
            optional.insert(rng.randrange(len(optional) + 1), _pick(rng, secs["looks"][lang]))
        para3 = [_pick(rng, secs["rates"][lang])]
        if rng.random() < 0.5:
            para3.append(_pick(rng, secs["schedule"][lang]))
        tail: list[_Sentence] = []
        if rng.random() < 0.3:
            tail.append(_pick(rng, secs["ref"][lang]))
        tail.append(_pick(rng, secs["closing"][lang]))
        headline = _pick(rng, secs["headline"][lang])
        est = headline.estimate + para2[0].estimate + sum(s.estimate for s in para3 + tail + cues)
        est += 40 * (len(adv.phones[:2]) + want_email + want_handle)
        for s in optional:
            if est >= target:
                break
            para2.append(s)
            est += s.estimate + 1
        if est < target:
            extra = [s for s in secs["about"][lang] if s not in para2]
            for s in _sample(rng, extra, len(extra)):
                if est >= target:
                    break
                para2.append(s)
                est += s.estimate + 1
        for cue in cues:
            para2.insert(rng.randrange(1, len(para2) + 1), cue)
        adv.paras = [[headline], para2, para3, [], tail]
    contacts: list[str] = []
    if adv.phones:
        contacts.append("phone")
        if len(adv.phones) > 1 and rng.random() < 0.5:
            contacts.append("phone2")
        elif rng.random() < 0.12:
            contacts.append("whatsapp")
    for item, present in (
        ("email", adv.email),
        ("handle", adv.handle),
        ("url", adv.url),
        ("wallet", adv.wallet),
    ):
        if present:
            contacts.append(item)
    rng.shuffle(contacts)
    adv.contacts = contacts
    # schedule: when the ads run
    adv.start = _EPOCH + _between(rng, 0, 150 * 86400)
    adv.span_days = (
        _between(rng, 1, 10)
        if group == "spam"
        else len(adv.cities) * _between(rng, 2, 6)
        if group == "operation"
        else _between(rng, 7, 60)
    )
    # candidate word swaps for near-duplicate edits (non-cue sentences only)
    adv.swaps = []
    if size > 1:
        for pi, para in enumerate(adv.paras):
            for si, sent in enumerate(para):
                if sent.tags:
                    continue
                for ki, piece in enumerate(sent.pieces):
                    if isinstance(piece, str):
                        for word, repl in vocab.SYNONYMS[lang]:
                            if word in piece:
                                adv.swaps.append((pi, si, ki, word, repl))
    adv.edits = size > 1
    return adv


def _unique(seen: dict[str, None], make: Any) -> Any:
    for _ in range(20):
        value = make()
        if value not in seen:
            seen[value] = None
            return value
    value = make() + str(len(seen))
    seen[value] = None
    return value


def _email_address(slug: str, rng: random.Random) -> str:
    w = _pick(rng, vocab.EMAIL_WORDS)
    local = _pick(
        rng,
        (
            f"{slug}{_between(rng, 10, 100)}",
            f"{slug}.{w}",
            f"{slug}_{w}{_between(rng, 1, 100)}",
            f"{w}{slug}{_between(rng, 1, 1000)}",
        ),
    )
    return f"{local}@{_pick(rng, vocab.EMAIL_DOMAINS)}"


def _handle_name(slug: str, rng: random.Random) -> str:
    base = _pick(
        rng,
        (slug, slug + _pick(rng, vocab.EMAIL_WORDS), _pick(rng, vocab.EMAIL_WORDS) + "_" + slug),
    )
    return (
        base
        + _pick(rng, vocab.HANDLE_SUFFIXES)
        + (str(_between(rng, 1, 100)) if rng.random() < 0.6 else "")
    )


def _url(slug: str, rng: random.Random) -> str:
    name = (
        slug
        + _pick(rng, ("", "-vip", "-companion", "-" + _pick(rng, vocab.EMAIL_WORDS)))
        + str(_between(rng, 1, 100))
    )
    url = _pick(rng, vocab.URL_FORMS).format(slug=name)
    return url if rng.random() < 0.85 else url.replace(name, name.capitalize(), 1)


def _typo(piece: str, rng: random.Random) -> str:
    spots = [i for i in range(len(piece) - 1) if piece[i].isalpha() and piece[i + 1].isalpha()]
    if not spots:
        return piece
    i = _pick(rng, spots)
    op = _below(rng, 3)
    if op == 0:
        return piece[:i] + piece[i + 1] + piece[i] + piece[i + 2 :]
    if op == 1:
        return piece[:i] + piece[i + 1 :]
    return piece[:i] + piece[i] + piece[i:]


def _edited_paras(adv: _Advertiser, rng: random.Random) -> list[list[_Sentence]]:
    """Small edits between the ads of one template: swaps, a reorder, a typo, a drop."""
    paras = [list(p) for p in adv.paras]
    r = rng.random()
    if adv.swaps and r < 0.45:
        for pi, si, ki, word, repl in _sample(
            rng, adv.swaps, min(len(adv.swaps), _between(rng, 1, 3))
        ):
            sent = paras[pi][si]
            piece = sent.pieces[ki]
            if isinstance(piece, str) and word in piece:
                pieces = list(sent.pieces)
                pieces[ki] = piece.replace(word, repl, 1)
                paras[pi][si] = _Sentence(tuple(pieces), sent.tags, sent.estimate, sent.needs_age18)
    body = paras[1]
    if len(body) > 2 and rng.random() < 0.35:
        i = rng.randrange(1, len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    if rng.random() < 0.25:
        pi = rng.randrange(len(paras))
        if paras[pi]:
            si = rng.randrange(len(paras[pi]))
            sent = paras[pi][si]
            if not sent.tags:
                ks = [k for k, p in enumerate(sent.pieces) if isinstance(p, str) and len(p) > 6]
                if ks:
                    k = _pick(rng, ks)
                    pieces = list(sent.pieces)
                    piece = pieces[k]
                    assert isinstance(piece, str)
                    pieces[k] = _typo(piece, rng)
                    paras[pi][si] = _Sentence(
                        tuple(pieces), sent.tags, sent.estimate, sent.needs_age18
                    )
    if len(body) > 3 and rng.random() < 0.15:
        droppable = [i for i in range(1, len(body)) if not body[i].tags]
        if droppable:
            del body[_pick(rng, droppable)]
    return paras


def _render(adv: _Advertiser, i: int, rng: random.Random) -> tuple[int, str, str, tuple[Any, ...]]:
    """Write ad number `i` of an advertiser; returns (timestamp, text, city, truth)."""
    w = _Writer(adv, rng)
    n_cities = len(adv.cities)
    if adv.atype == "spam":
        stop = i % n_cities
    else:
        stop = min(n_cities - 1, i * n_cities // max(1, adv.size))
    w.city = adv.cities[stop]
    w.city2 = adv.cities[(stop + 1) % n_cities] if n_cities > 1 else _next_city(adv, rng)
    stop_len = adv.span_days * 86400 // n_cities
    w.ts = adv.start + stop * stop_len + rng.randrange(max(1, stop_len))
    w.name = adv.names[i % len(adv.names)] if adv.atype != "spam" else _pick(rng, adv.names)
    w.age = adv.ages[w.name]
    paras = _edited_paras(adv, rng) if adv.edits else adv.paras
    sep = " " if rng.random() < 0.8 else "\n"
    first_para = True
    for pi, para in enumerate(paras):
        if pi == 3:
            if not adv.contacts:
                continue
            if not first_para:
                w.add("\n")
            _contact_block(w, adv, i, rng)
            first_para = False
            continue
        if not para:
            continue
        if not first_para:
            w.add("\n")
        first_para = False
        for si, sent in enumerate(para):
            if si:
                w.add(sep if pi == 1 else " ")
            w.sentence(sent)
    text = "".join(w.parts)
    tags = set(w.tags)
    for e in w.entities:
        if e.type == "age" and 18 <= int(e.normalized) <= 23:
            tags.add("stated_age_low")
            break
    image = adv.image if adv.image and rng.random() < adv.image_share else None
    truth = (
        tuple(w.entities),
        tuple(sorted(tags)),
        tuple(w.decoys),
        image,
    )
    return w.ts, text, w.city, truth


def _next_city(adv: _Advertiser, rng: random.Random) -> str:
    cities = _CITY_NAMES[adv.region]
    city = _pick(rng, cities)
    return city if city != adv.cities[0] else cities[(cities.index(city) + 1) % len(cities)]


def _contact_block(w: _Writer, adv: _Advertiser, i: int, rng: random.Random) -> None:
    first = True
    for item in adv.contacts:
        if not first:
            w.add(_pick(rng, ("\n", "\n", " | ", " - ")))
        first = False
        if item == "phone":
            w.phone(adv.phones[i % len(adv.phones)], "phone")
        elif item == "phone2":
            w.phone(adv.phones[(i + 1) % len(adv.phones)], "phone")
        elif item == "whatsapp":
            w.phone(adv.phones[i % len(adv.phones)], "whatsapp")
        else:
            w.contact(item)


# --------------------------------------------------------------------------- public API


def generate_ads(count: int, *, seed: int = 0, unique_phones: bool = True) -> list[SyntheticAd]:
    """`count` synthetic ads with ground truth, sorted by posting time; reproducible.

    The same (count, seed, unique_phones) always gives the same ads. With
    `unique_phones` (the default) a fictional number is never given to two advertisers;
    once a region's range is used up (US 35,900 numbers, Australia 1,000, France 10,000)
    later advertisers there go without a phone and use e-mail or a handle. With
    `unique_phones=False` numbers are recycled instead (ground-truth clusters may then
    share a phone by coincidence, as reassigned real numbers do).
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise SynthError(f"count must be a non-negative int, got {count!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise SynthError(f"seed must be an int, got {seed!r}")
    rng = random.Random(seed)
    pool = _PhonePool(rng, unique_phones)
    seen: dict[str, None] = {}
    rows: list[tuple[int, int, str, str, str, str, str | None, str, str, tuple[Any, ...]]] = []
    serial = 0
    while len(rows) < count:
        k = rng.choices(range(len(_TYPES)), weights=_TYPE_WEIGHTS)[0]
        atype, kind, _, obscure = _TYPES[k]
        size = _size(atype, rng)
        remaining = count - len(rows)
        if atype == "spam" and remaining < 12:
            atype, kind, obscure, size = "independent", "benign", 0.12, 1
        size = min(size, remaining)
        serial += 1
        adv = _new_advertiser(atype, kind, obscure, size, serial, rng, pool, seen)
        if size < 2:
            adv.cluster = None
        for i in range(size):
            ts, text, city, truth = _render(adv, i, rng)
            rows.append(
                (
                    ts,
                    len(rows),
                    text,
                    adv.lang,
                    adv.region,
                    city,
                    adv.cluster,
                    adv.kind,
                    adv.category,
                    truth,
                )
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    ads: list[SyntheticAd] = []
    gmtime, strftime = time.gmtime, time.strftime
    for n, (ts, _, text, lang, region, city, cluster, kind, category, truth) in enumerate(rows, 1):
        entities, indicators, decoys, image = truth
        ads.append(
            SyntheticAd(
                id=f"synth-ad-{n:07d}",
                text=text,
                lang=lang,
                region=region,
                city=city,
                posted_at=strftime("%Y-%m-%dT%H:%M:%SZ", gmtime(ts)),
                entities=entities,
                indicators=indicators,
                decoys=decoys,
                cluster=cluster,
                kind=kind,
                image_pdq=image,
                synthetic=True,
                category=category,
            )
        )
    return ads


def ad_record(ad: SyntheticAd) -> dict[str, Any]:
    """One JSON-ready object: what a platform would see, and the ground truth apart."""
    return {
        "id": ad.id,
        "synthetic": True,
        "text": ad.text,
        "lang": ad.lang,
        "region": ad.region,
        "city": ad.city,
        "posted_at": ad.posted_at,
        "image_pdq": ad.image_pdq,
        "truth": {
            "entities": [
                {
                    "type": e.type,
                    "text": e.text,
                    "normalized": e.normalized,
                    "span": [e.span[0], e.span[1]],
                    "obscured": e.obscured,
                }
                for e in ad.entities
            ],
            "indicators": list(ad.indicators),
            "decoys": [[a, b] for a, b in ad.decoys],
            "cluster": ad.cluster,
            "kind": ad.kind,
            "category": ad.category,
        },
    }


def write_jsonl(ads: Iterable[SyntheticAd], path: str | Path) -> int:
    """Write one JSON object per line (UTF-8); returns the number of ads written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for ad in ads:
            fh.write(json.dumps(ad_record(ad), ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n

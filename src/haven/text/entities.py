"""Extract contact and context entities from an ad, with spans into the text as posted.

Why: phones, e-mails, handles, URLs and wallets are what links ads to one advertiser;
prices, ages and cities are context a reviewer needs. Each `Entity` keeps the slice of
the original text (``value``), a canonical form for linking (``normalized``: E.164 phones,
lower-case e-mails, "<platform>:<name>" handles, "<amount> <ISO currency>" prices) and an
``obscured`` flag when the detail only appears after de-obfuscation. Entities are evidence
for a reviewer, never a verdict.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from haven.text.normalize import NormalizedText, PhraseIndex, normalize
from haven.text.phones import PhoneError, find_phones
from haven.text.wallets import find_wallets

__all__ = ["ENTITY_TYPES", "Entity", "EntityError", "extract_entities"]

_LANGS = ("en", "fr", "es", "pt")
ENTITY_TYPES = ("phone", "email", "handle", "url", "domain", "wallet", "price", "age", "city")


class EntityError(ValueError):
    """Raised for arguments extract_entities cannot use (unknown region, not text)."""


@dataclass(frozen=True)
class Entity:
    """One entity; ``span`` indexes the original text and ``value`` is that slice."""

    type: str
    value: str
    normalized: str
    span: tuple[int, int]
    obscured: bool


_TLDS = (
    "com|net|org|info|biz|io|co|me|app|xyz|site|online|club|live|fr|es|pt|br|au|us|uk|ca|de"
    "|eu|ly|tv|ru|gg|link|page|top|vip|shop|store|blog|cc|ws|onion|mx|ar|cl|nz|be|ch|email"
)
_AT = r"(?:\s*[(\[{<]\s*(?:at|@|arroba|arobase)\s*[)\]}>]\s*|\s+(?:at|arroba|arobase)\s+|\s?@\s?)"
_DOT = (
    r"(?:\s*[(\[{<]\s*(?:dot|\.|point|punto|ponto)\s*[)\]}>]\s*|\s+(?:dot|point|punto|ponto)\s+"
    r"|\s?\.\s?)"
)
_AT_CUES = ("@", " at ", "(at)", "[at]", "{at}", "<at>", "arroba", "arobase")
# An e-mail that ends exactly where a TLD hit ends (searched in a short window before it).
_EMAIL_ENDING = re.compile(
    rf"(?<![\w.%+-])(?P<local>[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_])?){_AT}"
    rf"(?P<domain>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:{_DOT}[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*?)"
    rf"{_DOT}(?P<tld>[a-z]{{2,24}})\Z"
)
_DOT_SPLIT = re.compile(_DOT)
# Anchor for e-mails and domains: a dot (written or spelled) followed by a known TLD: ".",
# ". " or " ." (spaced), "(dot)" / "[.]" (bracketed), "dot " / "point " (spelled). Every
# branch starts with one literal character (each whitespace character spelled out), which
# lets the regex engine skip straight to the few places where a hit can start.
# What r"\s" matches in a str pattern (the characters for which str.isspace() is true).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CLOSE = r"[)\]}>]"
_TLD_LEAD = "|".join(
    [r"\.\s?"]
    + [re.escape(space) + r"\.\s?" for space in _WHITESPACE]
    + [re.escape(bracket) + rf"\s*(?:dot|\.)\s*{_CLOSE}\s*" for bracket in "([{<"]
    + [word + rf"(?:\s*{_CLOSE}\s*|\s+)" for word in ("dot", "point", "punto", "ponto")]
)
_TLD_HIT = re.compile(rf"(?:{_TLD_LEAD})(?P<tld>{_TLDS})(?![\w\-]|\.[a-z0-9])")
_SPACED_DOT = re.compile(r"\s\.\s?|\.\s")


def _dot_before_tld(hit: re.Match[str]) -> str:
    """What a TLD hit has before its TLD ("." for a plain dot)."""
    return hit.string[hit.start() : hit.start("tld")]


def _spaced(hit: re.Match[str]) -> bool:
    """True for a dot with a space before or after it ("in town. me too")."""
    return _SPACED_DOT.fullmatch(_dot_before_tld(hit)) is not None


# A literal address ("name@mail.example", "name@velvet.agency"): any 2-24 letter TLD; with
# spaces around "@" ("IG @jen.ny" is a handle) only the known-TLD path below applies.
_LITERAL_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<local>[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_])?)@"
    r"(?P<domain>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24})(?![\w-]|\.[a-z0-9])"
)
_LABELS_ENDING = re.compile(
    r"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z"
)
_NAME_ENDING = re.compile(r"(?<![\w@.])(?P<name>[a-z0-9][a-z0-9-]{1,62})\s*\Z")
_PATH = re.compile(r"/[^\s<>\"'()\[\]{}]*")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+")
_TRAILING_PUNCT = ".,;:!?"

_PLATFORMS = {
    "snapchat": "snapchat", "snap": "snapchat", "sc": "snapchat", ":ghost:": "snapchat",
    "instagram": "instagram", "insta": "instagram", "ig": "instagram",
    "kik": "kik", "telegram": "telegram", "tg": "telegram", "tele": "telegram",
    "onlyfans": "onlyfans", "only fans": "onlyfans", "of": "onlyfans",
    "whatsapp": "whatsapp", "whats app": "whatsapp", "wa": "whatsapp", "wsp": "whatsapp",
    "zap": "whatsapp", "twitter": "twitter", "tw": "twitter",
}  # fmt: skip
# Keywords that are also ordinary words or letters: need ":" "@" "=" or "-" after them.
_WEAK_PLATFORMS = frozenset({"of", "wa", "tele", "tw", "sc", "zap", "wsp"})
_HANDLE = re.compile(
    r"(?<![\w@])(?P<kw>snapchat|snap|sc|:ghost:|instagram|insta|ig|kik|telegram|tg|tele"
    r"|onlyfans|only\s?fans|of|whatsapp|whats\s?app|wa|wsp|zap|twitter|tw)(?![\w])"
    r"(?P<sep>\s*(?:[:=\-–>]+|\bis\b|\bme\b|\bid\b)?\s*)(?P<at>@?)"
    r"(?P<name>[a-z0-9_](?:[a-z0-9._\-]{0,28}[a-z0-9_])?)(?![\w@])"
)
_HANDLE_STOPWORDS = frozenset(
    [
        "me",
        "us",
        "only",
        "or",
        "and",
        "for",
        "is",
        "at",
        "the",
        "my",
        "to",
        "too",
        "please",
        "pls",
        "message",
        "msg",
        "chat",
        "call",
        "text",
        "dm",
        "also",
        "premium",
        "account",
        "link",
        "story",
        "add",
        "y",
        "o",
        "ou",
        "e",
        "et",
        "a",
        "la",
        "le",
        "de",
        "en",
        "no",
        "not",
        "available",
        "here",
        "via",
        "with",
        "pics",
        "photos",
        "video",
        "videos",
        "snap",
        "ig",
        "kik",
        "telegram",
        "whatsapp",
    ]
)
_NUMBER = re.compile(r"\d+(?:[.,]\d{1,2}(?!\d))?")
_PRICE_BEFORE = re.compile(r"(?P<cur>a\$|au\$|us\$|c\$|[$€£]|usd|aud|eur|gbp)\s?\Z")
_PRICE_AFTER = re.compile(
    r"\s?(?:(?P<cur>[$€£]|usd|aud|eur|gbp|dollars?|euros?|bucks|roses?|reais)(?![a-z])"
    r"|\s?(?P<rose>:rose:)"
    r"|/\s?(?:hr|h|hour|hh|heure|hora)(?![a-z])"
    r"|(?:hh|hr|ph|per hour|por hora|de l'heure|l'heure|la hora)(?![a-z]))"
)
_AGE_AFTER = re.compile(
    r"[\s\-]?(?:yo|y\.o\.?|y/o|yrs?(?:[\s\-]?old)?|years?(?:[\s\-]?old|\sof\sage)?"
    r"|ans|años|anos)(?![^\W\d_])"
)
_AGE_BEFORE = re.compile(
    r"(?<![a-z])(?:(?P<label>age|aged|âge|âgée?\sde|edad|idade|turned|cumplidos|feitos"
    r"|age\sis|my\sage\sis)\s?[:=]?\s?"
    r"|(?:i'm|i’m|i am|im|tengo|tenho|j'ai|j’ai)\s)\Z"
)
_AGES = range(18, 100)  # an adult age; "12 yo" or "10 ans" is never read as one
_NOT_AN_AGE_AFTER = re.compile(r"\s?(?:[$€£%/:h]|min|hr|\d)")
_CURRENCY = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
    "usd": "USD", "us$": "USD", "aud": "AUD", "a$": "AUD", "au$": "AUD", "c$": "CAD",
    "reais": "BRL",
}  # fmt: skip
_REGION_CURRENCY = {
    "US": "USD", "AU": "AUD", "FR": "EUR", "ES": "EUR", "PT": "EUR", "BE": "EUR", "DE": "EUR",
    "IT": "EUR", "BR": "BRL", "GB": "GBP", "CA": "CAD", "NZ": "NZD", "MX": "MXN",
}  # fmt: skip


def _load_cities() -> tuple[PhraseIndex[str], frozenset[str]]:
    data = tomllib.loads(
        resources.files("haven.text").joinpath("data/cities.toml").read_text(encoding="utf-8")
    )
    names: dict[str, list[str]] = {}
    for country in data["countries"].values():
        for name in country["cities"]:
            names.setdefault(name, []).append(name)
    ambiguous = frozenset(name.casefold() for name in data.get("ambiguous", {}).get("cities", []))
    return PhraseIndex(names), ambiguous


_CITIES, _AMBIGUOUS_CITIES = _load_cities()
_LOCATIVE = re.compile(r"(?:^|\W)(?:in|at|near|à|a|en|em|no|na|de|du|around|from)\s+$")


_Found = tuple[int, int, Entity]  # span in the normalised text, and the entity


def _entity(
    nt: NormalizedText, kind: str, start: int, end: int, norm: str, obscured: bool
) -> _Found:
    span = nt.original_span(start, end)
    return start, end, Entity(kind, nt.original[span[0] : span[1]], norm, span, obscured)


def _overlaps(start: int, end: int, taken: list[_Found]) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end, _ in taken)


def _url_normal(value: str) -> str:
    """Lower-case scheme and host, keep the path as written."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    host, slash, path = rest.partition("/")
    return (f"{scheme.lower()}://" if sep else "") + host.lower() + slash + path


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING_PUNCT:
        end -= 1
    return end


def _email_ending(nt: NormalizedText, hit: re.Match[str]) -> _Found | None:
    window_start = max(0, hit.start() - 96)
    window = nt.text[window_start : hit.start()]
    if not any(cue in window for cue in _AT_CUES):
        return None
    match = _EMAIL_ENDING.search(nt.text, window_start, hit.end())
    if match is None or (_spaced(hit) and "@" not in match.group()):
        return None  # "see you at 5. com": a spaced dot needs a written "@"
    domain = ".".join(part.strip() for part in _DOT_SPLIT.split(match.group("domain")))
    normalized = f"{match.group('local')}@{domain}.{match.group('tld')}"
    start, end, entity = _entity(nt, "email", match.start(), match.end(), normalized, False)
    obscured = entity.value.lower() != normalized
    return start, end, Entity("email", entity.value, normalized, entity.span, obscured)


def _domain_ending(nt: NormalizedText, hit: re.Match[str]) -> _Found | None:
    text = nt.text
    if _dot_before_tld(hit) == ".":
        match = _LABELS_ENDING.search(text, max(0, hit.start() - 80), hit.start())
        if match is None:
            return None
        path = _PATH.match(text, hit.end())
        end = _trim(text, hit.start(), path.end()) if path else hit.end()
        kind = "url" if path and end - path.start() > 1 else "domain"
        start, end, entity = _entity(nt, kind, match.start(), end, "", False)
        return start, end, Entity(kind, entity.value, _url_normal(entity.value), entity.span, False)
    before = text[hit.start() - 1] if hit.start() > 0 else " "
    if text[hit.start()].isalpha() and not (before.isspace() or before in "([{<"):
        return None  # "exampledotcom" is one word, not a spelled domain
    named = _NAME_ENDING.search(text, max(0, hit.start() - 70), hit.start())
    if named is None:
        return None
    spelled_end = hit.end()
    normalized = f"{named.group('name')}.{hit.group('tld')}"
    return _entity(nt, "domain", named.start(), spelled_end, normalized, True)


def _addresses(nt: NormalizedText) -> list[_Found]:
    """E-mails, URLs and domains, anchored on the few places a TLD is written."""
    found: list[_Found] = []
    text = nt.text
    for match in _URL.finditer(text):
        if match.start() > 0 and (
            text[match.start() - 1].isalnum() or text[match.start() - 1] == "@"
        ):
            continue
        end = _trim(text, match.start(), match.end())
        start, end, entity = _entity(nt, "url", match.start(), end, "", False)
        found.append(
            (start, end, Entity("url", entity.value, _url_normal(entity.value), entity.span, False))
        )
    if "@" in text:
        for match in _LITERAL_EMAIL.finditer(text):
            if _overlaps(match.start(), match.end(), found):
                continue
            normalized = f"{match.group('local')}@{match.group('domain')}"
            start, end, entity = _entity(nt, "email", *match.span(), normalized, False)
            obscured = entity.value.lower() != normalized
            found.append(
                (start, end, Entity("email", entity.value, normalized, entity.span, obscured))
            )
    for hit in _TLD_HIT.finditer(text):
        if _overlaps(hit.start(), hit.end(), found):
            continue
        email = _email_ending(nt, hit)
        if email is not None and not _overlaps(email[0], email[1], found):
            found.append(email)
            continue
        if _spaced(hit):
            continue  # "in town. me too": a spaced dot only counts inside an e-mail
        domain = _domain_ending(nt, hit)
        if domain is not None and not _overlaps(domain[0], domain[1], found):
            found.append(domain)
    return found


def _handles(nt: NormalizedText, taken: list[_Found]) -> list[_Found]:
    found: list[_Found] = []
    for match in _HANDLE.finditer(nt.text):
        keyword = re.sub(r"\s+", " ", match.group("kw"))
        name = match.group("name")
        explicit = bool(match.group("sep").strip() or match.group("at"))
        if keyword in _WEAK_PLATFORMS and not explicit:
            kw_span = nt.original_span(*match.span("kw"))
            if not nt.original[kw_span[0] : kw_span[1]].isupper():
                continue
        if name in _HANDLE_STOPWORDS or sum(char.isdigit() for char in name) >= 6:
            continue
        start = match.start("at") if match.group("at") else match.start("name")
        if _overlaps(start, match.end(), taken):
            continue
        found.append(
            _entity(nt, "handle", start, match.end(), f"{_PLATFORMS[keyword]}:{name}", False)
        )
    return found


def _currency(symbol: str, region: str) -> str:
    if symbol.startswith("euro"):
        return "EUR"
    known = _CURRENCY.get(symbol)
    if known is not None:
        return known
    if symbol in ("$", "dollar", "dollars", "bucks"):
        return {"AU": "AUD", "CA": "CAD", "NZ": "NZD", "MX": "MXN"}.get(region, "USD")
    return _REGION_CURRENCY.get(region, "USD")


def _amounts(nt: NormalizedText, region: str) -> list[_Found]:
    """Prices and ages, found from the numbers written in the text."""
    found: list[_Found] = []
    text = nt.text
    for number in _NUMBER.finditer(text):
        start, end = number.span()
        whole = number.group().replace(",", ".").split(".")
        if not 2 <= len(whole[0]) <= 5:
            continue
        before = _PRICE_BEFORE.search(text, max(0, start - 4), start)
        after = None if before else _PRICE_AFTER.match(text, end)
        cue = before or after
        if cue is not None:
            value = whole[0] if len(whole) == 1 or not whole[1].strip("0") else ".".join(whole)
            normalized = f"{value} {_currency(cue.group('cur') or '', region)}"
            span_start = before.start() if before else start
            span_end = after.end() if after else end
            found.append(_entity(nt, "price", span_start, span_end, normalized, False))
            continue
        if len(whole) != 1 or len(whole[0]) != 2 or int(whole[0]) not in _AGES:
            continue
        unit = _AGE_AFTER.match(text, end)
        if unit is not None:
            found.append(_entity(nt, "age", start, unit.end(), whole[0], False))
            continue
        label = _AGE_BEFORE.search(text, max(0, start - 14), start)
        if label is not None and (label.group("label") or not _NOT_AN_AGE_AFTER.match(text, end)):
            found.append(_entity(nt, "age", label.start(), end, whole[0], False))
    return found


def _cities(nt: NormalizedText) -> list[_Found]:
    found: list[_Found] = []
    for start, end, names in _CITIES.find(nt.text):
        name = names[0]
        if name.casefold() in _AMBIGUOUS_CITIES:
            span = nt.original_span(start, end)
            capitalised = nt.original[span[0] : span[0] + 1].isupper()
            if not capitalised or not _LOCATIVE.search(nt.text[max(0, start - 8) : start]):
                continue
        found.append(_entity(nt, "city", start, end, name, False))
    return found


def extract_entities(
    text: str | NormalizedText, *, region: str = "US", lang: str | None = None
) -> list[Entity]:
    """All entities in ``text``, sorted by position (evidence for a reviewer, not a verdict).

    ``region`` is the ISO country assumed for phone numbers written without a country code
    (and for bare prices); ``lang`` ("en", "fr", "es", "pt" or None for all) narrows the
    spelled-digit tables. Never fails on any ``str``; raises `EntityError` for bad arguments.
    """
    if not isinstance(text, (str, NormalizedText)):
        raise EntityError(f"expected str or NormalizedText, got {type(text).__name__}")
    if not isinstance(region, str):
        raise EntityError(f"region must be an ISO country code, got {region!r}")
    if lang is not None and lang not in _LANGS:
        raise EntityError(f"lang must be one of {_LANGS} or None, got {lang!r}")
    nt = text if isinstance(text, NormalizedText) else normalize(text)
    try:
        phones = find_phones(nt, region=region, lang=lang)
    except PhoneError as error:
        raise EntityError(str(error)) from error
    wallets = [
        Entity("wallet", w.address, w.address, (w.start, w.end), False)
        for w in find_wallets(nt.original)
    ]
    contacts = _addresses(nt)
    blockers = wallets + [entity for _, _, entity in contacts]
    for phone in phones:
        found = _entity(nt, "phone", phone.start, phone.end, phone.e164, phone.obscured)
        if not _crosses(found[2], blockers):
            contacts.append(found)
    contacts.extend(_handles(nt, contacts))
    entities = [entity for _, _, entity in contacts]
    entities.extend(wallet for wallet in wallets if not _crosses(wallet, entities))
    region = region.upper()
    entities.extend(entity for _, _, entity in _amounts(nt, region) + _cities(nt))
    return sorted(entities, key=lambda e: (e.span, ENTITY_TYPES.index(e.type)))


def _crosses(entity: Entity, others: list[Entity]) -> bool:
    return any(entity.span[0] < o.span[1] and o.span[0] < entity.span[1] for o in others)

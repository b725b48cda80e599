"""Phone numbers: formats, spelled digits, look-alikes, and decoys that are not phones.

Numbers come only from fictional ranges: US +1 NXX 555 01xx, AU +61 491 570 xxx,
FR +33 1 99 00 xx xx.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.text.entities import EntityError, extract_entities
from haven.text.normalize import normalize
from haven.text.phones import PhoneError, find_phones

SPELLED = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "pt": ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"],
}
LEET = {"four": "f0ur", "one": "0ne", "nine": "n1ne", "three": "thr33", "five": "f1ve"}


def phones(text: str, region: str = "US", lang: str | None = None) -> list[tuple[str, str, bool]]:
    folded = normalize(text)
    found = []
    for phone in find_phones(folded, region=region, lang=lang):
        start, end = folded.original_span(phone.start, phone.end)
        found.append((text[start:end], phone.e164, phone.obscured))
    return found


def fictional(rng: random.Random) -> tuple[str, str, list[str]]:
    """(region, E.164, national digit groups) from one of the three fictional ranges."""
    region = rng.choice(["US", "AU", "FR"])
    if region == "US":
        area = rng.choice(["202", "312", "415", "617", "713"])
        line = f"01{rng.randint(0, 99):02d}"
        return region, f"+1{area}555{line}", [area, "555", line]
    if region == "AU":
        tail = f"{rng.randint(0, 999):03d}"
        return region, f"+61491570{tail}", ["0491", "570", tail]
    pairs = [f"{rng.randint(0, 99):02d}", f"{rng.randint(0, 99):02d}"]
    return region, f"+3319900{''.join(pairs)}", ["01", "99", "00", *pairs]


@pytest.mark.parametrize(
    ("text", "region", "e164", "obscured"),
    [
        ("Call 202-555-0142 now", "US", "+12025550142", False),
        ("(202) 555-0142", "US", "+12025550142", False),
        ("+1 202 555 0142", "US", "+12025550142", False),
        ("1-202-555-0142", "US", "+12025550142", False),
        ("202.555.0142", "US", "+12025550142", False),
        ("2025550142", "US", "+12025550142", False),
        ("0491 570 123", "AU", "+61491570123", False),
        ("+61 491 570 123", "US", "+61491570123", False),
        ("01 99 00 12 34", "FR", "+33199001234", False),
        ("+33 (0)1 99 00 12 34", "FR", "+33199001234", False),
        ("0033 1 99 00 12 34", "US", "+33199001234", False),
        ("two 0 two five5five oh one f0ur two", "US", "+12025550142", True),
        ("2 0 2 5 5 5 0 1 4 2", "US", "+12025550142", True),
        ("②⓪② ５５５ ⓪①④②", "US", "+12025550142", True),
        ("2О2 555 О142", "US", "+12025550142", True),
        ("2o2 555 o1four2", "US", "+12025550142", True),
        ("two zero two. five five five. zero one forty two", "US", "+12025550142", True),
        ("zéro un quatre-vingt-dix-neuf zéro zéro douze trente-quatre", "FR", "+33199001234", True),
        (
            "zero un, quatre vingt dix neuf, zero zero, vingt et un, douze",
            "FR",
            "+33199002112",
            True,
        ),
        ("cero cuatro nueve uno cinco siete cero cero noventa y nueve", "AU", "+61491570099", True),
        ("zero quatro nove um cinco sete zero meia dois três", "AU", "+61491570623", True),
        ("plus one 202 555 0142", "US", "+12025550142", True),
        ("2 0 2 - 5 5 5 - double 0 1 2", "US", "+12025550012", True),
    ],
)
def test_numbers_are_found(text: str, region: str, e164: str, obscured: bool) -> None:
    assert [(e, o) for _, e, o in phones(text, region)] == [(e164, obscured)]


@pytest.mark.parametrize(
    "text",
    [
        "150/hr, $200 for two hours, 300 roses",
        "I am 5'6\" and 120 lbs",
        "Booked until 12/05/2026 and 2026-05-12",
        "available 24/7, 7j/7, 24h/24",
        "Ref 2026-5501-0142",
        "réf. 2026-5501-0142 annonce 20265501",
        "21 yo, 36-24-36",
        "zip 90210 and 75011 Paris",
        "for two nights for one hundred, two or three",
        "someone at one time, and twenty of them",
        "call me at 10:30 or 21h30",
        "order #2025550142",
    ],
)
def test_decoys_and_prose_are_not_phones(text: str) -> None:
    assert phones(text, "US") == []
    assert phones(text, "FR") == []


def test_numbers_side_by_side_are_split() -> None:
    found = phones("202 555 0142 o 202 555 0199 / 0491 570 123", "US")
    assert [e for _, e, _ in found] == ["+12025550142", "+12025550199"]
    found = phones("call 0491 570 123 or 0491 570 124", "AU")
    assert [e for _, e, _ in found] == ["+61491570123", "+61491570124"]


def test_national_number_needs_trunk_prefix_where_one_is_used() -> None:
    assert phones("numéro 199001234", "FR") == []
    assert phones("numéro 0199001234", "FR")[0][1] == "+33199001234"


def test_span_points_at_the_number_as_written() -> None:
    text = "Hi! Txt ②⓪② 555 0142 after 6pm"
    [(written, _, _)] = phones(text)
    assert written == "②⓪② 555 0142"


def test_language_narrows_the_word_tables() -> None:
    text = "zero quatro nove um cinco sete zero meia dois tres"
    assert phones(text, "AU", "pt")[0][1] == "+61491570623"
    assert phones(text, "AU", "fr") == []


def test_unknown_region_is_an_error() -> None:
    with pytest.raises(PhoneError, match="unknown region"):
        find_phones(normalize("202 555 0142"), region="XX")
    with pytest.raises(EntityError, match="unknown region"):
        extract_entities("202 555 0142", region="XX")


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_plain_formats_round_trip(rng: random.Random) -> None:
    region, e164, groups = fictional(rng)
    separator = rng.choice([" ", "-", ".", ""])
    national = separator.join(groups)
    if region == "US" and rng.random() < 0.5:
        national = f"({groups[0]}) {groups[1]}-{groups[2]}"
    written = rng.choice([national, "+" + e164[1:2] + " " + national.lstrip("0")])
    if written.startswith("+") and region != "US":
        country = "61" if region == "AU" else "33"
        written = f"+{country} {separator.join([groups[0].lstrip('0'), *groups[1:]])}"
    text = f"Hello, call {written} today"
    assert phones(text, region) == [(written, e164, False)]


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_obfuscated_digits_round_trip(rng: random.Random) -> None:
    region, e164, groups = fictional(rng)
    lang = rng.choice(list(SPELLED))
    tokens = []
    for digit in "".join(groups):
        style = rng.random()
        if style < 0.45:
            word = SPELLED[lang][int(digit)]
            tokens.append(LEET.get(word, word) if lang == "en" and rng.random() < 0.3 else word)
        elif style < 0.6:
            tokens.append("②⓪①③④⑤⑥⑦⑧⑨"[0:0] + "⓪①②③④⑤⑥⑦⑧⑨"[int(digit)])
        else:
            tokens.append(digit)
    joiner = rng.choice([" ", "-", ". ", " * ", ""])
    written = joiner.join(tokens)
    if all(token.isdigit() and token.isascii() for token in tokens) or joiner == "":
        written = " ".join(tokens)
    text = f"Text me {written} thanks"
    found = phones(text, region, rng.choice([lang, None]))
    assert [(e, o) for _, e, o in found] == [(e164, True)], text
    assert found[0][0] == written

"""Tokeniser (digits and emoji survive) and template/slot detection on a hand-built cluster."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.text.templates import TemplateError, detect_template, fold, shingles, tokenize


def test_tokens_keep_digits_and_emoji_and_drop_punctuation() -> None:
    assert tokenize("Call ME at 202-555-0142 🌹🌹 now!") == (
        "call", "me", "at", "202", "555", "0142", "🌹", "🌹", "now",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("５５５", ("555",)),  # full-width digits fold to ASCII
        ("②⓪②", ("202",)),  # circled digits fold to ASCII
        ("✈️ Visiting", ("✈", "visiting")),  # variation selector dropped, emoji kept
        ("5️⃣", ("5",)),  # keycap: the digit stays
        ("alice_love31", ("alice", "love", "31")),  # handles split at _ and digits
        ("STRAẞE café", ("strasse", "café")),  # case folding, composed accents
        ("👍🏽", ("👍",)),  # skin-tone modifier dropped, emoji kept
        ("$150 €80", ("$", "150", "€", "80")),  # currency symbols are tokens
        ("", ()),
    ],
)
def test_token_examples(text: str, expected: tuple[str, ...]) -> None:
    assert tokenize(text) == expected


def _digits(s: str) -> int:
    return sum(1 for c in s if c.isdecimal())


def _pictographs(s: str) -> list[str]:
    return sorted(c for c in s if unicodedata.category(c) == "So")


@given(st.text())
def test_tokenizer_never_crashes_and_loses_no_digit_or_emoji(text: str) -> None:
    tokens = tokenize(text)
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    folded = fold(text)
    joined = "".join(tokens)
    assert _digits(joined) == _digits(folded)
    assert _pictographs(joined) == _pictographs(folded)


EMOJI = ["🌹", "🍒", "👑", "✈", "💗", "🌸"]


@given(st.lists(st.sampled_from(EMOJI), min_size=1), st.text())
def test_emoji_are_single_tokens_wherever_they_sit(emoji: list[str], filler: str) -> None:
    tokens = tokenize(filler.join(emoji))
    assert all(e in tokens for e in emoji)
    assert sum(t in EMOJI for t in tokens) >= len(emoji)  # none glued to its neighbours


def test_shingles() -> None:
    assert shingles(("a", "b", "c", "d"), 3) == (("a", "b", "c"), ("b", "c", "d"))
    assert shingles(("a", "b"), 3) == (("a", "b"),)
    assert shingles((), 3) == ()
    with pytest.raises(TemplateError):
        shingles(("a",), 0)


TEMPLATE = (
    "Hi, I'm {name}, sweet and real. New in {city} this week. Call {phone} 🌹 "
    "100% real pics, no fakes. Ask for {name}."
)
MEMBERS = [
    ("Ivy", "Denver", "202 555 0142"),
    ("Mia", "Austin", "202 555 0143"),
    ("Ruby", "Denver", "202 555 0144"),
    ("Zoe", "El Paso", "202 555 0145"),
]


def _cluster() -> list[tuple[str, ...]]:
    return [tokenize(TEMPLATE.format(name=n, city=c, phone=p)) for n, c, p in MEMBERS]


def test_template_and_slots_of_a_hand_built_cluster() -> None:
    template = detect_template(_cluster(), share=0.6, known_places=["Denver", "Austin", "El Paso"])
    assert template.members == 4
    assert template.names == ("Ivy", "Mia", "Ruby", "Zoe")
    # fixed text survives, the slots are marked in the first member's text
    assert template.text.startswith("hi i m {1} sweet and real new in {2} this week call 202 555")
    assert "🌹 100 % real pics" not in template.text  # % is punctuation, dropped
    assert "🌹 100 real pics no fakes ask for {" in template.text
    slots = {(s.after, s.occurrence): dict(s.values) for s in template.slots}
    assert slots[("m", 0)] == {"ivy": 1, "mia": 1, "ruby": 1, "zoe": 1}
    assert slots[("in", 0)] == {"denver": 2, "austin": 1, "el paso": 1}
    assert slots[("555", 0)] == {"0142": 1, "0143": 1, "0144": 1, "0145": 1}
    assert 0.6 < template.coverage < 1.0


def test_city_in_the_name_slot_is_not_called_a_name() -> None:
    template = detect_template(_cluster(), known_places=["Denver", "Austin"])
    assert "Denver" not in template.names and "Austin" not in template.names


def test_identical_copies_have_no_slots() -> None:
    tokens = tokenize("Same text, same 🌹, same 555 0100.")
    template = detect_template([tokens, tokens, tokens])
    assert template.slots == () and template.names == ()
    assert template.coverage == 1.0


def test_template_input_errors() -> None:
    with pytest.raises(TemplateError):
        detect_template([("a",)])
    with pytest.raises(TemplateError):
        detect_template([("a",), ("a",)], share=0.0)
    with pytest.raises(TemplateError):
        fold(b"bytes")  # type: ignore[arg-type]

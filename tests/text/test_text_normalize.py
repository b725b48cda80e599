"""normalize(): folding rules and the offset map back to the original text."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.text.normalize import NormalizationError, PhraseIndex, fold_key, normalize


def test_ascii_is_lower_cased_with_identity_offsets() -> None:
    folded = normalize("Call ME")
    assert folded.text == "call me"
    assert folded.offsets == (0, 1, 2, 3, 4, 5, 6, 7)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("②⓪②", "202"),  # circled digits
        ("５５５", "555"),  # full-width digits
        ("❶❷", "12"),  # dingbat digits (not NFKC)
        ("⑩", "10"),  # one character, two digits
        ("2О2", "2o2"),  # Cyrillic capital O
        ("Ѕnар", "snap"),  # Cyrillic look-alikes
        ("STRAẞE", "strasse"),  # case folding changes length
        ("e\u0301te\u0301", "été"),  # combining marks compose
        ("2\u200b0\u200b2", "202"),  # zero-width spaces dropped
        ("2\ufe0f\u20e3", "2"),  # keycap digit
    ],
)
def test_folding(written: str, expected: str) -> None:
    assert normalize(written).text == expected


def test_emoji_become_named_tokens_mapped_to_the_emoji() -> None:
    original = "150 🌹 ✈️ ok"
    folded = normalize(original)
    assert " :rose: " in folded.text
    assert " :airplane: " in folded.text
    start = folded.text.index(":rose:")
    span = folded.original_span(start, start + len(":rose:"))
    assert original[span[0] : span[1]] == "🌹"


def test_span_of_expanded_character_covers_the_whole_character() -> None:
    original = "x⑩y"
    folded = normalize(original)
    assert folded.text == "x10y"
    assert folded.original_span(1, 2) == (1, 2)
    assert folded.original_span(1, 3) == (1, 2)
    assert folded.original_span(0, 4) == (0, 3)


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(NormalizationError, match="expected str"):
        normalize(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(NormalizationError, match="outside"):
        normalize("abc").original_span(2, 9)


@given(st.text())
def test_offset_map_is_monotonic_and_in_range(text: str) -> None:
    folded = normalize(text)
    offsets, ends = folded.offsets, folded.ends
    assert len(offsets) == len(folded.text) + 1
    assert len(ends) == len(folded.text)
    assert offsets[-1] == len(text)
    assert all(a <= b for a, b in itertools.pairwise(offsets))
    assert all(a <= b for a, b in itertools.pairwise(ends))
    for index in range(len(folded.text)):
        assert 0 <= offsets[index] < ends[index] <= len(text)
    start, end = folded.original_span(0, len(folded.text))
    assert 0 <= start <= end <= len(text)


@given(st.text(alphabet=st.characters(codec="utf-8")), st.data())
def test_any_span_maps_inside_the_original(text: str, data: st.DataObject) -> None:
    folded = normalize(text)
    start = data.draw(st.integers(0, len(folded.text)))
    end = data.draw(st.integers(start, len(folded.text)))
    o_start, o_end = folded.original_span(start, end)
    assert 0 <= o_start <= o_end <= len(text)


def test_phrase_index_is_accent_insensitive_and_whole_word() -> None:
    index = PhraseIndex({"nouvelle arrivée": ["movement"], "real": ["trust"]})
    text = normalize("Nouvelle ARRIVEE, surreal, real-ly real").text
    found = [(text[s:e], payload) for s, e, payload in index.find(text)]
    assert found == [
        ("nouvelle arrivee", ("movement",)),
        ("real", ("trust",)),
        ("real", ("trust",)),
    ]


def test_fold_key_collapses_separators_and_accents() -> None:
    assert fold_key("Nouvelle-en  Ville") == "nouvelle en ville"
    assert fold_key("Récién") == "recien"


PIECES = [
    "a",
    "Zé",
    "ß",
    "①⓪",
    "０４",
    "О",
    "І",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "❤️",
    "💋💋",
    "e\u0301",
    "x\u200by",
]


@given(st.lists(st.sampled_from(PIECES), max_size=8), st.lists(st.sampled_from(PIECES), max_size=8))
def test_folding_a_piece_does_not_depend_on_where_it_sits(
    left: list[str], right: list[str]
) -> None:
    # Folded segments are memoised; their offsets must still be those of this occurrence.
    a, b = "".join(left), "".join(right)
    joined, first, second = normalize(a + " " + b), normalize(a), normalize(b)
    assert joined.text == first.text + " " + second.text
    shift = len(a) + 1
    tail = len(first.text) + 1
    moved = tuple(shift + offset for offset in second.offsets[:-1])
    assert joined.offsets[:-1] == (*first.offsets[:-1], len(a), *moved)
    assert joined.ends[tail:] == tuple(shift + end for end in second.ends)


def test_longest_emoji_sequence_wins() -> None:
    folded = normalize("a👨‍👩‍👧b👍🏽c")
    assert folded.text.count(":") == 4  # two tokens: the family and the toned thumb
    start = folded.text.index(":")
    assert folded.original_span(start, start + 1) == (1, 6)

"""Indicators: data-file taxonomy, spans and reasons, grade-weighted score."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import haven.text.indicators as module
from haven.text.indicators import (
    IndicatorError,
    assess_ad,
    indicator_definitions,
    match_indicators,
    score_hits,
)

TAXONOMY = {
    "trust": "V", "obscured_contact": "V", "youth": "V", "ethnicity": "V",
    "third_party": "H", "many_people": "H", "risky_services": "H", "restricted_movement": "H",
    "venue": "H", "event_targeting": "H", "availability": "H", "emoji_code": "H",
    "movement": "N", "stated_age_low": "X", "screening": "X",
}  # fmt: skip


def test_data_file_holds_the_reference_taxonomy() -> None:
    assert {i.id: i.grade for i in indicator_definitions()} == TAXONOMY
    for indicator in indicator_definitions():
        assert (indicator.weight < 0) == (indicator.grade == "N")


def test_hits_carry_original_spans_and_reasons() -> None:
    text = "Ｎew in town! 100% REAL pics, Réelles photos? 🌹 incall only"
    hits = match_indicators(text, lang="en")
    by_id = {hit.id: hit for hit in hits}
    assert text[slice(*by_id["movement"].span)] == "Ｎew in town"
    assert text[slice(*by_id["trust"].span)] == "100% REAL"
    assert text[slice(*by_id["emoji_code"].span)] == "🌹"
    assert by_id["trust"].reason == "V trust: '100% REAL' (validated predictor)"
    assert by_id["movement"].reason == (
        "N movement: 'Ｎew in town' lowers the score: 70% less likely in the 2024 study"
    )
    assert by_id["restricted_movement"].grade == "H"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Nouvelle en ville, photos réelles", "fr", {"movement", "trust"}),
        ("Recién llegada, fotos reales", "es", {"movement", "trust"}),
        ("Nova na cidade, fotos reais", "pt", {"movement", "trust"}),
        ("recien llegada al pais", "es", {"ethnicity"}),  # longest cue wins
        ("available 24/7, military friendly, exit 42", "en", {"availability", "event_targeting"}),
    ],
)
def test_cues_per_language(text: str, lang: str, expected: set[str]) -> None:
    assert {hit.id for hit in match_indicators(text, lang=lang)} == expected


def test_obscured_contact_fires_only_for_hidden_contacts() -> None:
    hidden = assess_ad("Call two0two 555 oh one four 2")
    plain = assess_ad("Call 202-555-0142")
    assert [h.id for h in hidden.indicators] == ["obscured_contact"]
    assert hidden.indicators[0].span == (5, 30)
    assert plain.indicators == ()


def test_stated_age_low_uses_age_entities() -> None:
    assert [h.id for h in assess_ad("I am 21 yo").indicators] == ["stated_age_low"]
    assert assess_ad("I am 31 yo").indicators == ()


def test_score_orders_grades_and_negative_predictor_lowers_it() -> None:
    v = assess_ad("100% real").score
    h = assess_ad("incall only").score
    x = assess_ad("deposit").score
    assert v > h > x > 0
    with_movement = assess_ad("100% real, new in town").score
    assert with_movement < v
    assert assess_ad("new in town").score == 0
    assert assess_ad("hello there").score == 0


def test_reasons_list_grades_in_order_and_end_with_a_caveat() -> None:
    result = assess_ad("New in town, incall only, 100% real, deposit")
    grades = [reason.split(" ", 1)[0] for reason in result.reasons[:-1]]
    assert grades == ["V", "H", "X", "N"]
    assert "not a verdict" in result.reasons[-1]
    assert "not a verdict" in (module.__doc__ or "") or "never a verdict" in (module.__doc__ or "")


def test_empty_ad_says_absence_proves_nothing() -> None:
    score, reasons = score_hits([])
    assert score == 0
    assert "proves nothing" in reasons[0]


def test_bad_arguments_and_bad_data_raise() -> None:
    with pytest.raises(IndicatorError, match="lang"):
        match_indicators("x", lang="de")
    with pytest.raises(IndicatorError, match="unknown region"):
        assess_ad("202 555 0142", region="XX")
    grades = {"grades": {"V": "v", "H": "h", "X": "x", "N": "n"}}
    with pytest.raises(IndicatorError, match="grade"):
        module._parse_indicators({**grades, "indicator": [{"id": "a", "grade": "Q", "weight": 1}]})
    with pytest.raises(IndicatorError, match="negative"):
        module._parse_indicators({**grades, "indicator": [{"id": "a", "grade": "N", "weight": 1}]})
    with pytest.raises(IndicatorError, match="languages"):
        module._parse_indicators(
            {
                **grades,
                "indicator": [{"id": "a", "grade": "H", "weight": 1, "patterns": {"de": []}}],
            }
        )
    with pytest.raises(IndicatorError, match=r"\[grades\]"):
        module._parse_indicators({"indicator": []})


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_assessment_never_crashes_and_stays_in_range(text: str) -> None:
    result = assess_ad(text)
    assert 0 <= result.score <= 100
    for hit in result.indicators:
        assert 0 <= hit.span[0] <= hit.span[1] <= len(text)
        assert hit.reason.startswith(f"{hit.grade} {hit.id}: ")

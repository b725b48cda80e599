"""Reading ads from JSON Lines and CSV: every bad row refused with its line, the rest kept.

`parse_row` is a parser of untrusted input, so hypothesis throws arbitrary rows at it: it
returns an `AdInput` or raises `ScanInputError`, never anything else.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.ads.reader import (
    MAX_LINE_BYTES,
    MAX_TEXT_CHARS,
    AdInput,
    ReadError,
    RowProblem,
    guess_format,
    parse_row,
    read_ads,
)
from haven.ads.scanning import ScanInputError

GOOD = {
    "id": "ad-1",
    "text": "Synthetic ad. Call 202 555 0142",
    "lang": "en",
    "region": "us",
    "city": "Denver",
    "posted_at": "2026-03-04T05:06:07",
    "image_pdq": "AB" * 32,
    "synthetic": True,
    "truth": {"ignored": True},
}


def test_a_good_row_is_read_and_normalised() -> None:
    ad = parse_row(GOOD, default_region="FR")
    assert ad == AdInput(
        external_id="ad-1",
        text="Synthetic ad. Call 202 555 0142",
        lang="en",
        region="US",
        city="Denver",
        site="",
        url="",
        posted_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        image_pdq="ab" * 32,
        synthetic=True,
    )


def test_defaults_fill_what_a_row_leaves_out() -> None:
    ad = parse_row({"id": 7, "text": "x"}, default_region="AU")
    assert (ad.external_id, ad.region, ad.lang, ad.posted_at, ad.synthetic) == (
        "7",
        "AU",
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "  "}, "id"),
        ({"id": "x" * 201}, "id"),
        ({"text": ""}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": "a" * (MAX_TEXT_CHARS + 1)}, "text"),
        ({"text": "nul\x00here"}, "text"),
        ({"text": "lone \ud800 surrogate"}, "text"),
        ({"lang": "de"}, "lang"),
        ({"region": "XX"}, "region"),
        ({"region": 12}, "region"),
        ({"posted_at": "yesterday"}, "posted_at"),
        ({"posted_at": "0001-01-01T00:00:00"}, "posted_at"),
        ({"image_pdq": "abc"}, "image_pdq"),
        ({"synthetic": "maybe"}, "synthetic"),
        ({"city": True}, "city"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ScanInputError) as caught:
        parse_row({**GOOD, **change}, default_region="US")
    assert caught.value.field == field


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(st.characters(exclude_categories=()), max_size=80),  # lone surrogates too
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
keys = st.sampled_from(
    ["id", "text", "lang", "region", "city", "site", "url", "posted_at", "image_pdq", "synthetic"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values))
def test_any_row_is_read_or_refused_with_a_named_field(row: dict[str, Any]) -> None:
    try:
        ad = parse_row(row, default_region="US")
    except ScanInputError as exc:
        assert exc.field in {*row, "id", "text"}
    else:
        assert ad.external_id.strip() and ad.text.strip()
        assert len(ad.region) == 2


def _read(data: bytes, fmt: Any) -> list[tuple[int, AdInput | RowProblem]]:
    return list(read_ads(io.BytesIO(data), fmt, default_region="US"))


def test_jsonl_keeps_good_lines_and_names_bad_ones() -> None:
    lines = [
        json.dumps({"id": "a", "text": "one"}),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"id": "b", "text": "two", "region": "ZZ"}),
        json.dumps({"id": "c", "text": "three"}),
    ]
    data = "\n".join(lines).encode() + b"\n\xff\xfe\n"
    outcomes = _read(data, "jsonl")
    good = [o.external_id for _, o in outcomes if isinstance(o, AdInput)]
    bad = {line: str(o) for line, o in outcomes if isinstance(o, RowProblem)}
    assert good == ["a", "c"]
    assert set(bad) == {2, 4, 5, 7}
    assert "not JSON" in bad[2] and "one JSON object" in bad[4]
    assert "line 5, region" in bad[5] and "UTF-8" in bad[7]


def test_an_over_long_line_is_refused_without_losing_the_next_one() -> None:
    huge = json.dumps({"id": "big", "text": "x" * (MAX_LINE_BYTES + 10)}).encode()
    data = huge + b"\n" + json.dumps({"id": "after", "text": "ok"}).encode() + b"\n"
    outcomes = _read(data, "jsonl")
    assert isinstance(outcomes[0][1], RowProblem) and "longer than" in outcomes[0][1].problem
    assert isinstance(outcomes[1][1], AdInput) and outcomes[1][1].external_id == "after"


def test_csv_reads_a_header_and_quoted_multiline_text() -> None:
    data = (
        b'id,text,city,synthetic\r\na1,"line one\nline two",Lyon,true\r\na2,,Paris,no\r\n'
        b"a3,three,Nice,false,extra\r\n"
    )
    outcomes = _read(data, "csv")
    first = outcomes[0][1]
    assert isinstance(first, AdInput) and first.text == "line one\nline two" and first.synthetic
    assert isinstance(outcomes[1][1], RowProblem) and outcomes[1][1].field == "text"
    assert isinstance(outcomes[2][1], RowProblem) and "more fields" in outcomes[2][1].problem


def test_a_csv_without_id_and_text_columns_is_refused_whole() -> None:
    with pytest.raises(ReadError, match="id and text"):
        _read(b"name,body\nx,y\n", "csv")
    with pytest.raises(ReadError, match="UTF-8"):
        _read(b"id,text\n\xff\xfe,\x80\n", "csv")


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv")]
)
def test_the_format_is_guessed_from_the_name(name: str, fmt: str) -> None:
    assert guess_format(Path(name)) == fmt


def test_an_unknown_suffix_asks_for_the_format() -> None:
    with pytest.raises(ReadError, match="--format"):
        guess_format(Path("ads.txt"))


def test_reading_csv_leaves_the_csv_modules_settings_alone() -> None:
    import csv

    before = csv.field_size_limit()
    _read(b"id,text\na,b\n", "csv")
    assert csv.field_size_limit() == before  # no process-wide state changed

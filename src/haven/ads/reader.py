"""Reading ads from JSON Lines or CSV files, row by row, without trusting any of it.

A crawler's export can be huge, half-broken or hostile: every row is checked on its own
(`parse_row`) and a bad row becomes a `RowProblem` naming its line and field, while the
good rows go on. Nothing here touches the database; `haven.ads.services` stores the rows.
Unknown fields (such as the synthetic generator's `truth`) are ignored.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from haven.ads.scanning import ScanInputError, check_lang, check_region

__all__ = [
    "FORMATS",
    "MAX_LINE_BYTES",
    "MAX_TEXT_CHARS",
    "AdInput",
    "ReadError",
    "RowProblem",
    "guess_format",
    "is_encodable",
    "parse_row",
    "read_ads",
]

FORMATS = ("jsonl", "csv")
MAX_TEXT_CHARS = 20_000  # an ad is ~600 characters; anything this long is not one ad
MAX_LINE_BYTES = 1 << 20
_PDQ = re.compile(r"[0-9a-f]{64}")
_LIMITS = {"id": 200, "city": 200, "site": 200, "url": 2000}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ReadError(ValueError):
    """The file as a whole cannot be read (missing, not UTF-8 CSV, no header...)."""


@dataclass(frozen=True, slots=True)
class AdInput:
    """One ad as read and checked: ready for the engine and the database."""

    external_id: str
    text: str
    lang: str | None
    region: str
    city: str
    site: str
    url: str
    posted_at: datetime | None
    image_pdq: str
    synthetic: bool


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A refused row: where it is and why (never the row's content)."""

    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.problem}"


def _text_field(row: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = row.get(name)
    if value is None:
        if required:
            raise ScanInputError(name, "is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScanInputError(name, f"must be text, got {type(value).__name__}")
    text = str(value).strip() if name != "text" else str(value)
    if required and not text.strip():
        raise ScanInputError(name, "is empty")
    limit = _LIMITS.get(name, MAX_TEXT_CHARS)
    if len(text) > limit:
        raise ScanInputError(name, f"is longer than {limit:,} characters")
    if "\x00" in text:
        raise ScanInputError(name, "holds a NUL character")
    if not is_encodable(text):
        raise ScanInputError(name, "is not valid Unicode (it holds a lone surrogate)")
    return text


def is_encodable(text: str) -> bool:
    """False for text with lone surrogates: JSON can carry them, UTF-8 and databases cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _posted_at(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ScanInputError("posted_at", "must be an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ScanInputError("posted_at", f"is not ISO 8601: {value[:40]!r}") from None
    if not 1990 <= parsed.year <= 2200:
        raise ScanInputError("posted_at", f"year {parsed.year} is out of range")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return False
    raise ScanInputError("synthetic", "must be true or false")


def parse_row(row: Mapping[str, Any], *, default_region: str) -> AdInput:
    """Check one row; raises `ScanInputError` naming the first bad field."""
    pdq = _text_field(row, "image_pdq").lower()
    if pdq and not _PDQ.fullmatch(pdq):
        raise ScanInputError("image_pdq", "must be a PDQ hash: 64 hexadecimal digits")
    return AdInput(
        external_id=_text_field(row, "id", required=True),
        text=_text_field(row, "text", required=True),
        lang=check_lang(row.get("lang"), "lang"),
        region=check_region(row.get("region"), "region", default_region),
        city=_text_field(row, "city"),
        site=_text_field(row, "site"),
        url=_text_field(row, "url"),
        posted_at=_posted_at(row.get("posted_at")),
        image_pdq=pdq,
        synthetic=_flag(row.get("synthetic")),
    )


def guess_format(path: Path) -> Literal["jsonl", "csv"]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    raise ReadError(f"{path.name}: cannot tell the format from the name; give --format jsonl|csv")


Outcome = tuple[int, AdInput | RowProblem]


def _outcome(line: int, row: Mapping[str, Any], default_region: str) -> Outcome:
    try:
        return line, parse_row(row, default_region=default_region)
    except ScanInputError as exc:
        return line, RowProblem(line, exc.field, exc.problem)


def _jsonl(handle: IO[bytes], default_region: str) -> Iterator[Outcome]:
    for line, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(raw) > MAX_LINE_BYTES:
            # Skip the rest of an over-long line without holding it in memory.
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(MAX_LINE_BYTES)
            yield line, RowProblem(line, "", f"the line is longer than {MAX_LINE_BYTES:,} bytes")
            continue
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield line, RowProblem(line, "", "the line is not UTF-8")
            continue
        except ValueError as exc:
            yield line, RowProblem(line, "", f"not JSON ({exc.args[0].split(':')[0]})")
            continue
        if not isinstance(row, dict):
            yield line, RowProblem(line, "", "a line must hold one JSON object")
            continue
        yield _outcome(line, row, default_region)


def _csv(handle: IO[bytes], default_region: str, delimiter: str) -> Iterator[Outcome]:
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    try:
        yield from _csv_rows(text, default_region, delimiter)
    finally:
        text.detach()  # the caller owns the file and closes it


def _csv_rows(text: IO[str], default_region: str, delimiter: str) -> Iterator[Outcome]:
    reader = csv.DictReader(text, delimiter=delimiter)
    try:
        header = reader.fieldnames
    except UnicodeDecodeError:
        raise ReadError("the CSV file is not UTF-8") from None
    except csv.Error as exc:
        raise ReadError(f"the CSV header cannot be read ({exc})") from None
    if not header or "id" not in header or "text" not in header:
        raise ReadError("the CSV header must name at least the columns id and text")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ReadError(f"line {reader.line_num}: the CSV file is not UTF-8") from None
        except csv.Error as exc:
            yield reader.line_num, RowProblem(reader.line_num, "", f"bad CSV ({exc})")
            continue
        if None in row:
            yield reader.line_num, RowProblem(reader.line_num, "", "more fields than the header")
            continue
        yield _outcome(reader.line_num, row, default_region)


def read_ads(
    handle: IO[bytes], format: Literal["jsonl", "csv"], *, default_region: str, tsv: bool = False
) -> Iterator[Outcome]:
    """(line, AdInput or RowProblem) for every row; `ReadError` if the file is unusable."""
    if format == "jsonl":
        return _jsonl(handle, default_region)
    if format == "csv":
        return _csv(handle, default_region, "\t" if tsv else ",")
    raise ReadError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")

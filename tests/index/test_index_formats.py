"""Hash-list formats: parsing with provenance, detection, errors with line numbers, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from haven.index.formats import (
    FORMATS,
    HashListError,
    HashRecord,
    detect_format,
    read_hash_list,
    read_hash_list_text,
    write_hash_list,
)
from haven.media.signals import MD5, PDQ, SHA256

quick = settings(deadline=None, database=None)

P1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
P2 = "0" * 63 + "1"
P3 = "ABCDEF0123456789" * 4
M1 = "d41d8cd98f00b204e9800998ecf8427e"
S1 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SIZES = {"pdq": 32, "md5": 16, "sha256": 32}


# -- each format --------------------------------------------------------------------------
def test_plain_lines_with_comments_and_blank_lines() -> None:
    text = f"# exported 2024-05-01\n{P1}\n\n   {P2}  \n# {P3}\n{P3}\n"
    records = read_hash_list_text(text, "bank.txt")
    assert [r.hash for r in records] == [bytes.fromhex(h) for h in (P1, P2, P3)]
    assert [r.id for r in records] == ["bank.txt:2", "bank.txt:4", "bank.txt:6"]
    assert [r.line for r in records] == [2, 4, 6]
    assert all(r.source == "bank.txt" and r.signal == "pdq" and r.metadata == {} for r in records)
    assert records[2].hex == P3.lower()


def test_plain_lines_of_another_signal_type() -> None:
    records = read_hash_list_text(f"{M1}\n{M1.upper()}\n", "md5s.txt", signal=MD5)
    assert [(r.signal, r.hash) for r in records] == [("md5", bytes.fromhex(M1))] * 2
    with pytest.raises(HashListError, match=r"md5s\.txt:1"):
        read_hash_list_text(f"{P1}\n", "md5s.txt", signal=MD5)
    records = read_hash_list_text(f"{S1}\n", "files.txt", signal=SHA256)
    assert records[0].signal == "sha256" and records[0].hex == S1


def test_csv_uses_its_id_column_and_keeps_metadata() -> None:
    text = (
        "ID,Hash,Label,Notes\n"
        f'case-17,{P1},known,"first, with a comma"\n'
        f",{P2},known,no id here\n"
        f'  case-18  ,{P3},"quoted ""label""",\n'
    )
    records = read_hash_list_text(text, "partner.csv")
    assert [r.id for r in records] == ["case-17", "partner.csv:3", "case-18"]
    assert [r.line for r in records] == [2, 3, 4]
    assert [r.hash for r in records] == [bytes.fromhex(h) for h in (P1, P2, P3)]
    assert records[0].metadata == {"label": "known", "notes": "first, with a comma"}
    assert records[1].metadata == {"label": "known", "notes": "no id here"}
    assert records[2].metadata == {"label": 'quoted "label"', "notes": ""}
    assert all(r.signal == "pdq" and r.source == "partner.csv" for r in records)


@pytest.mark.parametrize("id_column", ["id", "external_id", "entry_id"])
@pytest.mark.parametrize("hash_column", ["hash", "pdq", "signal_value"])
def test_csv_column_names(id_column: str, hash_column: str) -> None:
    records = read_hash_list_text(f"{id_column},{hash_column}\nx1,{P1}\n", "l.csv")
    assert [(r.id, r.hex, r.signal) for r in records] == [("x1", P1, "pdq")]


def test_csv_signal_types_per_row_and_by_column() -> None:
    text = (
        f"signal_type,hash,id\npdq,{P1},a\nmd5,{M1},b\nvideo_md5,{M1},c\nSHA256,{S1},d\n,{P2},e\n"
    )
    records = read_hash_list_text(text, "mixed.csv")
    assert [(r.id, r.signal, r.hex) for r in records] == [
        ("a", "pdq", P1),
        ("b", "md5", M1),
        ("c", "md5", M1),
        ("d", "sha256", S1),
        ("e", "pdq", P2),
    ]
    assert all(r.metadata == {} for r in records)
    by_column = read_hash_list_text(f"md5,name\n{M1},a.jpg\n", "m.csv")
    assert [(r.signal, r.hex, r.metadata) for r in by_column] == [("md5", M1, {"name": "a.jpg"})]
    by_column = read_hash_list_text(f"sha256\n{S1}\n", "s.csv")
    assert [(r.signal, r.hex, r.id) for r in by_column] == [("sha256", S1, "s.csv:2")]
    assert read_hash_list_text(f"type,hash\nmd5,{M1}\n", "t.csv")[0].signal == "md5"


def test_csv_blank_rows_are_skipped_and_header_only_is_empty() -> None:
    assert read_hash_list_text("hash,id\n", "h.csv") == []
    assert read_hash_list_text("", "h.csv") == []
    records = read_hash_list_text(f"hash,id\n\n , \n{P1},x\n", "h.csv")
    assert [(r.id, r.line) for r in records] == [("x", 4)]


def test_csv_errors_name_the_line() -> None:
    with pytest.raises(HashListError, match=r"^c\.csv:1: CSV header has no hash column") as info:
        read_hash_list_text(f"id,value\na,{P1}\n", "c.csv")
    assert info.value.line == 1 and info.value.source == "c.csv"
    with pytest.raises(HashListError, match=r"^c\.csv:3: expected 2 columns, got 3") as info:
        read_hash_list_text(f"hash,id\n{P1},a\n{P2},b,extra\n", "c.csv")
    assert info.value.line == 3
    with pytest.raises(HashListError, match=r"^c\.csv:4: .*non-hex") as info:
        read_hash_list_text(f"hash,id\n{P1},a\n{P2},b\n{P1[:-1]}g,c\n", "c.csv")
    assert info.value.line == 4
    with pytest.raises(HashListError, match=r"^c\.csv:2: .*unknown signal type 'tmk'"):
        read_hash_list_text(f"signal_type,hash\ntmk,{P1}\n", "c.csv")
    with pytest.raises(HashListError, match=r"^c\.csv:2: md5 hash must be 32 hex digits"):
        read_hash_list_text(f"signal_type,hash\nmd5,{P1}\n", "c.csv")


def test_local_file_lines_of_each_signal_type() -> None:
    text = f"# from python-threatexchange\npdq {P1}\n\nmd5 {M1}\nsha256   {S1}\nvideo_md5 {M1}\n"
    records = read_hash_list_text(text, "local.txt")
    assert [(r.id, r.signal, r.hex, r.line) for r in records] == [
        ("local.txt:2", "pdq", P1, 2),
        ("local.txt:4", "md5", M1, 4),
        ("local.txt:5", "sha256", S1, 5),
        ("local.txt:6", "md5", M1, 6),
    ]
    with pytest.raises(HashListError, match=r"^local\.txt:2: unsupported signal type 'tmk'"):
        read_hash_list_text(f"pdq {P1}\ntmk {P1}\n", "local.txt")
    with pytest.raises(HashListError, match=r"^local\.txt:3: md5 hash must be 32 hex"):
        read_hash_list_text(f"pdq {P1}\n\nmd5 {S1}\n", "local.txt")


def test_vpdq_frames_keep_frame_quality_and_time() -> None:
    text = f"0,100,{P1},0.000\n\n30,40,{P2},1.001\n60,90,{P3}\n"
    records = read_hash_list_text(text, "clip.vpdq")
    assert [(r.id, r.line, r.signal, r.hash) for r in records] == [
        ("clip.vpdq:1", 1, "pdq", bytes.fromhex(P1)),
        ("clip.vpdq:3", 3, "pdq", bytes.fromhex(P2)),
        ("clip.vpdq:4", 4, "pdq", bytes.fromhex(P3)),
    ]
    assert records[0].metadata == {"frame": "0", "quality": "100", "seconds": "0.0"}
    assert records[1].metadata == {"frame": "30", "quality": "40", "seconds": "1.001"}
    assert records[2].metadata == {"frame": "60", "quality": "90"}  # no timestamp given
    with pytest.raises(HashListError, match=r"^clip\.vpdq:2: .*quality") as info:
        read_hash_list_text(f"0,100,{P1}\n1,101,{P2}\n", "clip.vpdq")
    assert info.value.line == 2


# -- detection ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "lines", "expected"),
    [
        ("a.csv", [P1], "csv"),
        ("A.CSV", [], "csv"),
        ("a.vpdq", [P1], "vpdq"),
        ("a.vpdq.txt", [], "vpdq"),
        ("a.txt", [], "plain"),
        ("a.txt", ["# only a comment", ""], "plain"),
        ("a.txt", ["# header", P1, P2], "plain"),
        ("a.txt", ["# exported", f"pdq {P1}", f"md5 {M1}"], "local_file"),
        ("a.txt", [f"0,100,{P1},0.0", f"1,99,{P2}"], "vpdq"),
        ("a", ["hash,id", f"{P1},x"], "csv"),
        ("a", [f"0,100,{P1}", "hash,id"], "csv"),  # not all lines are frames
        ("a", [M1], "plain"),
    ],
)
def test_detect_format(name: str, lines: list[str], expected: str) -> None:
    assert detect_format(name, lines) == expected


def test_detection_drives_parsing_and_explicit_format_overrides_it() -> None:
    assert read_hash_list_text(f"pdq {P1}\n", "x")[0].id == "x:1"
    assert read_hash_list_text(f"0,100,{P1}\n", "x")[0].metadata["frame"] == "0"
    assert read_hash_list_text(f"hash,who\n{P1},me\n", "x")[0].metadata == {"who": "me"}
    # Forced plain: "pdq <hex>" is then a malformed hash, reported with its line.
    with pytest.raises(HashListError, match=r"^x:2: "):
        read_hash_list_text(f"{P2}\npdq {P1}\n", "x", format="plain")
    with pytest.raises(HashListError, match="unknown format 'xml'"):
        read_hash_list_text(P1, "x", format="xml")


# -- malformed hashes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (P1[:-1], "64 hex digits, got 63"),
        (P1 + "0", "64 hex digits, got 65"),
        (P1[:-1] + "g", "non-hex character 'g'"),
        (P1[:-1] + "٣", "non-hex character"),  # a non-ASCII digit is not hex
        (P1[:30] + " " + P1[31:], "non-hex character ' '"),
        ("0x" + P1[2:], "non-hex character 'x'"),
    ],
)
@pytest.mark.parametrize(
    ("fmt", "template", "line"),
    [
        ("plain", "# c\n{good}\n\n{bad}\n", 4),
        ("csv", "hash,id\n{good},a\n{bad},b\n", 3),
        ("local_file", "pdq {good}\n# c\npdq {bad}\n", 3),
        ("vpdq", "0,100,{good}\n1,100,{bad}\n", 2),
    ],
)
def test_malformed_hashes_name_file_and_line(
    bad: str, problem: str, fmt: str, template: str, line: int
) -> None:
    text = template.format(good=P1, bad=bad)
    with pytest.raises(HashListError) as info:
        read_hash_list_text(text, "list.dat", format=fmt)
    assert info.value.source == "list.dat"
    assert info.value.line == line
    assert str(info.value).startswith(f"list.dat:{line}: ")
    assert problem in str(info.value)


def test_overlong_lines_are_refused_before_parsing() -> None:
    with pytest.raises(HashListError, match="longer than 4096"):
        read_hash_list_text(f"{P1}\n" + "0" * 5000 + "\n", "big.txt")


# -- files --------------------------------------------------------------------------------
def test_read_hash_list_names_records_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "partner list.csv"
    path.write_text(f"\ufeffhash,id,label\r\n{P1},,a\r\n{P2},k2,b\r\n", encoding="utf-8")
    records = read_hash_list(path)  # a byte-order mark and CRLF line ends, as Excel writes
    assert [(r.id, r.source, r.line) for r in records] == [
        ("partner list.csv:2", "partner list.csv", 2),
        ("k2", "partner list.csv", 3),
    ]
    assert [r.metadata for r in records] == [{"label": "a"}, {"label": "b"}]
    plain = tmp_path / "hashes.txt"
    plain.write_text(f"{P1}\n{P2}\n")
    assert [r.id for r in read_hash_list(plain)] == ["hashes.txt:1", "hashes.txt:2"]
    assert [r.signal for r in read_hash_list(plain, format="plain", signal=SHA256)] == [
        "sha256"
    ] * 2


def test_unreadable_files_raise_hash_list_error(tmp_path: Path) -> None:
    binary = tmp_path / "hashes.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(HashListError, match=r"^hashes\.bin: not a UTF-8 text file"):
        read_hash_list(binary)
    with pytest.raises(HashListError, match=r"^missing\.txt: cannot read"):
        read_hash_list(tmp_path / "missing.txt")
    with pytest.raises(HashListError, match="cannot read"):
        read_hash_list(tmp_path)  # a directory


def test_bare_carriage_returns_in_csv_text_are_a_hash_list_error() -> None:
    """Old Mac line ends (a bare CR) in CSV text given in memory: the csv module's own error
    must not escape; either the rows are read or HashListError says what is wrong."""
    text = f"hash,id\r{P1},a\r{P2},b\r"
    try:
        records = read_hash_list_text(text, "mac.csv")
    except HashListError:
        return
    assert [(r.hex, r.id) for r in records] == [(P1, "a"), (P2, "b")]


def test_a_stray_quote_that_swallows_the_file_is_a_hash_list_error(tmp_path: Path) -> None:
    """An unbalanced quote makes the rest of a long CSV one huge field; that is a malformed
    list (HashListError naming the file), not the csv module's field-size error."""
    path = tmp_path / "long.csv"
    rows = "".join(f"{P2},entry-{i}\n" for i in range(3000))
    path.write_text(f'hash,id\n{P1},"oops\n{rows}')
    with pytest.raises(HashListError, match=r"^long\.csv"):
        read_hash_list(path)


# -- round trips --------------------------------------------------------------------------
TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
RESERVED = {
    "id",
    "external_id",
    "entry_id",
    "signal_type",
    "type",
    "hash",
    "pdq",
    "signal_value",
    "md5",
    "sha256",
}
ids = st.text(TEXT, min_size=1, max_size=16).filter(lambda s: s == s.strip() != "")
keys = st.text("abcdefghijklmnopqrstuvwxyz_0123456789 -", min_size=1, max_size=8).filter(
    lambda k: k == k.strip() and k not in RESERVED
)


@st.composite
def signed_hash(draw: st.DrawFn) -> tuple[str, bytes]:
    signal = draw(st.sampled_from(sorted(SIZES)))
    return signal, draw(st.binary(min_size=SIZES[signal], max_size=SIZES[signal]))


@settings(quick, max_examples=60)
@given(
    columns=st.lists(keys, max_size=4, unique=True),
    entries=st.lists(
        st.tuples(ids, signed_hash(), st.lists(st.text(TEXT, max_size=12))), max_size=8
    ),
)
def test_csv_round_trip_keeps_ids_signals_and_metadata(
    columns: list[str], entries: list[tuple[str, tuple[str, bytes], list[str]]]
) -> None:
    records = [
        HashRecord(
            entry_id,
            signal,
            digest,
            "orig",
            i + 1,
            dict(zip(columns, values + [""] * len(columns), strict=False)),
        )
        for i, (entry_id, (signal, digest), values) in enumerate(entries)
    ]
    text = write_hash_list(records, "csv")
    assert text.splitlines()[0].startswith("id,signal_type,hash")
    back = read_hash_list_text(text, "copy.csv")
    assert [(r.id, r.signal, r.hash, r.metadata) for r in back] == [
        (r.id, r.signal, r.hash, r.metadata) for r in records
    ]
    assert all(r.source == "copy.csv" for r in back)
    # Without a .csv name, the content alone is recognised as CSV.
    if records:
        undetected = read_hash_list_text(text, "copy")
        assert [(r.id, r.signal, r.hash, r.metadata) for r in undetected] == [
            (r.id, r.signal, r.hash, r.metadata) for r in back
        ]


@settings(quick, max_examples=40)
@given(
    signal=st.sampled_from([PDQ, MD5, SHA256]),
    count=st.integers(0, 10),
    data=st.data(),
)
def test_plain_round_trip(signal, count: int, data: st.DataObject) -> None:
    size = signal.bits // 8
    digests = data.draw(st.lists(st.binary(min_size=size, max_size=size), min_size=count))
    records = [HashRecord(f"r{i}", signal.name, d, "orig", i + 1) for i, d in enumerate(digests)]
    text = write_hash_list(records, "plain")
    back = read_hash_list_text(text, "copy.txt", signal=signal)
    assert [(r.id, r.signal, r.hash, r.line) for r in back] == [
        (f"copy.txt:{i + 1}", signal.name, d, i + 1) for i, d in enumerate(digests)
    ]


@settings(quick, max_examples=40)
@given(entries=st.lists(signed_hash(), max_size=10))
def test_local_file_round_trip(entries: list[tuple[str, bytes]]) -> None:
    records = [HashRecord(f"r{i}", s, d, "orig", i + 1) for i, (s, d) in enumerate(entries)]
    text = write_hash_list(records, "local_file")
    back = read_hash_list_text(text, "copy")  # detected from content
    assert [(r.id, r.signal, r.hash) for r in back] == [
        (f"copy:{i + 1}", s, d) for i, (s, d) in enumerate(entries)
    ]


@settings(quick, max_examples=30)
@given(
    frames=st.lists(
        st.tuples(
            st.integers(0, 10**9),
            st.integers(0, 100),
            st.binary(min_size=32, max_size=32),
            st.integers(0, 10**7),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_vpdq_round_trip(frames: list[tuple[int, int, bytes, int]]) -> None:
    records = [
        HashRecord(
            f"r{i}",
            "pdq",
            digest,
            "orig",
            i + 1,
            {"frame": str(number), "quality": str(quality), "seconds": repr(millis / 1000)},
        )
        for i, (number, quality, digest, millis) in enumerate(frames)
    ]
    text = write_hash_list(records, "vpdq")
    back = read_hash_list_text(text, "copy.vpdq")
    assert [(r.hash, r.metadata) for r in back] == [(r.hash, r.metadata) for r in records]
    assert read_hash_list_text(text, "copy.txt") == [
        HashRecord(
            r.id.replace("copy.vpdq", "copy.txt"), r.signal, r.hash, "copy.txt", r.line, r.metadata
        )
        for r in back
    ]


def test_write_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        write_hash_list([], "xml")
    assert write_hash_list([], "csv") == "id,signal_type,hash\n"
    assert all(write_hash_list([], f) == "" for f in FORMATS if f != "csv")


# -- junk ---------------------------------------------------------------------------------
JUNK = st.text(
    st.sampled_from(list("0123456789abcdefABCDEF,; \t\n\r#\"'xyz_.é\x00\u2028")) | st.characters(),
    max_size=300,
)
PREFIXES = st.sampled_from(
    ["", "hash,id\n", "signal_type,hash,id\n", "pdq ", "md5 ", "0,100,", f"{P1}\n", f"pdq {P1}\n"]
)


@settings(quick, max_examples=300)
@given(
    prefix=PREFIXES,
    body=JUNK,
    source=st.sampled_from(["x.txt", "x.csv", "x.vpdq", "x"]),
    fmt=st.sampled_from([None, *FORMATS]),
)
@example(prefix="hash,id\n", body=f"{P1},a\rb\n", source="x.csv", fmt=None)
def test_junk_never_raises_anything_but_hash_list_error(
    prefix: str, body: str, source: str, fmt: str | None
) -> None:
    try:
        records = read_hash_list_text(prefix + body, source, format=fmt)
    except HashListError as exc:
        assert str(exc).startswith(source)
        return
    for record in records:
        assert isinstance(record, HashRecord)
        assert len(record.hash) == SIZES[record.signal]
        assert record.source == source and record.line >= 1

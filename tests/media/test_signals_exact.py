"""Strict hash parsing (property-tested) and streamed exact hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.media import exact
from haven.media.signals import MD5, PDQ, SHA256, MalformedHash, signal_type


@given(st.binary(min_size=32, max_size=32), st.sampled_from(["", " ", "\n", "\t "]))
def test_pdq_hex_round_trips_in_any_case_with_surrounding_space(raw: bytes, pad: str) -> None:
    assert PDQ.parse(pad + raw.hex() + pad) == raw
    assert PDQ.parse(raw.hex().upper()) == raw


@given(st.text(max_size=80))
def test_any_other_text_is_refused_with_malformed_hash(text: str) -> None:
    stripped = text.strip()
    is_valid = len(stripped) == 64 and all(c in "0123456789abcdefABCDEF" for c in stripped)
    if is_valid:
        assert len(PDQ.parse(text)) == 32
    else:
        with pytest.raises(MalformedHash):
            PDQ.parse(text)


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(MalformedHash, match="64 hex digits, got 3"):
        PDQ.parse("abc")
    with pytest.raises(MalformedHash, match="non-hex character 'g'"):
        PDQ.parse("g" * 64)
    with pytest.raises(MalformedHash, match="unknown signal type"):
        signal_type("tmk")
    assert MD5.parse("0" * 32) == bytes(16) and SHA256.hex_length == 64


def test_exact_hashes_stream_in_bounded_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytes(range(256)) * 5000
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    monkeypatch.setattr(exact, "CHUNK_SIZE", 4096)
    reads: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, handle):  # type: ignore[no-untyped-def]
            self.handle = handle

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *args):  # type: ignore[no-untyped-def]
            self.handle.close()

        def read(self, size: int) -> bytes:
            reads.append(size)
            return bytes(self.handle.read(size))

    monkeypatch.setattr(exact, "open", lambda p, m: Spy(real_open(p, m)), raising=False)
    result = exact.exact_hashes_of_file(path)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    assert reads and max(reads) == 4096  # never the whole file at once
    assert exact.exact_hashes_of_bytes(data) == result

"""The vPDQ text format and vpdq's match rule, on synthetic hashes and Meta's reference files."""

from __future__ import annotations

import os
import pickle
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.media import vpdq
from haven.media.signals import MalformedHash
from haven.media.vpdq import (
    MalformedVpdq,
    VideoFrame,
    VideoMatch,
    hamming_distances,
    match_video,
    read_vpdq,
    write_vpdq,
)

REFERENCE_DIR = Path(
    os.environ.get(
        "HAVEN_REFERENCE_DIR", Path(__file__).parents[2].parent / "shared/data/pdq-reference"
    )
)
REFERENCE_FILES = sorted((REFERENCE_DIR / "videos").glob("*.vpdq.txt"))
needs_reference = pytest.mark.skipif(
    not REFERENCE_FILES, reason=f"no vPDQ reference files in {REFERENCE_DIR}/videos"
)

HEX = "0123456789abcdef" * 4  # 64 hex digits
SAMPLE = f"0,100,{HEX},0.000\n1,87,{HEX.upper()},0.033\n2,12,{'f' * 64},0.067\n"
# Hypothesis keeps no example database: runs must not leave files in the repository.
quick = settings(database=None, max_examples=200, deadline=None)


def _frame(
    number: int, quality: int = 100, seed: int = 0, seconds: float | None = None
) -> VideoFrame:
    pdq = np.random.default_rng([seed, number]).bytes(32)
    return VideoFrame(number, quality, pdq, float(number) if seconds is None else seconds)


def _flip(pdq: bytes, bits: int) -> bytes:
    """The same hash with its first `bits` bits inverted: exactly `bits` bits away."""
    as_bits = np.unpackbits(np.frombuffer(pdq, dtype=np.uint8))
    as_bits[:bits] ^= 1
    return np.packbits(as_bits).tobytes()


# --- reading and writing ------------------------------------------------------------------


def test_reads_frames_quality_hash_and_time() -> None:
    frames = read_vpdq(SAMPLE)
    assert [f.number for f in frames] == [0, 1, 2]
    assert [f.quality for f in frames] == [100, 87, 12]
    assert frames[0].pdq == frames[1].pdq == bytes.fromhex(HEX)  # hex case does not matter
    assert [f.seconds for f in frames] == [0.0, 0.033, 0.067]


def test_reads_lines_from_an_open_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.vpdq.txt"
    path.write_text(SAMPLE.replace("\n", "\r\n") + "\n\n")
    with path.open(newline="") as handle:
        assert read_vpdq(handle) == read_vpdq(SAMPLE)


def test_three_field_lines_have_no_timestamp() -> None:
    (frame,) = read_vpdq(f"5,90,{HEX}")
    assert frame.seconds is None
    assert write_vpdq([frame]) == f"5,90,{HEX}\n"


def test_write_then_read_gives_the_same_frames() -> None:
    frames = [_frame(0, seconds=0.0), _frame(7, 45, seconds=1 / 3), _frame(9, 0, seconds=1e-7)]
    assert read_vpdq(write_vpdq(frames)) == frames
    assert write_vpdq([]) == ""


def test_millisecond_output_like_meta_tools() -> None:
    text = write_vpdq([_frame(1, seconds=1 / 30)], decimals=3)
    assert text.endswith(",0.033\n")


@needs_reference
@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda p: p.name)
def test_reference_files_read_and_write_back_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    frames = read_vpdq(text)
    assert len(frames) == len(text.splitlines())
    assert [f.number for f in frames] == list(range(len(frames)))
    assert write_vpdq(frames, decimals=3) == text


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (f"0,100,{HEX},0.0\n1,100,{HEX[:-1]},0.1", 2, "64 hex digits"),
        (f"0,100,{HEX[:-1]}g,0.0", 1, "non-hex"),
        (f"0,101,{HEX},0.0", 1, "over 100"),
        (f"0,-1,{HEX},0.0", 1, "quality"),
        (f"-1,100,{HEX},0.0", 1, "frame number"),
        (f"1.5,100,{HEX},0.0", 1, "frame number"),
        (f"0,1_00,{HEX},0.0", 1, "quality"),
        (f"0,１００,{HEX},0.0", 1, "quality"),  # full-width digits
        (f"0,100,{HEX},-0.5", 1, "timestamp"),
        (f"0,100,{HEX},nan", 1, "timestamp"),
        (f"0,100,{HEX},inf", 1, "timestamp"),
        (f"0,100,{HEX},1e999", 1, "out of range"),
        (f"0,100,{HEX},0.0,extra", 1, "3 or 4"),
        (f"0,100{HEX}", 1, "3 or 4"),
        (f"\n\n0,100,{HEX}\n# a comment", 4, "3 or 4"),
        (f"{2**63},100,{HEX}", 1, "too large"),
    ],
)
def test_malformed_lines_are_named(text: str, line: int, problem: str) -> None:
    with pytest.raises(MalformedVpdq) as caught:
        read_vpdq(text)
    assert caught.value.line_number == line
    assert problem in str(caught.value)
    assert f"line {line}" in str(caught.value)


def test_malformed_vpdq_is_a_malformed_hash_and_pickles() -> None:
    with pytest.raises(MalformedHash):
        read_vpdq("junk")
    error = MalformedVpdq(3, "junk", "expected 3 or 4 comma-separated fields, got 1")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.line_number, copy.line, str(copy)) == (3, "junk", str(error))


def test_non_text_lines_are_refused() -> None:
    with pytest.raises(MalformedVpdq):
        read_vpdq([f"0,100,{HEX}".encode()])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "fields",
    [
        (-1, 50, bytes(32), 0.0),
        (0, 101, bytes(32), 0.0),
        (0, 50, bytes(31), 0.0),
        (0, 50, bytes(32), -1.0),
        (0, 50, bytes(32), float("inf")),
    ],
)
def test_frames_refuse_impossible_values(fields: tuple[int, int, bytes, float]) -> None:
    with pytest.raises(ValueError):
        VideoFrame(*fields)


frames_strategy = st.lists(
    st.builds(
        VideoFrame,
        number=st.integers(0, 2**63 - 1),
        quality=st.integers(0, 100),
        pdq=st.binary(min_size=32, max_size=32),
        seconds=st.none() | st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False),
    ),
    max_size=20,
)


@quick
@given(frames_strategy)
def test_round_trip_property(frames: list[VideoFrame]) -> None:
    assert read_vpdq(write_vpdq(frames)) == frames


near_valid_line = st.lists(
    st.sampled_from(["0", "7", "100", "101", "-1", HEX, HEX[:-1], "0.5", "nan", "1e999", "", " "])
    | st.text(max_size=6),
    min_size=1,
    max_size=6,
).map(",".join)


@quick
@given(st.lists(near_valid_line | st.text(max_size=80), max_size=5).map("\n".join))
def test_any_text_either_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        frames = read_vpdq(text)
    except MalformedVpdq as exc:
        assert exc.line_number >= 1
    else:
        assert all(isinstance(f, VideoFrame) for f in frames)


# Characters no field may contain: not digits, hex, a decimal point, an exponent or a sign.
bad_character = st.sampled_from(list("ghijklmnopqrstuvwxyzGHIJKLXYZ!@#$%^&*()[]{};:'\"<>?/|\\~`_="))
junk_field = st.text(alphabet=string.printable.replace(",", ""), max_size=8)


@quick
@given(frames_strategy.filter(bool), st.data())
def test_a_damaged_field_is_always_caught(frames: list[VideoFrame], data: st.DataObject) -> None:
    lines = write_vpdq(frames).splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    fields = lines[index].split(",")
    position = data.draw(st.integers(0, len(fields) - 1))
    fields[position] = data.draw(junk_field) + data.draw(bad_character) + data.draw(junk_field)
    lines[index] = ",".join(fields).replace("\n", " ").replace("\r", " ")
    with pytest.raises(MalformedVpdq) as caught:
        read_vpdq(lines)
    assert caught.value.line_number == index + 1


# --- distances ----------------------------------------------------------------------------


hash_lists = st.lists(st.binary(min_size=32, max_size=32), max_size=12)


@quick
@given(hash_lists, hash_lists)
def test_distances_equal_a_brute_force_count(left: list[bytes], right: list[bytes]) -> None:
    expected = [
        [sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True)) for b in right] for a in left
    ]
    assert hamming_distances(left, right).tolist() == expected


def test_distances_without_numpy_bitwise_count(monkeypatch: pytest.MonkeyPatch) -> None:
    left = [_frame(i).pdq for i in range(5)]
    right = [_frame(i, seed=1).pdq for i in range(7)]
    fast = hamming_distances(left, right)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert (hamming_distances(left, right) == fast).all()


# --- matching -----------------------------------------------------------------------------


def test_identical_videos_match_fully() -> None:
    frames = [_frame(i) for i in range(10)]
    assert match_video(frames, frames) == VideoMatch(True, 1.0, 1.0, 10, 10, 10, 10)


def test_banked_clip_inside_a_long_upload_matches() -> None:
    banked = [_frame(i, seed=1) for i in range(10)]
    # Re-encoding moved every frame by up to 20 bits; 90 frames of other material around.
    clip = [VideoFrame(f.number + 40, f.quality, _flip(f.pdq, 20), f.seconds) for f in banked]
    upload = [_frame(i, seed=2) for i in range(40)] + clip + [_frame(i, seed=3) for i in range(50)]
    result = match_video(upload, banked)
    assert result.matched
    assert (result.banked_share, result.query_share) == (1.0, 0.1)
    assert (result.query_frames_matched, result.query_frames_total) == (10, 100)
    assert not match_video(upload, banked, query_share=0.5).matched


def test_banked_share_threshold() -> None:
    banked = [_frame(i, seed=1) for i in range(10)]
    upload = banked[:8] + [_frame(i, seed=4) for i in range(2)]
    assert match_video(upload, banked).banked_share == 0.8
    assert match_video(upload, banked).matched
    assert not match_video(upload[1:], banked).matched  # 7 of 10


def test_distance_is_inclusive() -> None:
    banked = [_frame(0)]
    at = [VideoFrame(0, 100, _flip(banked[0].pdq, 31), 0.0)]
    beyond = [VideoFrame(0, 100, _flip(banked[0].pdq, 32), 0.0)]
    assert match_video(at, banked).matched
    assert not match_video(beyond, banked).matched
    assert match_video(beyond, banked, distance=32).matched


def test_low_quality_frames_are_ignored_on_both_sides() -> None:
    good = [_frame(i) for i in range(4)]
    poor = [_frame(i, quality=49, seed=9) for i in range(4, 20)]
    # The poor frames would halve the banked share if they counted.
    result = match_video(good, good + poor)
    assert result.matched and result.banked_frames_total == 4
    # A query made only of poor frames matches nothing, even the same poor frames.
    assert not match_video(poor, poor).matched
    assert match_video(poor, poor, quality_threshold=40).matched


def test_repeated_hashes_count_once() -> None:
    still = _frame(0)
    banked = [VideoFrame(i, 100, still.pdq, float(i)) for i in range(9)] + [_frame(9, seed=5)]
    result = match_video([still], banked)
    # Nine seconds of one still picture are one frame, not 90 % of the video.
    assert (result.banked_frames_matched, result.banked_frames_total) == (1, 2)
    assert not result.matched


def test_nothing_to_compare_never_matches() -> None:
    assert match_video([], [_frame(0)], banked_share=0.0) == VideoMatch(False, 0, 0, 0, 1, 0, 0)
    assert not match_video([_frame(0)], [], banked_share=0.0).matched


def test_large_lists_are_compared_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vpdq, "_PAIRS_PER_BLOCK", 64)
    banked = [_frame(i, seed=6) for i in range(300)]
    upload = [_frame(i, seed=7) for i in range(100)] + banked[::3]
    distances = hamming_distances([f.pdq for f in banked], [f.pdq for f in upload])
    result = match_video(upload, banked)
    assert result.banked_frames_matched == int((distances <= 31).any(axis=1).sum()) == 100
    assert result.query_frames_matched == int((distances <= 31).any(axis=0).sum()) == 100


@pytest.mark.parametrize(
    "bad", [{"distance": -1}, {"distance": 257}, {"banked_share": 1.5}, {"query_share": -0.1}]
)
def test_nonsense_thresholds_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        match_video([_frame(0)], [_frame(0)], **bad)  # type: ignore[arg-type]

"""BankIndex: PDQ by Hamming distance, MD5/SHA-256 by equality, videos by vPDQ's 80 % rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haven.index import IndexFileError, MultiIndexHash
from haven.index.bank import BankIndex, BankMatch, VideoBankMatch
from haven.index.formats import HashRecord, read_hash_list_text

RNG_SEED = 2024
M1 = "d41d8cd98f00b204e9800998ecf8427e"
M2 = "0cc175b9c0f1b6a831c399e269772661"
S1 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def random_hash(rng: np.random.Generator) -> bytes:
    return bytes(rng.integers(0, 256, 32, dtype=np.uint8))


def flip(digest: bytes, bits: list[int]) -> bytes:
    out = bytearray(digest)
    for p in bits:
        out[p // 8] ^= 0x80 >> (p % 8)
    return bytes(out)


def near(digest: bytes, k: int, rng: np.random.Generator) -> bytes:
    return flip(digest, rng.choice(256, size=k, replace=False).tolist())


class Fixture:
    """Image hashes at known distances from `base`, exact hashes, and two banked videos."""

    def __init__(self) -> None:
        rng = np.random.default_rng(RNG_SEED)
        self.rng = rng
        self.base = random_hash(rng)
        self.images = {
            "img-exact": self.base,
            "img-3": near(self.base, 3, rng),
            "img-10": near(self.base, 10, rng),
            "img-31": near(self.base, 31, rng),
            "img-32": near(self.base, 32, rng),
            "img-far": random_hash(rng),
            "img-tie-10": near(self.base, 10, rng),
        }
        self.good = [random_hash(rng) for _ in range(10)]
        self.poor = [random_hash(rng) for _ in range(3)]
        self.other = [random_hash(rng) for _ in range(5)]
        clip_lines = []
        for i, digest in enumerate(self.good):  # every good frame appears twice
            clip_lines.append(f"{2 * i},{90 - i},{digest.hex()},{2 * i / 30:.3f}")
            clip_lines.append(f"{2 * i + 1},100,{digest.hex()},{(2 * i + 1) / 30:.3f}")
        for i, digest in enumerate(self.poor):  # low quality: vPDQ ignores these
            clip_lines.append(f"{100 + i},{[0, 20, 49][i]},{digest.hex()},{4 + i:.3f}")
        other_lines = [f"{i},80,{d.hex()}" for i, d in enumerate(self.other)]
        image_text = "".join(f"{h.hex()}\n" for h in self.images.values())
        ids_csv = "id,hash,label\n" + "".join(
            f"{name},{digest.hex()},x\n" for name, digest in self.images.items()
        )
        local = f"md5 {M1}\nmd5 {M1}\nsha256 {S1}\nvideo_md5 {M2}\n"
        self.records = (
            read_hash_list_text(ids_csv, "images.csv")
            + read_hash_list_text(image_text, "plain.txt")
            + read_hash_list_text(local, "files.txt")
            + read_hash_list_text("\n".join(clip_lines) + "\n", "clip.vpdq")
            + read_hash_list_text("\n".join(other_lines) + "\n", "other.vpdq")
        )


@pytest.fixture
def fx() -> Fixture:
    return Fixture()


def good_frames(digests: list[bytes], quality: int = 100) -> list[tuple[bytes, int]]:
    return [(d, quality) for d in digests]


def test_bank_counts_entries_of_every_signal_type(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    # 7 named images + the same 7 again from the plain list + 20 good clip frames + 5 other.
    assert bank.counts() == {"pdq": 7 + 7 + 20 + 5, "md5": 3, "sha256": 1}
    assert len(bank) == 39 + 3 + 1
    assert isinstance(bank.pdq, MultiIndexHash) and len(bank.pdq) == 39
    assert len(BankIndex()) == 0 and BankIndex().counts() == {"pdq": 0, "md5": 0, "sha256": 0}


def test_signal_types_that_cannot_be_banked_are_refused() -> None:
    record = HashRecord("v1", "vpdq", b"\0" * 32, "x", 1)
    with pytest.raises(ValueError, match="v1"):
        BankIndex([record])


def test_match_pdq_is_nearest_first_within_the_radius(fx: Fixture) -> None:
    bank = BankIndex(fx.records[:7])  # the named images only
    [found] = bank.match_pdq([fx.base])
    assert found == [
        BankMatch("img-exact", "pdq", 0),
        BankMatch("img-3", "pdq", 3),
        BankMatch("img-10", "pdq", 10),
        BankMatch("img-tie-10", "pdq", 10),  # a tie: in the order banked
        BankMatch("img-31", "pdq", 31),
    ]
    assert [m.id for m in bank.match_pdq([fx.base], radius=5)[0]] == ["img-exact", "img-3"]
    assert [m.id for m in bank.match_pdq([fx.base], radius=32)[0]][-1] == "img-32"
    far = fx.images["img-far"]
    unrelated = random_hash(fx.rng)
    results = bank.match_pdq([far, unrelated, fx.images["img-3"]], radius=0)
    assert results == [
        [BankMatch("img-far", "pdq", 0)],
        [],
        [BankMatch("img-3", "pdq", 0)],
    ]
    assert bank.match_pdq([]) == []


def test_match_pdq_reports_ids_of_duplicates_and_the_video_of_frames(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    [found] = bank.match_pdq([fx.base], radius=0)
    assert found == [BankMatch("img-exact", "pdq", 0), BankMatch("plain.txt:1", "pdq", 0)]
    [frames] = bank.match_pdq([near(fx.good[3], 2, fx.rng)])
    assert [(m.distance, m.video) for m in frames] == [(2, "clip.vpdq"), (2, "clip.vpdq")]
    assert {m.id for m in frames} == {"clip.vpdq:7", "clip.vpdq:8"}
    assert all(m.video == "" for m in bank.match_pdq([fx.base])[0])
    # Low-quality banked frames are not banked at all.
    assert bank.match_pdq(fx.poor, radius=31) == [[], [], []]


def test_match_exact_for_md5_and_sha256(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    assert bank.match_exact("md5", bytes.fromhex(M1)) == [
        BankMatch("files.txt:1", "md5", 0),
        BankMatch("files.txt:2", "md5", 0),
    ]
    assert bank.match_exact("md5", bytes.fromhex(M2)) == [BankMatch("files.txt:4", "md5", 0)]
    assert bank.match_exact("sha256", bytes.fromhex(S1)) == [BankMatch("files.txt:3", "sha256", 0)]
    assert bank.match_exact("sha256", bytes.fromhex(M1 * 2)) == []
    assert bank.match_exact("md5", bytes.fromhex(M1)[:-1] + b"\0") == []
    # An exact digest is never matched by the perceptual index, and the reverse.
    assert bank.match_pdq([bytes.fromhex(S1)], radius=0) == [[]]
    assert bank.match_exact("sha256", fx.base) == []


def test_video_with_80_percent_of_banked_good_frames_matches(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    rng = fx.rng
    filler = [random_hash(rng) for _ in range(40)]  # a long upload: its own share is small
    eight = [near(d, 6, rng) for d in fx.good[:8]]
    found = bank.match_video_frames(good_frames(filler + eight + eight))
    assert found == [VideoBankMatch("clip.vpdq", 0.8, 8, 10)]
    everything = bank.match_video_frames(good_frames([near(d, 4, rng) for d in fx.good]))
    assert everything == [VideoBankMatch("clip.vpdq", 1.0, 10, 10)]


def test_video_with_fewer_than_80_percent_does_not_match(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    rng = fx.rng
    seven = [near(d, 6, rng) for d in fx.good[:7]]
    assert bank.match_video_frames(good_frames(seven)) == []
    # The banked low-quality frames do not count, even when the upload has them exactly.
    assert bank.match_video_frames(good_frames(seven + fx.poor)) == []
    # Frames beyond the radius do not count.
    assert bank.match_video_frames(good_frames([*seven, near(fx.good[7], 40, rng)])) == []
    # Nor do the upload's own low-quality frames.
    eighth = near(fx.good[7], 3, rng)
    assert bank.match_video_frames([*good_frames(seven), (eighth, 49)]) == []
    assert bank.match_video_frames([*good_frames(seven), (eighth, 50)]) == [
        VideoBankMatch("clip.vpdq", 0.8, 8, 10)
    ]
    assert bank.match_video_frames([]) == []
    assert bank.match_video_frames(good_frames(fx.good, quality=10)) == []


def test_several_banked_videos_best_share_first(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    rng = fx.rng
    upload = [near(d, 5, rng) for d in fx.good[:9] + fx.other]
    assert bank.match_video_frames(good_frames(upload)) == [
        VideoBankMatch("other.vpdq", 1.0, 5, 5),
        VideoBankMatch("clip.vpdq", 0.9, 9, 10),
    ]
    # Four of five is exactly 80 %: a match.
    assert bank.match_video_frames(good_frames(fx.other[1:])) == [
        VideoBankMatch("other.vpdq", 0.8, 4, 5)
    ]
    # Still images in the bank never make a video match.
    assert bank.match_video_frames(good_frames(list(fx.images.values()))) == []


def test_removed_frames_leave_the_video_totals(fx: Fixture) -> None:
    bank = BankIndex(fx.records)
    rng = fx.rng
    slots = [m for m, name in enumerate(bank._pdq_ids) if name.startswith("clip.vpdq")]
    # The last two good frames (both copies of each) are taken out of the bank.
    assert bank.pdq.remove(slots[-4:]) == 4
    seven = [near(d, 5, rng) for d in fx.good[:7]]
    assert bank.match_video_frames(good_frames(seven)) == [VideoBankMatch("clip.vpdq", 7 / 8, 7, 8)]
    assert bank.match_pdq([fx.good[9]], radius=0) == [[]]


@pytest.mark.parametrize("with_videos", [True, False])
def test_save_load_round_trip_preserves_everything(
    fx: Fixture, tmp_path: Path, with_videos: bool
) -> None:
    records = fx.records if with_videos else fx.records[:18]
    renamed = [
        HashRecord(f'{r.id} · ünïcode, "quoted"', r.signal, r.hash, r.source, r.line, r.metadata)
        if i % 3 == 0
        else r
        for i, r in enumerate(records)
    ]
    bank = BankIndex(renamed)
    path = tmp_path / "bank.mih"
    bank.save(path)
    loaded = BankIndex.load(path)
    assert loaded.counts() == bank.counts()
    assert len(loaded) == len(bank)
    rng = fx.rng
    queries = [fx.base, *(near(d, 4, rng) for d in fx.good), random_hash(rng)]
    for radius in (0, 10, 31):
        assert loaded.match_pdq(queries, radius) == bank.match_pdq(queries, radius)
    for signal, digest in (("md5", M1), ("md5", M2), ("sha256", S1)):
        expected = bank.match_exact(signal, bytes.fromhex(digest))
        assert expected
        assert loaded.match_exact(signal, bytes.fromhex(digest)) == expected
    upload = good_frames([near(d, 4, rng) for d in fx.good[:8] + fx.other])
    assert loaded.match_video_frames(upload) == bank.match_video_frames(upload)
    if with_videos:
        assert [m.video for m in loaded.match_video_frames(upload)] == ["other.vpdq", "clip.vpdq"]
    # The loaded bank still searches its live index: removal works and survives a save.
    first = loaded.match_pdq([fx.base], radius=0)[0][0]
    slot = loaded._pdq_ids.index(first.id)
    assert loaded.pdq.remove([slot]) == 1
    loaded.save(tmp_path / "again.mih")
    again = BankIndex.load(tmp_path / "again.mih")
    assert first not in again.match_pdq([fx.base], radius=0)[0]
    assert again.counts()["pdq"] == bank.counts()["pdq"] - 1


def test_empty_bank_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "empty.mih"
    BankIndex().save(path)
    loaded = BankIndex.load(path)
    assert len(loaded) == 0
    assert loaded.match_pdq([b"\0" * 32]) == [[]]
    assert loaded.match_exact("md5", bytes.fromhex(M1)) == []


def test_a_plain_index_file_is_not_a_bank(tmp_path: Path) -> None:
    path = tmp_path / "plain.mih"
    MultiIndexHash(np.zeros((3, 32), np.uint8)).save(path)
    with pytest.raises(IndexFileError, match="not a Haven bank index"):
        BankIndex.load(path)
    path.write_bytes(b"not an index at all")
    with pytest.raises(IndexFileError):
        BankIndex.load(path)

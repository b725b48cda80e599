"""Synthetic chats: valid stage labels in a plausible order, benign negatives, reproducible."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from haven.synth.chats import (
    CHAT_LANGS,
    SCENARIOS,
    STAGES,
    ChatSynthError,
    SyntheticChat,
    chat_record,
    generate_chats,
    write_chats_jsonl,
)

# The order a grooming conversation plausibly follows (coarse: stages in one band may swap).
BAND = {
    "trust_building": 0,
    "isolation": 1,
    "platform_move": 1,
    "secrecy": 1,
    "gifts_money": 2,
    "sexual_content": 2,
    "image_request": 3,
    "meeting": 4,
}


@pytest.fixture(scope="module")
def chats() -> list[SyntheticChat]:
    return generate_chats(600, seed=4)


def test_spec_stage_list() -> None:
    assert STAGES == (
        "trust_building",
        "isolation",
        "secrecy",
        "sexual_content",
        "image_request",
        "platform_move",
        "gifts_money",
        "meeting",
    )


def test_reproducible_and_seed_dependent() -> None:
    assert generate_chats(50, seed=1) == generate_chats(50, seed=1)
    assert generate_chats(50, seed=1) != generate_chats(50, seed=2)
    assert generate_chats(0) == []


def test_bad_arguments() -> None:
    with pytest.raises(ChatSynthError):
        generate_chats(-3)
    with pytest.raises(ChatSynthError):
        generate_chats(3, grooming_share=1.5)
    with pytest.raises(ChatSynthError):
        generate_chats(3, seed=None)  # type: ignore[arg-type]


def test_chats_are_well_formed(chats: list[SyntheticChat]) -> None:
    for n, chat in enumerate(chats, 1):
        assert chat.id == f"synth-chat-{n:06d}"
        assert chat.synthetic is True and chat.lang in CHAT_LANGS
        assert chat.scenario in SCENARIOS
        assert chat.grooming == (chat.scenario == "grooming")
        assert len(chat.messages) >= 3
        times = [datetime.strptime(m.sent_at, "%Y-%m-%dT%H:%M:%SZ") for m in chat.messages]
        assert times == sorted(times)
        for m in chat.messages:
            assert m.sender in ("adult", "child")
            assert m.text and m.text == m.text.strip()
            assert set(m.stages) <= set(STAGES)
            assert len(set(m.stages)) == len(m.stages)
    assert set(Counter(c.lang for c in chats)) == set(CHAT_LANGS)


def test_grooming_share_is_respected() -> None:
    assert not any(c.grooming for c in generate_chats(100, seed=3, grooming_share=0.0))
    assert all(c.grooming for c in generate_chats(100, seed=3, grooming_share=1.0))
    share = sum(c.grooming for c in generate_chats(1000, seed=3, grooming_share=0.3)) / 1000
    assert 0.25 < share < 0.35


def test_grooming_chats_progress_through_stages(chats: list[SyntheticChat]) -> None:
    grooming = [c for c in chats if c.grooming]
    assert len(grooming) > 200
    seen = Counter()
    lengths = Counter()
    for chat in grooming:
        order: list[str] = []
        for m in chat.messages:
            if m.stages:
                assert m.sender == "adult"  # cues come from the adult persona
            for s in m.stages:
                if s not in order:
                    order.append(s)
        assert order[0] == "trust_building"
        assert len(order) >= 3
        bands = [BAND[s] for s in order]
        # never a jump back by more than one band (e.g. meeting, then trust building anew)
        assert all(b >= a - 1 for a, b in pairwise(bands)), order
        seen.update(order)
        lengths[len(order)] += 1
    assert set(seen) == set(STAGES)
    assert len(lengths) >= 3  # not all stages in every chat
    assert lengths[len(STAGES)] < len(grooming) * 0.2


def test_benign_chats_carry_no_stage_and_include_hard_negatives(
    chats: list[SyntheticChat],
) -> None:
    benign = [c for c in chats if not c.grooming]
    assert all(not m.stages for c in benign for m in c.messages)
    scenarios = Counter(c.scenario for c in benign)
    assert set(scenarios) == set(SCENARIOS) - {"grooming"}
    hard = {"parent_pickup", "photo_sharing", "surprise_party", "birthday_gift", "coach"}
    assert sum(scenarios[s] for s in hard) > len(benign) * 0.4
    # hard negatives share words with the stages: pick-ups, photos, secrets, money
    words = " ".join(m.text.lower() for c in benign if c.scenario in hard for m in c.messages)
    for cue in ("pick you up", "photo", "don't tell", "money"):
        assert cue in words


def test_nothing_explicit(chats: list[SyntheticChat]) -> None:
    banned = re.compile(
        r"\b(sex|nude|naked|undress|bra|underwear|body|touch|bed|kiss|nu|nue|sous-vêtements|"
        r"lit|bisou sur)\b",
        re.IGNORECASE,
    )
    for chat in chats:
        for m in chat.messages:
            assert not banned.search(m.text), m.text
            assert not re.search(r"\b\d{1,2} ?(yo|ans|years old)\b", m.text)  # ages never stated


def test_jsonl(chats: list[SyntheticChat], tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    assert write_chats_jsonl(chats[:20], path) == 20
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert records == [chat_record(c) for c in chats[:20]]
    assert all(r["synthetic"] is True for r in records)

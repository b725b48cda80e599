"""Grooming-stage triage: which stages it finds, where, how the risk moves, and bad input.

Every conversation below is SYNTHETIC, hand-written for these tests from safeguarding
training phrasings (non-graphic), and involves no real person. They were written without
looking at haven.synth.chats, so that the cue table is not tested on its own source.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.text.grooming import (
    STAGES,
    TRIAGE_NOTICE,
    GroomingDataError,
    GroomingError,
    Message,
    assess_conversation,
    default_cues,
    load_cues,
)

SYNTHETIC = True  # all fixtures here are invented

# One synthetic message per stage, in the typical order, all from the adult (English).
EN_STAGE_MESSAGES: dict[str, str] = {
    "trust_building": "Honestly you're so mature for your age, you can tell me anything.",
    "isolation": "Are your parents home right now? When do your parents go to bed?",
    "secrecy": "Don't tell your parents about us, it's our little secret.",
    "sexual_content": "Have you ever been kissed?",
    "image_request": "Send me a pic of you, just one.",
    "platform_move": "Add me on Snap, this app isn't safe.",
    "gifts_money": "I can buy you a new phone if you want.",
    "meeting": "We should meet in person, I can pick you up after school.",
}

FR_STAGE_MESSAGES: dict[str, str] = {
    "trust_building": "Tu es tellement mature pour ton âge.",
    "isolation": "Tu es seule à la maison ce soir ?",
    "secrecy": "N'en parle à personne, c'est notre petit secret.",
    "sexual_content": "Tu as déjà embrassé quelqu'un ?",
    "image_request": "Envoie-moi une photo de toi.",
    "platform_move": "Ajoute-moi sur Snap, c'est plus simple.",
    "gifts_money": "Je peux t'offrir un nouveau téléphone.",
    "meeting": "On pourrait se voir en vrai samedi, je peux passer te chercher.",
}

ES_STAGE_MESSAGES: dict[str, str] = {
    "secrecy": "No le digas a nadie, es nuestro secreto.",
    "image_request": "Mándame una foto tuya.",
    "meeting": "Podemos vernos en persona, ven sola.",
}

PT_STAGE_MESSAGES: dict[str, str] = {
    "secrecy": "Não conta pra ninguém, é nosso segredo.",
    "image_request": "Manda uma foto sua.",
    "meeting": "A gente podia se encontrar pessoalmente.",
}

BENIGN = [
    Message("sam", "hey did you finish the maths homework?", "2026-03-02T16:00:00Z"),
    Message("alex", "almost, question 4 is hard. the test is on friday right?"),
    Message("sam", "yes. my mum says we can study at the library tomorrow"),
    Message("alex", "cool, I'll bring my notes and the calculator"),
    Message("sam", "see you at 4 then, good night!"),
]


def grooming_chat(stage_messages: dict[str, str]) -> list[Message]:
    chat = [Message("child", "hi")]
    for text in stage_messages.values():
        chat.append(Message("adult", text))
        chat.append(Message("child", "ok"))
    return chat


@pytest.mark.parametrize("stage_messages", [EN_STAGE_MESSAGES, FR_STAGE_MESSAGES])
def test_every_stage_found_in_the_message_that_carries_it(stage_messages: dict[str, str]) -> None:
    chat = grooming_chat(stage_messages)
    result = assess_conversation(chat)
    assert result.stages == STAGES
    for position, stage in enumerate(stage_messages):
        index = 1 + 2 * position
        stage_hits = [h for h in result.hits if h.stage == stage]
        assert stage_hits, stage
        assert {h.message_index for h in stage_hits} == {index}
        assert all(h.sender == "adult" for h in stage_hits)
    assert result.risk >= 90
    assert result.level == "high"
    assert result.progression == 1.0
    assert result.lead_sender == "adult"
    assert result.message_count == len(chat)
    assert result.triage_only == TRIAGE_NOTICE
    assert "PAN 2012" in result.triage_only and "a person must review" in result.triage_only


@pytest.mark.parametrize(
    ("stage_messages", "lang"), [(ES_STAGE_MESSAGES, "es"), (PT_STAGE_MESSAGES, "pt")]
)
def test_spanish_and_portuguese_cues(stage_messages: dict[str, str], lang: str) -> None:
    result = assess_conversation(grooming_chat(stage_messages), lang=lang)
    assert result.stages == tuple(stage_messages)


def test_hits_point_at_the_original_characters() -> None:
    chat = grooming_chat(EN_STAGE_MESSAGES)
    result = assess_conversation(chat)
    for hit in result.hits:
        start, end = hit.span
        assert chat[hit.message_index].text[start:end] == hit.text
    secrecy = next(h for h in result.hits if h.cue == "secrecy.en.our_secret")
    assert secrecy.text == "our little secret"
    assert secrecy.reason.startswith("secrecy: ")


def test_strong_cue_is_not_hidden_by_a_weaker_overlapping_one() -> None:
    result = assess_conversation([("adult", "send me a photo of you in your pyjamas")])
    cues = {h.cue for h in result.hits}
    assert {"image.en.send_pic_of_you", "image.en.clothing_photo"} <= cues
    assert result.features[0].strength == pytest.approx(0.95)


def test_benign_conversation_scores_low() -> None:
    result = assess_conversation(BENIGN)
    assert result.risk < 30
    assert result.level == "low"
    assert len(result.stages) <= 1
    quiet = assess_conversation([("a", "what time is practice?"), ("b", "six, bring water")])
    assert quiet.risk == 0
    assert quiet.stages == ()
    assert quiet.lead_sender is None
    assert "not evidence of safety" in quiet.reasons[0]
    assert assess_conversation([]).risk == 0


def test_risk_rises_with_each_new_stage() -> None:
    chat: list[Message] = [Message("adult", "hello there")]
    risks = [assess_conversation(chat).risk]
    for text in EN_STAGE_MESSAGES.values():
        chat.append(Message("adult", text))
        risks.append(assess_conversation(chat).risk)
    assert all(later > earlier for earlier, later in itertools.pairwise(risks))
    assert risks[0] == 0 and risks[1] < 30 < risks[4]


def test_typical_order_and_one_sender_raise_the_risk() -> None:
    texts = list(EN_STAGE_MESSAGES.values())[:5]
    in_order = assess_conversation([("adult", t) for t in texts])
    reversed_order = assess_conversation([("adult", t) for t in reversed(texts)])
    assert reversed_order.progression == 0.0
    assert in_order.risk > reversed_order.risk
    split = assess_conversation([("adult" if i % 2 else "other", t) for i, t in enumerate(texts)])
    assert split.progression == 1.0
    assert in_order.risk > split.risk
    assert "5 stages come from one sender (adult)" in in_order.reasons


def test_folding_survives_look_alike_width_accents_and_zero_width() -> None:
    text = "ＤＯＮ’Ｔ te\u200bll your parents, ok?"
    result = assess_conversation([("adult", text)])
    assert result.stages == ("secrecy",)
    hit = result.hits[0]
    assert hit.span == (0, text.index(","))
    cyrillic = "dоn't tеll yоur раrеnts 🤫"  # о, е, р, а are Cyrillic look-alikes
    hit = assess_conversation([("adult", cyrillic)]).hits[0]
    assert (hit.stage, hit.span) == ("secrecy", (0, len("don't tell your parents")))
    accented = "tu es si mature pour ton a\u0302ge"  # combining circumflex kept in the span
    hit = assess_conversation([("adult", accented)], lang="fr").hits[0]
    assert hit.text == "si mature pour ton a\u0302ge"


def test_language_restriction() -> None:
    french = [("adult", FR_STAGE_MESSAGES["secrecy"])]
    assert assess_conversation(french, lang="en").stages == ()
    assert assess_conversation(french, lang="FR").stages == ("secrecy",)
    with pytest.raises(GroomingError, match="no grooming cues for language 'xx'"):
        assess_conversation(french, lang="xx")


def test_accepts_tuples_and_message_like_objects() -> None:
    class Synthetic:
        sender = "adult"
        text = "keep this between us"

    result = assess_conversation([("adult", "hi", None), Synthetic()])
    assert result.stages == ("secrecy",)
    assert result.hits[0].message_index == 1


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ("just a string", "not one string"),
        ([("adult",)], "expected \\(sender, text"),
        ([("adult", 42)], "must be strings"),
        ([42], "expected a Message"),
    ],
)
def test_bad_input_raises_a_clear_error(messages: object, error: str) -> None:
    with pytest.raises(GroomingError, match=error):
        assess_conversation(messages)  # type: ignore[arg-type]


def test_shipped_cue_table_covers_every_stage_in_each_language() -> None:
    table = default_cues()
    assert set(table.languages) >= {"en", "fr", "es", "pt"}
    for lang in table.languages:
        assert {c.stage for c in table.cues if c.lang == lang} == set(STAGES), lang
    assert len({c.id for c in table.cues}) == len(table.cues)


_STAGES_TOML = "\n".join(
    f'[stages.{stage}]\norder = {i}\nweight = 1.0\nlabel = "{stage}"'
    for i, stage in enumerate(STAGES)
)


@pytest.mark.parametrize(
    ("cue", "error"),
    [
        ("stage = 'nope'\npattern = '''x'''", "unknown stage"),
        ("stage = 'secrecy'\npattern = '''(x'''", "bad pattern"),
        ("stage = 'secrecy'\npattern = '''(?P<g>x)'''", "named groups"),
        ("stage = 'secrecy'\npattern = '''x?'''", "empty string"),
    ],
)
def test_malformed_cue_table_is_rejected(tmp_path: Path, cue: str, error: str) -> None:
    path = tmp_path / "cues.toml"
    path.write_text(
        f"{_STAGES_TOML}\n[[cues]]\nid = 'c1'\nlang = 'en'\nweight = 0.5\nreason = 'r'\n{cue}\n",
        encoding="utf-8",
    )
    with pytest.raises(GroomingDataError, match=error):
        load_cues(path)


def test_custom_cue_table_is_used(tmp_path: Path) -> None:
    path = tmp_path / "cues.toml"
    path.write_text(
        f"{_STAGES_TOML}\n[[cues]]\nid = 'c1'\nstage = 'meeting'\nlang = 'en'\nweight = 0.5\n"
        "reason = 'test cue'\npattern = '''\\bpurple\\b'''\n",
        encoding="utf-8",
    )
    result = assess_conversation([("a", "PURPLE rain")], cues=load_cues(path))
    assert [(h.stage, h.span, h.reason) for h in result.hits] == [
        ("meeting", (0, 6), "meeting: test cue")
    ]
    with pytest.raises(GroomingDataError, match="cannot read"):
        load_cues(tmp_path / "missing.toml")


senders = st.sampled_from(["adult", "child", "x"])
messages = st.lists(st.tuples(senders, st.text(max_size=80)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(messages, senders, st.text(max_size=80))
def test_any_unicode_never_crashes_and_spans_stay_in_range(
    chat: list[tuple[str, str]], sender: str, extra: str
) -> None:
    result = assess_conversation(chat)
    assert 0 <= result.risk <= 100
    for hit in result.hits:
        text = chat[hit.message_index][1]
        assert 0 <= hit.span[0] < hit.span[1] <= len(text)
        assert text[hit.span[0] : hit.span[1]] == hit.text
    assert assess_conversation([*chat, (sender, extra)]).risk >= result.risk  # never lowers


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_cue_is_found_whatever_unicode_surrounds_it(before: str, after: str) -> None:
    phrase = "keep this between us"
    result = assess_conversation([("adult", f"{before} {phrase} {after}")])
    assert "secrecy" in result.stages
    assert any(h.text.casefold() == phrase for h in result.hits)

"""Synthetic chat transcripts with per-message grooming stage labels, for `haven.text`.

Why: a grooming-stage detector must be tested on conversations whose labels are known, and
Haven never holds real chats with children. These transcripts are written from the cue
phrasings used in safeguarding training materials (trust building, isolation from adults,
secrecy requests, sexualised *questions*, image requests, moving to a private channel,
gifts or money, arranging to meet), between an "adult" and a "child" persona. Nothing is
sexually explicit: the "sexual_content" stage uses only the non-graphic questions training
courses quote ("have you ever had a boyfriend?", "what are you wearing?"). Ages are never
stated.

Grooming chats move through a plausible subset of the stages, in a plausible order.
Benign chats (friends, homework, gaming) are the negatives, including hard negatives whose
words overlap the stages: a parent arranging a pick-up, friends swapping photos, a relative
keeping a surprise party secret or sending birthday money, a coach moving practice.
In benign chats every message has empty stage labels.

Labels sit on the message that carries the cue (nearly always the adult's); replies and
small talk carry none. Everything is seeded and reproducible, and every chat says
`synthetic=True`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHAT_LANGS",
    "SCENARIOS",
    "STAGES",
    "ChatSynthError",
    "SyntheticChat",
    "SyntheticMessage",
    "chat_record",
    "generate_chats",
    "write_chats_jsonl",
]

STAGES = (
    "trust_building",
    "isolation",
    "secrecy",
    "sexual_content",
    "image_request",
    "platform_move",
    "gifts_money",
    "meeting",
)
CHAT_LANGS = ("en", "fr")
SCENARIOS = (
    "grooming",
    "friends",
    "homework",
    "gaming",
    "parent_pickup",
    "photo_sharing",
    "surprise_party",
    "birthday_gift",
    "coach",
)


class ChatSynthError(ValueError):
    """Bad input to the chat generator."""


@dataclass(frozen=True, slots=True)
class SyntheticMessage:
    sender: str  # "adult" | "child"
    text: str
    sent_at: str  # ISO 8601 UTC
    stages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyntheticChat:
    id: str
    lang: str
    messages: tuple[SyntheticMessage, ...]
    grooming: bool
    synthetic: bool = True
    scenario: str = "grooming"  # one of SCENARIOS (extra ground truth)


# ------------------------------------------------------------------------ phrase lists

# stage -> lang -> what the adult persona writes. Non-graphic training-material cues only.
_ADULT_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "trust_building": {
        "en": (
            "hey! saw you on the game stream, you're really good",
            "you can tell me anything, I won't judge",
            "I totally get you, honestly",
            "you seem really smart, not like the others",
            "I'm always here if you need to talk",
            "that sounds really hard, I'm sorry you had a bad day",
        ),
        "fr": (
            "salut ! je t'ai vu sur le stream du jeu, t'es trop fort",
            "tu peux tout me dire, je ne te jugerai pas",
            "je te comprends tellement",
            "t'as l'air super intelligent, pas comme les autres",
            "je suis toujours là si tu veux parler",
            "ça a l'air dur, désolé que ta journée ait été nulle",
        ),
    },
    "isolation": {
        "en": (
            "your parents don't understand you like I do",
            "are you home alone right now?",
            "your friends sound so immature tbh",
            "nobody gets you like me",
        ),
        "fr": (
            "tes parents ne te comprennent pas comme moi",
            "t'es tout seul chez toi là ?",
            "tes amis ont l'air tellement immatures",
            "personne ne te comprend comme moi",
        ),
    },
    "secrecy": {
        "en": (
            "don't tell your parents we talk, they wouldn't get it",
            "this is just between us ok?",
            "delete our messages after you read them",
            "it's our little secret",
        ),
        "fr": (
            "ne dis pas à tes parents qu'on se parle, ils ne comprendraient pas",
            "ça reste entre nous d'accord ?",
            "efface nos messages après les avoir lus",
            "c'est notre petit secret",
        ),
    },
    "sexual_content": {
        "en": (
            "have you ever had a boyfriend?",
            "what are you wearing?",
            "you look so mature in your pics",
            "do you like older guys?",
        ),
        "fr": (
            "t'as déjà eu un copain ?",
            "tu portes quoi là ?",
            "tu fais tellement mature sur tes photos",
            "tu aimes les garçons plus âgés ?",
        ),
    },
    "image_request": {
        "en": (
            "send me a pic of you",
            "can you send a selfie? just for me",
            "show me what you look like today",
            "send me a photo, I sent you mine",
        ),
        "fr": (
            "envoie-moi une photo de toi",
            "tu peux m'envoyer un selfie ? juste pour moi",
            "montre-moi à quoi tu ressembles aujourd'hui",
            "envoie une photo, je t'ai envoyé la mienne",
        ),
    },
    "platform_move": {
        "en": (
            "add me on snap, it's better there",
            "let's talk on another app",
            "do you have whatsapp? this app is boring",
            "download telegram so we can chat privately",
        ),
        "fr": (
            "ajoute-moi sur snap, c'est mieux",
            "on parle sur une autre appli ?",
            "t'as whatsapp ? cette appli est nulle",
            "télécharge telegram qu'on puisse discuter tranquille",
        ),
    },
    "gifts_money": {
        "en": (
            "I can buy you that skin you wanted",
            "I'll send you a gift card",
            "want some credits for your game?",
            "I can send you money for a new phone",
        ),
        "fr": (
            "je peux t'acheter le skin que tu voulais",
            "je t'envoie une carte cadeau",
            "tu veux des crédits pour ton jeu ?",
            "je peux t'envoyer de l'argent pour un nouveau téléphone",
        ),
    },
    "meeting": {
        "en": (
            "we should meet up sometime",
            "I could pick you up after school",
            "there's a mall near you, want to hang out?",
            "I'll be in your town on saturday, let's meet",
        ),
        "fr": (
            "on devrait se voir un de ces jours",
            "je pourrais venir te chercher après les cours",
            "il y a un centre commercial près de chez toi, on s'y retrouve ?",
            "je passe dans ta ville samedi, on se voit ?",
        ),
    },
}

# Messages that carry two stages at once.
_COMBINED: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("secrecy", "platform_move"): {
        "en": ("let's move to snap, it's more private. don't tell anyone ok",),
        "fr": ("viens sur snap, c'est plus privé. tu le dis à personne ok",),
    },
    ("secrecy", "meeting"): {
        "en": ("we could meet saturday, but don't tell your parents",),
        "fr": ("on pourrait se voir samedi, mais ne dis rien à tes parents",),
    },
    ("gifts_money", "image_request"): {
        "en": ("send me a selfie and I'll get you the gift card",),
        "fr": ("envoie-moi un selfie et je t'offre la carte cadeau",),
    },
    ("isolation", "secrecy"): {
        "en": ("your parents wouldn't understand us, keep this between us",),
        "fr": ("tes parents ne comprendraient pas, garde ça pour toi",),
    },
}

_CHILD_REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "any": {
        "en": ("haha thanks", "idk", "lol ok", "why?", "I guess", "ok", "maybe", "cool", "hmm"),
        "fr": ("mdr merci", "jsp", "ok", "pourquoi ?", "je crois", "peut-être", "cool", "hmm"),
    },
    "trust_building": {
        "en": (
            "thanks, nobody ever says that",
            "my mum is so annoying today",
            "yeah it was a bad day",
        ),
        "fr": ("merci, personne me dit ça", "ma mère me saoule aujourd'hui", "ouais journée nulle"),
    },
    "secrecy": {
        "en": ("ok I won't tell", "why would I tell them lol", "ok"),
        "fr": ("ok je dirai rien", "pourquoi je leur dirais mdr", "d'accord"),
    },
    "image_request": {
        "en": ("idk, maybe later", "I look bad today haha", "why?"),
        "fr": ("jsp, peut-être plus tard", "je suis moche aujourd'hui mdr", "pourquoi ?"),
    },
    "platform_move": {
        "en": ("ok what's your name on there", "I only have snap", "ok"),
        "fr": ("ok c'est quoi ton pseudo", "j'ai que snap", "ok"),
    },
    "gifts_money": {
        "en": ("really? omg thanks", "you don't have to", "wait for real?"),
        "fr": ("c'est vrai ? merci !!", "t'es pas obligé", "attends sérieux ?"),
    },
    "meeting": {
        "en": ("I'd have to ask... I mean ok", "maybe, I'm not sure", "where?"),
        "fr": ("faudrait que je demande... enfin ok", "peut-être, je sais pas", "où ça ?"),
    },
    "sexual_content": {
        "en": ("no lol", "why do you ask", "just my hoodie"),
        "fr": ("non mdr", "pourquoi tu demandes", "juste mon sweat"),
    },
    "isolation": {
        "en": ("yeah they don't get it", "ya they're out till late", "sometimes"),
        "fr": ("ouais ils comprennent rien", "ouais ils rentrent tard", "parfois"),
    },
}

_SMALL_TALK: dict[str, dict[str, tuple[str, ...]]] = {
    "adult": {
        "en": ("how was your day?", "lol same", "what music are you into?", "nice", "haha"),
        "fr": (
            "ta journée ça a été ?",
            "mdr pareil",
            "t'écoutes quoi comme musique ?",
            "cool",
            "haha",
        ),
    },
    "child": {
        "en": ("fine I guess", "I was playing all evening", "lol", "same", "brb dinner"),
        "fr": ("ça va", "j'ai joué toute la soirée", "mdr", "pareil", "jreviens je mange"),
    },
}

# Benign scenario scripts: steps of (sender, variants per language).
Script = tuple[tuple[str, dict[str, tuple[str, ...]]], ...]

_SCRIPTS: dict[str, tuple[tuple[str, str], Script]] = {
    "friends": (
        ("child", "child"),
        (
            (
                "a",
                {
                    "en": ("are you going to the park later?", "wanna hang out after lunch?"),
                    "fr": ("tu viens au parc tout à l'heure ?", "on se voit après manger ?"),
                },
            ),
            (
                "b",
                {
                    "en": ("yeah maybe at 4", "can't, my cousins are here"),
                    "fr": ("ouais vers 16h", "je peux pas, mes cousins sont là"),
                },
            ),
            (
                "a",
                {
                    "en": ("ok text me when you leave", "lol ok tomorrow then"),
                    "fr": ("ok écris-moi quand tu pars", "mdr ok demain alors"),
                },
            ),
            ("b", {"en": ("will do", "👍"), "fr": ("ok", "👍")}),
        ),
    ),
    "homework": (
        ("child", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "did you do the maths homework?",
                        "what pages were we supposed to read?",
                    ),
                    "fr": ("t'as fait les devoirs de maths ?", "c'était quelles pages à lire ?"),
                },
            ),
            (
                "b",
                {
                    "en": ("only the first part, question 3 is so hard", "pages 40 to 45 I think"),
                    "fr": (
                        "que la première partie, la question 3 est trop dure",
                        "pages 40 à 45 je crois",
                    ),
                },
            ),
            (
                "a",
                {
                    "en": ("same, I'll ask the teacher tomorrow", "thanks!!"),
                    "fr": ("pareil, je demanderai au prof demain", "merci !!"),
                },
            ),
            (
                "b",
                {
                    "en": ("send me your answer for 2 when you have it", "np"),
                    "fr": ("envoie-moi ta réponse pour la 2 quand tu l'as", "de rien"),
                },
            ),
        ),
    ),
    "gaming": (
        ("child", "child"),
        (
            (
                "a",
                {
                    "en": ("you online? let's play a round", "did you see the new map?"),
                    "fr": ("t'es co ? on fait une partie", "t'as vu la nouvelle map ?"),
                },
            ),
            (
                "b",
                {
                    "en": ("yes! give me 5 min", "yeah it's huge"),
                    "fr": ("oui ! 5 min", "ouais elle est énorme"),
                },
            ),
            (
                "a",
                {
                    "en": ("invite sent", "I got the new skin btw"),
                    "fr": ("invitation envoyée", "j'ai eu le nouveau skin au fait"),
                },
            ),
            (
                "b",
                {
                    "en": ("nice, gg last time", "lucky!"),
                    "fr": ("stylé, gg la dernière fois", "la chance !"),
                },
            ),
        ),
    ),
    "parent_pickup": (
        ("adult", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "I'll pick you up at 5 after practice",
                        "meet me at the front gate at 4:30",
                    ),
                    "fr": (
                        "je viens te chercher à 17h après l'entraînement",
                        "rendez-vous devant le portail à 16h30",
                    ),
                },
            ),
            (
                "b",
                {
                    "en": ("ok mum", "can we get pizza?"),
                    "fr": ("ok maman", "on peut prendre une pizza ?"),
                },
            ),
            (
                "a",
                {
                    "en": ("don't forget your jacket", "we'll see, love you"),
                    "fr": ("n'oublie pas ta veste", "on verra, bisous"),
                },
            ),
            ("b", {"en": ("love you too", "ok"), "fr": ("bisous", "ok")}),
        ),
    ),
    "photo_sharing": (
        ("child", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "send me the pics from the trip!",
                        "can you send the photo of your dog?",
                    ),
                    "fr": (
                        "envoie-moi les photos de la sortie !",
                        "tu m'envoies la photo de ton chien ?",
                    ),
                },
            ),
            (
                "b",
                {
                    "en": ("sending now, the lake one is so funny", "here, he was so muddy lol"),
                    "fr": (
                        "j'envoie, celle du lac est trop drôle",
                        "tiens, il était plein de boue mdr",
                    ),
                },
            ),
            (
                "a",
                {
                    "en": ("omg I look so weird in that one", "sooo cute"),
                    "fr": ("oh non je suis trop bizarre sur celle-là", "trop mignon"),
                },
            ),
        ),
    ),
    "surprise_party": (
        ("adult", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "don't tell your mum, it's a surprise party for her birthday",
                        "keep it secret from dad, we're planning his surprise",
                    ),
                    "fr": (
                        "ne dis rien à ta mère, c'est une fête surprise pour son anniversaire",
                        "garde le secret pour papa, on prépare sa surprise",
                    ),
                },
            ),
            (
                "b",
                {
                    "en": ("omg ok!! what can I do?", "I won't say anything"),
                    "fr": ("trop bien !! je peux aider ?", "je dirai rien"),
                },
            ),
            (
                "a",
                {
                    "en": (
                        "can you make a card? grandpa brings the cake",
                        "bring your drawings on saturday",
                    ),
                    "fr": (
                        "tu peux faire une carte ? papi apporte le gâteau",
                        "apporte tes dessins samedi",
                    ),
                },
            ),
        ),
    ),
    "birthday_gift": (
        ("adult", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "happy birthday sweetheart! grandma sent you some money for a present",
                        "I'll get you the game you wanted for your birthday",
                    ),
                    "fr": (
                        "joyeux anniversaire ma puce ! mamie t'a envoyé de l'argent pour un cadeau",
                        "je t'offre le jeu que tu voulais pour ton anniversaire",
                    ),
                },
            ),
            (
                "b",
                {
                    "en": ("thank you!!! ❤️", "yesss thanks auntie"),
                    "fr": ("merci !!! ❤️", "ouiii merci tata"),
                },
            ),
            (
                "a",
                {
                    "en": ("ask your dad to help you order it", "see you at dinner on sunday"),
                    "fr": (
                        "demande à ton père de t'aider à le commander",
                        "on se voit au repas dimanche",
                    ),
                },
            ),
        ),
    ),
    "coach": (
        ("adult", "child"),
        (
            (
                "a",
                {
                    "en": (
                        "practice moved to 4pm on thursday, tell your parents",
                        "team photo day on saturday, wear the blue shirt",
                    ),
                    "fr": (
                        "l'entraînement est décalé à 16h jeudi, préviens tes parents",
                        "photo d'équipe samedi, mets le maillot bleu",
                    ),
                },
            ),
            ("b", {"en": ("ok coach", "will do"), "fr": ("ok coach", "d'accord")}),
            (
                "a",
                {
                    "en": ("the group chat has the details for parents", "see you there"),
                    "fr": ("les détails sont dans le groupe des parents", "à samedi"),
                },
            ),
        ),
    ),
}

_RANK = {stage: i for i, stage in enumerate(STAGES)}
# A plausible order: trust first, then isolation and secrecy, the move to a private
# channel and gifts, sexualised questions and image requests, and meeting last.
_ORDER = {
    "trust_building": 0.0,
    "isolation": 1.0,
    "platform_move": 1.5,
    "secrecy": 2.0,
    "gifts_money": 2.5,
    "sexual_content": 3.0,
    "image_request": 3.5,
    "meeting": 4.5,
}
_STAGE_P = {
    "isolation": 0.55,
    "platform_move": 0.55,
    "secrecy": 0.6,
    "gifts_money": 0.4,
    "sexual_content": 0.45,
    "image_request": 0.5,
    "meeting": 0.45,
}
_EPOCH = 1767225600  # 2026-01-01T00:00:00Z


class _Clock:
    __slots__ = ("rng", "t")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = _EPOCH + rng.randrange(0, 180 * 86400)

    def tick(self) -> str:
        r = self.rng.random()
        self.t += (
            self.rng.randrange(5, 90) if r < 0.8 else self.rng.randrange(600, 14400)
        )  # replies, then a pause now and then
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.t))


def _stage_plan(rng: random.Random) -> list[str]:
    chosen = [s for s, p in _STAGE_P.items() if rng.random() < p]
    while len(chosen) < 2:
        extra = rng.choice(list(_STAGE_P))
        if extra not in chosen:
            chosen.append(extra)
    chosen.sort(key=lambda s: _ORDER[s] + rng.uniform(-0.6, 0.6))
    return ["trust_building", *chosen]


def _grooming_chat(lang: str, rng: random.Random) -> list[SyntheticMessage]:
    clock = _Clock(rng)
    out: list[SyntheticMessage] = []

    said: dict[str, None] = {}

    def say(sender: str, text: str, stages: tuple[str, ...] = ()) -> None:
        out.append(SyntheticMessage(sender, text, clock.tick(), stages))
        said[text] = None

    def fresh(options: tuple[str, ...]) -> str:
        for _ in range(4):  # avoid saying the same line twice in one chat
            text = rng.choice(options)
            if text not in said:
                return text
        return text

    plan = _stage_plan(rng)
    i = 0
    while i < len(plan):
        stage = plan[i]
        nxt = plan[i + 1] if i + 1 < len(plan) else None
        if rng.random() < 0.4:
            say("adult", fresh(_SMALL_TALK["adult"][lang]))
            say("child", fresh(_SMALL_TALK["child"][lang]))
        pair = (stage, nxt) if nxt else None
        if pair in _COMBINED and rng.random() < 0.5:
            assert pair is not None
            both = tuple(sorted(pair, key=_RANK.__getitem__))
            say("adult", rng.choice(_COMBINED[pair][lang]), both)
            say("child", rng.choice(_CHILD_REPLIES.get(nxt or "", _CHILD_REPLIES["any"])[lang]))
            i += 2
            continue
        for _ in range(
            rng.choice((1, 1, 2, 2, 3)) if stage == "trust_building" else rng.choice((1, 1, 2))
        ):
            say("adult", fresh(_ADULT_CUES[stage][lang]), (stage,))
            replies = _CHILD_REPLIES.get(stage, _CHILD_REPLIES["any"])
            say(
                "child",
                rng.choice(replies[lang] if rng.random() < 0.7 else _CHILD_REPLIES["any"][lang]),
            )
        i += 1
    if rng.random() < 0.5:
        say("child", fresh(_SMALL_TALK["child"][lang]))
    return out


def _benign_chat(scenario: str, lang: str, rng: random.Random) -> list[SyntheticMessage]:
    clock = _Clock(rng)
    (role_a, role_b), script = _SCRIPTS[scenario]
    out: list[SyntheticMessage] = []
    for who, variants in script:
        sender = role_a if who == "a" else role_b
        out.append(SyntheticMessage(sender, rng.choice(variants[lang]), clock.tick(), ()))
        if rng.random() < 0.2:
            other = "child" if sender == "child" or rng.random() < 0.5 else sender
            out.append(
                SyntheticMessage(other, rng.choice(_SMALL_TALK[other][lang]), clock.tick(), ())
            )
    return out


_BENIGN = tuple(s for s in SCENARIOS if s != "grooming")
_HARD = ("parent_pickup", "photo_sharing", "surprise_party", "birthday_gift", "coach")


def generate_chats(
    count: int, *, seed: int = 0, grooming_share: float = 0.5
) -> list[SyntheticChat]:
    """`count` synthetic chats, about `grooming_share` of them grooming; reproducible.

    Half of the benign chats are hard negatives (words that overlap the stages in an
    innocent context). Languages: English and French.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ChatSynthError(f"count must be a non-negative int, got {count!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ChatSynthError(f"seed must be an int, got {seed!r}")
    if not 0.0 <= grooming_share <= 1.0:
        raise ChatSynthError(f"grooming_share must lie in [0, 1], got {grooming_share!r}")
    rng = random.Random(seed)
    chats: list[SyntheticChat] = []
    for n in range(1, count + 1):
        lang = rng.choice(CHAT_LANGS)
        grooming = rng.random() < grooming_share
        if grooming:
            scenario = "grooming"
            messages = _grooming_chat(lang, rng)
        else:
            scenario = rng.choice(_HARD) if rng.random() < 0.5 else rng.choice(_BENIGN)
            messages = _benign_chat(scenario, lang, rng)
        chats.append(
            SyntheticChat(
                id=f"synth-chat-{n:06d}",
                lang=lang,
                messages=tuple(messages),
                grooming=grooming,
                synthetic=True,
                scenario=scenario,
            )
        )
    return chats


def chat_record(chat: SyntheticChat) -> dict[str, Any]:
    """One JSON-ready object per chat, marked synthetic."""
    return {
        "id": chat.id,
        "synthetic": True,
        "lang": chat.lang,
        "grooming": chat.grooming,
        "scenario": chat.scenario,
        "messages": [
            {"sender": m.sender, "text": m.text, "sent_at": m.sent_at, "stages": list(m.stages)}
            for m in chat.messages
        ],
    }


def write_chats_jsonl(chats: Iterable[SyntheticChat], path: str | Path) -> int:
    """Write one JSON object per line (UTF-8); returns the number of chats written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for chat in chats:
            fh.write(json.dumps(chat_record(chat), ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n

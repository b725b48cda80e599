"""The synthetic world: benign stand-ins for demos, tests, training and benchmarks.

Haven never holds real abusive material, not even in its tests (DESIGN.md, hard rules).
Matching is proven instead on benign photos of objects and places and on images generated
in code, edited the way re-uploaded copies are edited. Nothing here depicts a person.
Text signals are proven on synthetic, benign-worded ads (`ads`) and chat transcripts
(`chats`) whose ground truth is known to the character.
"""

from haven.synth.ads import (
    OBFUSCATION_STYLES,
    SynthError,
    SyntheticAd,
    TruthEntity,
    ad_record,
    generate_ads,
    obfuscate_email,
    obfuscate_phone,
    write_jsonl,
)
from haven.synth.chats import (
    STAGES,
    ChatSynthError,
    SyntheticChat,
    SyntheticMessage,
    chat_record,
    generate_chats,
    write_chats_jsonl,
)
from haven.synth.images import (
    EDITS,
    EXCLUDED_SAMPLES,
    SAMPLE_PHOTOS,
    Edit,
    benign_photos,
    encode_jpeg,
    generated_images,
    sample_photos,
    upscale_to,
)

__all__ = [
    "EDITS",
    "EXCLUDED_SAMPLES",
    "OBFUSCATION_STYLES",
    "SAMPLE_PHOTOS",
    "STAGES",
    "ChatSynthError",
    "Edit",
    "SynthError",
    "SyntheticAd",
    "SyntheticChat",
    "SyntheticMessage",
    "TruthEntity",
    "ad_record",
    "benign_photos",
    "chat_record",
    "encode_jpeg",
    "generate_ads",
    "generate_chats",
    "generated_images",
    "obfuscate_email",
    "obfuscate_phone",
    "sample_photos",
    "upscale_to",
    "write_chats_jsonl",
    "write_jsonl",
]

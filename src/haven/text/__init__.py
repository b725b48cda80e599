"""Text signals for reviewers: entities, trafficking indicators and their evidence grades.

Why one package: ads and chats are folded once (`normalize`), then every extractor works on
the same folded text and reports spans in the text as posted. Everything here is plain
Python (no Django) and returns frozen dataclasses. Indicators and scores are evidence for a
reviewer, never a verdict.
"""

from haven.text.entities import ENTITY_TYPES, Entity, EntityError, extract_entities
from haven.text.grooming import (
    STAGES,
    TRIAGE_NOTICE,
    Cue,
    CueTable,
    GroomingAssessment,
    GroomingDataError,
    GroomingError,
    Message,
    MessageLike,
    StageFeature,
    StageHit,
    assess_conversation,
    default_cues,
    load_cues,
)
from haven.text.indicators import (
    AdAssessment,
    Indicator,
    IndicatorError,
    IndicatorHit,
    assess_ad,
    indicator_definitions,
    match_indicators,
    score_hits,
)
from haven.text.linking import (
    AdRecord,
    Cluster,
    ClusterSummary,
    Link,
    LinkConfig,
    Linking,
    LinkingError,
    link_ads,
    summarize_cluster,
)
from haven.text.normalize import NormalizationError, NormalizedText, PhraseIndex, normalize
from haven.text.phones import PhoneCandidate, PhoneError, find_phones
from haven.text.wallets import WalletMatch, find_wallets, is_valid_address

__all__ = [
    "ENTITY_TYPES",
    "STAGES",
    "TRIAGE_NOTICE",
    "AdAssessment",
    "AdRecord",
    "Cluster",
    "ClusterSummary",
    "Cue",
    "CueTable",
    "Entity",
    "EntityError",
    "GroomingAssessment",
    "GroomingDataError",
    "GroomingError",
    "Indicator",
    "IndicatorError",
    "IndicatorHit",
    "Link",
    "LinkConfig",
    "Linking",
    "LinkingError",
    "Message",
    "MessageLike",
    "NormalizationError",
    "NormalizedText",
    "PhoneCandidate",
    "PhoneError",
    "PhraseIndex",
    "StageFeature",
    "StageHit",
    "WalletMatch",
    "assess_ad",
    "assess_conversation",
    "default_cues",
    "extract_entities",
    "find_phones",
    "find_wallets",
    "indicator_definitions",
    "is_valid_address",
    "link_ads",
    "load_cues",
    "match_indicators",
    "normalize",
    "score_hits",
    "summarize_cluster",
]

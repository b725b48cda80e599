"""One text in, the API's plain JSON out: what `/api/v1/text/scan` answers and ingest stores.

Both the stateless scan and the ingest of ads go through `scan_text`, so an ad page shows
exactly what a provider's scan of the same text returned. Languages and regions are
checked here, once, with messages that name the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phonenumbers import SUPPORTED_REGIONS

from haven.text.indicators import LANGS, AdAssessment, assess_ad

__all__ = ["LANGS", "ScanInputError", "ScanResult", "check_lang", "check_region", "scan_text"]


class ScanInputError(ValueError):
    """A language or region the engine cannot use; `field` names it (`items[3].region`)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The engine's reading of one text, as JSON-ready lists (spans are [start, end))."""

    entities: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    score: float
    reasons: list[str]

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(sorted({hit["id"] for hit in self.indicators}))

    def as_json(self) -> dict[str, Any]:
        return {
            "entities": self.entities,
            "indicators": self.indicators,
            "score": self.score,
            "reasons": self.reasons,
        }


def check_lang(value: object, field: str) -> str | None:
    """None or empty means "try every language"; otherwise one of `LANGS`, lower case."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in LANGS:
        raise ScanInputError(field, f"lang must be one of {', '.join(LANGS)}, got {value!r}")
    return value.strip().lower()


def check_region(value: object, field: str, default: str) -> str:
    """An ISO country code phonenumbers knows; None or empty means `default`."""
    if value is None or value == "":
        return default
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in SUPPORTED_REGIONS:
        raise ScanInputError(
            field, f"region must be an ISO country code such as US, FR or AU, got {value!r}"
        )
    return code


def _result(assessment: AdAssessment) -> ScanResult:
    entities = [
        {
            "type": e.type,
            "value": e.value,
            "normalized": e.normalized,
            "span": [e.span[0], e.span[1]],
            "obscured": e.obscured,
        }
        for e in assessment.entities
    ]
    indicators = [
        {
            "id": h.id,
            "category": h.category,
            "grade": h.grade,
            "span": [h.span[0], h.span[1]],
            "reason": h.reason,
        }
        for h in assessment.indicators
    ]
    return ScanResult(entities, indicators, round(assessment.score, 1), list(assessment.reasons))


def scan_text(text: str, *, lang: str | None, region: str) -> ScanResult:
    """Entities, indicator hits, score and reasons of one text; evidence, never a verdict."""
    return _result(assess_ad(text, lang=lang, region=region))

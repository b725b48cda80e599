"""Everything one upload yields, looked up in the banks, as rows a person reads.

The match debugger shows, for an uploaded file, every bank entry any of its hashes matched
and how: the plain PDQ, each rotation and flip, the crop without borders, MD5, SHA-256, each
sampled video frame and the whole video by vPDQ's rule — the same lookups `haven scan`
makes. Kept apart from the views so the page only renders what this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from haven.accounts.permissions import Principal, visible
from haven.banks.matcher import HashResult, MatchHit, VideoHit, matcher
from haven.banks.models import Bank
from haven.media.pdq import DEFAULT_QUALITY_THRESHOLD
from haven.media.signals import PDQ
from haven.scan.batch import image_lookups

__all__ = ["SIGNAL_LABELS", "MatchRow", "Rows", "match_upload", "visible_bank_rows"]

SIGNAL_LABELS = {"pdq": "PDQ", "vpdq": "vPDQ", "md5": "MD5", "sha256": "SHA-256"}


@dataclass(slots=True)
class MatchRow:
    """One entry an input matched, and how: the variant, the distance, allow-list status."""

    bank_id: int
    bank: str
    entry_id: int
    external_id: str
    signal_type: str
    classification: str
    via: str
    distance: int | None
    status: str = "match"  # "match", "suppressed" (by an allow-list) or "allow-list"
    allowed_by: str = ""
    share: str = ""

    @property
    def signal_label(self) -> str:
        return SIGNAL_LABELS.get(self.signal_type, self.signal_type)


@dataclass(slots=True)
class Rows:
    """Rows gathered from several lookups, one per (entry, status), nearest kept."""

    found: dict[tuple[int, str, str], MatchRow] = field(default_factory=dict)

    def keep(self, row: MatchRow) -> None:
        key = (row.entry_id, row.signal_type, row.status)
        old = self.found.get(key)
        if old is None or (row.distance or 0) < (old.distance or 0):
            self.found[key] = row

    def absorb(self, result: HashResult, via: str, *, skip: str = "") -> None:
        """Keep a lookup's hits; `skip` names a signal type whose hits are left out."""
        allow = ", ".join(sorted({str(hit.bank) for hit in result.allowed_by}))
        for status, hits in (
            ("match", result.matches),
            ("suppressed", result.suppressed),
            ("allow-list", result.allowed_by),
        ):
            for hit in hits:
                if hit.signal_type != skip:
                    self.keep(_row(hit, via, status, allow if status == "suppressed" else ""))

    def sorted(self) -> list[MatchRow]:
        order = {"match": 0, "suppressed": 1, "allow-list": 2}
        return sorted(
            self.found.values(),
            key=lambda r: (order.get(r.status, 3), r.distance or 0, r.bank, r.external_id),
        )


def _row(hit: MatchHit, via: str, status: str, allowed_by: str = "") -> MatchRow:
    return MatchRow(
        bank_id=int(hit.bank_id),
        bank=str(hit.bank),
        entry_id=int(hit.entry_id),
        external_id=str(hit.external_id),
        signal_type=str(hit.signal_type),
        classification=str(hit.classification or ""),
        via=via,
        distance=int(hit.distance),
        status=status,
        allowed_by=allowed_by,
    )


def match_upload(record: dict[str, Any], bank_ids: Sequence[int]) -> list[MatchRow]:
    """Match everything Haven derives from one upload, as `haven scan` does."""

    engine = matcher()
    rows = Rows()
    for signal in ("md5", "sha256"):
        if not record.get(signal):  # precomputed hashes may come without the file's digests
            continue
        for result in engine.match(
            [bytes.fromhex(record[signal])], signal_type=signal, bank_ids=bank_ids
        ):
            rows.absorb(result, SIGNAL_LABELS[signal])
    if record["type"] == "image" and record.get("matchable", True) and record.get("pdq"):
        lookups = image_lookups(record)
        results = engine.match(
            [PDQ.parse(h) for _, h in lookups], signal_type="pdq", bank_ids=bank_ids
        )
        for (via, _), result in zip(lookups, results, strict=True):
            rows.absorb(result, via)
    elif record["type"] == "video":
        frames = [(PDQ.parse(pdq), int(quality)) for _, quality, pdq, _ in record["frames"]]
        good = [f for f in record["frames"] if int(f[1]) >= DEFAULT_QUALITY_THRESHOLD]
        results = engine.match(
            [PDQ.parse(f[2]) for f in good], signal_type="pdq", bank_ids=bank_ids
        )
        for frame, result in zip(good, results, strict=True):
            # A banked video matches whole, by vPDQ's rule below, never by one frame.
            rows.absorb(result, f"frame {frame[0]} ({float(frame[3]):.1f} s)", skip="vpdq")
        video_hits: list[VideoHit] = engine.match_video(frames, bank_ids=bank_ids)
        for hit in video_hits:
            rows.keep(
                MatchRow(
                    bank_id=int(hit.bank_id),
                    bank=str(hit.bank),
                    entry_id=int(hit.entry_id),
                    external_id=str(hit.external_id),
                    signal_type="vpdq",
                    classification=str(hit.classification or ""),
                    via=f"whole video: {hit.frames_matched}/{hit.frames_total} frames",
                    distance=None,
                    status="allow-list" if hit.allow_list else "match",
                    share=f"{float(hit.banked_share):.0%}",
                )
            )
    return rows.sorted()


def visible_bank_rows(principal: Principal) -> list[tuple[int, str, bool]]:
    """(id, name, allow-list) of the banks in reach; the matcher keeps the answer until the
    banks change or a quarter second passes (as fresh as the matcher itself). Reach only:
    the caller has checked its own permission (`match`, `scan`)."""

    def load() -> list[tuple[int, str, bool]]:
        query = visible(Bank.objects.order_by(), principal)
        return list(query.values_list("pk", "name", "is_allow_list"))

    return matcher().remembered(("visible banks", principal), load)

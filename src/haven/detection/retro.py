"""Retroactive matching: a bank entry added later holds the past uploads it matches, and a
disabled entry lifts the holds and blocks it alone caused (not a reviewer's confirmation).

It follows the banks like the matchers do: new entries by id, enabled/disabled entries by
the change log, from a cursor kept in the database, so each run does only what is new and
a crash repeats at most one run. Past uploads' PDQ hashes (with their rotations, flips and
video frames) are put in an exact multi-index hash for the run; MD5 and SHA-256 are looked
up by value; a banked whole video (vPDQ) by vPDQ's rule over each upload's frames. An
upload is only ever matched against its own agency's banks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from haven.audit.services import record
from haven.banks.models import BankChange, BankEntry
from haven.banks.services import unpack_frames
from haven.detection.models import (
    BankPolicy,
    RetroCursor,
    Review,
    ReviewMatch,
    ScanHash,
    ScannedContent,
)
from haven.detection.removal import notify_provider
from haven.index.bank import VIDEO_BANKED_SHARE, VIDEO_QUALITY_THRESHOLD
from haven.index.mih import MultiIndexHash

__all__ = ["BATCH", "RetroRun", "follow"]

BATCH = 5000


@dataclass
class RetroRun:
    entries: int = 0
    held: list[int] = field(default_factory=list)
    lifted: list[int] = field(default_factory=list)


def _match_row(entry: BankEntry, distance: int) -> dict[str, object]:
    return {
        "bank_id": entry.bank_id,
        "bank": entry.bank.name,
        "entry_id": entry.pk,
        "external_id": entry.external_id,
        "signal_type": entry.signal_type,
        "classification": entry.classification,
        "via": "retroactive",
        "distance": distance,
        "status": "match",
        "retroactive": True,
    }


def _hits(entries: list[BankEntry]) -> dict[int, list[tuple[BankEntry, int]]]:
    """Past uploads (content pk) each new entry matches, with the distance."""
    found: dict[int, list[tuple[BankEntry, int]]] = defaultdict(list)
    exact = [e for e in entries if e.signal_type in ("md5", "sha256")]
    for entry in exact:
        rows = ScanHash.objects.filter(
            signal=entry.signal_type,
            hash=bytes(entry.hash),
            content__agency_id=entry.bank.agency_id,
        ).values_list("content_id", flat=True)
        for content_pk in set(rows):
            found[content_pk].append((entry, 0))
    perceptual = [e for e in entries if e.signal_type in ("pdq", "vpdq")]
    if perceptual:
        agencies = {e.bank.agency_id for e in perceptual}
        stored = list(
            ScanHash.objects.filter(signal="pdq", content__agency_id__in=agencies).values_list(
                "content_id", "hash", "content__agency_id"
            )
        )
        if stored:
            index = MultiIndexHash(
                np.frombuffer(b"".join(bytes(h) for _, h, _ in stored), np.uint8).reshape(-1, 32)
            )
            _pdq_hits(index, stored, [e for e in perceptual if e.signal_type == "pdq"], found)
            for entry in (e for e in perceptual if e.signal_type == "vpdq"):
                _video_hits(index, stored, entry, found)
    return found


Stored = list[tuple[int, "bytes | memoryview", int]]


def _pdq_hits(
    index: MultiIndexHash,
    stored: Stored,
    pdq: list[BankEntry],
    found: dict[int, list[tuple[BankEntry, int]]],
) -> None:
    if not pdq:
        return
    radius = max(e.bank.threshold for e in pdq)
    matches = index.search([bytes(e.hash) for e in pdq], radius=radius)
    for k, entry in enumerate(pdq):
        for slot, distance in matches.for_query(k):
            content_pk, _, agency = stored[slot]
            if agency == entry.bank.agency_id and distance <= entry.bank.threshold:
                found[content_pk].append((entry, distance))


def _video_hits(
    index: MultiIndexHash,
    stored: Stored,
    entry: BankEntry,
    found: dict[int, list[tuple[BankEntry, int]]],
) -> None:
    """vPDQ's rule, as at scan time: a past upload matches a banked video when at least
    80 % of the video's distinct good frames lie within the threshold of its frames."""
    frames = list(
        dict.fromkeys(
            pdq
            for quality, pdq in unpack_frames(entry.frames)
            if quality >= VIDEO_QUALITY_THRESHOLD
        )
    )
    if not frames:
        return
    matches = index.search(frames, radius=entry.bank.threshold)
    near: dict[int, set[int]] = defaultdict(set)
    nearest: dict[int, int] = {}
    for k in range(len(frames)):
        for slot, distance in matches.for_query(k):
            content_pk, _, agency = stored[slot]
            if agency == entry.bank.agency_id:
                near[content_pk].add(k)
                nearest[content_pk] = min(distance, nearest.get(content_pk, distance))
    for content_pk, hit in near.items():
        if len(hit) / len(frames) >= VIDEO_BANKED_SHARE:
            found[content_pk].append((entry, nearest[content_pk]))


def _holding_banks(bank_ids: set[int]) -> set[int]:
    """The banks whose policy holds (or blocks) a match; a past upload is already out, so a
    retroactive match is held for review either way, never removed unseen."""
    quiet = set(
        BankPolicy.objects.filter(bank_id__in=bank_ids, hold=False, block=False).values_list(
            "bank_id", flat=True
        )
    )
    return bank_ids - quiet


def _hold(content_pk: int, hits: list[tuple[BankEntry, int]], run: RetroRun) -> None:
    with transaction.atomic():
        content = ScannedContent.objects.select_for_update().get(pk=content_pk)
        if any(m.get("status") == "allow-list" for m in content.matches):
            return  # an allow-list let this upload through; a new entry does not overrule it
        known = {m["entry_id"] for m in content.matches}
        best: dict[int, tuple[BankEntry, int]] = {}
        for entry, distance in hits:
            if entry.pk not in best or distance < best[entry.pk][1]:
                best[entry.pk] = (entry, distance)
        new = [_match_row(e, d) for e, d in best.values() if e.pk not in known]
        if not new:
            return
        holding = _holding_banks({e.bank_id for e, _ in best.values() if e.pk not in known})
        was = content.decision
        content.matches = [*content.matches, *new]
        if was == "allow" and holding:
            content.decision = "hold"
        content.save(update_fields=["matches", "decision"])
        if was == "allow" and holding:
            review, _ = Review.objects.get_or_create(
                content=content, defaults={"agency_id": content.agency_id}
            )
            ReviewMatch.objects.bulk_create(
                [
                    ReviewMatch(review=review, bank_id=e.bank_id, entry_id=e.pk)
                    for e, _ in best.values()
                    if e.pk not in known and e.bank_id in holding
                ],
                ignore_conflicts=True,
            )
            run.held.append(content.pk)
            record(
                "detection.retroactive_hold",
                actor="system:retro",
                target_type="scanned_content",
                target_id=content.pk,
                detail={"entries": [m["entry_id"] for m in new]},
            )


def _lift(entry: BankEntry, run: RetroRun) -> None:
    """Drop a disabled entry's matches; an upload it alone held or blocked goes back to
    allow (and the provider's hook is told to release it). A reviewer's confirmation
    stands: a person looked, so the entry's retraction does not undo the removal."""
    entry_pk = entry.pk
    acted = ScannedContent.objects.filter(
        decision__in=("hold", "block"), agency_id=entry.bank.agency_id
    ).exclude(review__state="confirmed")
    for content in acted.iterator(chunk_size=1000):
        if not any(m["entry_id"] == entry_pk for m in content.matches):
            continue
        with transaction.atomic():
            rest = [m for m in content.matches if m["entry_id"] != entry_pk]
            content.matches = rest
            if not any(m.get("status") == "match" for m in rest):
                was = content.decision
                content.decision = "allow"
                Review.objects.filter(content=content, state="pending").delete()
                run.lifted.append(content.pk)
                record(
                    "detection.hold_lifted",
                    actor="system:retro",
                    target_type="scanned_content",
                    target_id=content.pk,
                    detail={"entry": entry_pk, "was": was},
                )
                if was == "block":
                    notify_provider(
                        content, "release", "the bank entry behind the block was retracted"
                    )
            content.save(update_fields=["matches", "decision"])


def follow() -> RetroRun:
    """Apply every bank entry added, enabled or disabled since the last run."""
    run = RetroRun()
    cursor, _ = RetroCursor.objects.get_or_create(pk=1)
    while True:
        batch = list(
            BankEntry.objects.filter(pk__gt=cursor.entry_pk)
            .select_related("bank")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        live = [e for e in batch if e.enabled and e.bank.enabled and not e.bank.is_allow_list]
        for content_pk, hits in _hits(live).items():
            _hold(content_pk, hits, run)
        run.entries += len(batch)
        cursor.entry_pk = batch[-1].pk
        cursor.save(update_fields=["entry_pk"])
    changes = BankChange.objects.filter(pk__gt=cursor.change_pk, kind="entry").select_related(
        "entry", "entry__bank"
    )
    last = cursor.change_pk
    for change in changes.order_by("pk"):
        last = change.pk
        entry = change.entry
        if entry is None:
            continue
        if entry.enabled and entry.bank.enabled and not entry.bank.is_allow_list:
            for content_pk, hits in _hits([entry]).items():
                _hold(content_pk, hits, run)
        else:
            _lift(entry, run)
    cursor.change_pk = last
    cursor.ran_at = timezone.now()
    cursor.save(update_fields=["change_pk", "ran_at"])
    return run

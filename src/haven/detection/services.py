"""Scanning one upload: every lookup, a decision, and the record that makes it repeatable.

The lookups are the match debugger's (`haven.banks.lookup.match_upload`): MD5 and SHA-256
exactly, PDQ with its rotations, flips and the crop without borders, and a video's frames
against image banks plus the whole video by vPDQ's rule, in the banks the principal can
see (allow-lists included, so they suppress). Until per-bank policies exist the decision
is "hold" when anything matched outside an allow-list, else "allow".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from haven.accounts.permissions import Principal, check, visible
from haven.banks.lookup import MatchRow, match_upload
from haven.banks.models import Bank
from haven.detection.models import ScanHash, ScannedContent

__all__ = ["ContentInfo", "ScanConflict", "ScanOutcome", "hash_values", "scan"]


class ScanConflict(ValueError):
    """The content id was scanned before with other hashes: a content id names one file."""


@dataclass(frozen=True, slots=True)
class ContentInfo:
    content_id: str
    surface: str = "other"
    uploader_account: str = ""
    uploader_name: str = ""
    ip: str | None = None
    uploaded_at: datetime | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    content: ScannedContent
    duplicate: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "content_id": self.content.content_id,
            "decision": self.content.decision,
            "matches": self.content.matches,
            "duplicate": self.duplicate,
            "scanned_at": self.content.scanned_at.isoformat(),
        }


def _row_json(row: MatchRow) -> dict[str, Any]:
    found = asdict(row)
    return {k: v for k, v in found.items() if v not in ("", None) or k == "distance"}


def _hashes_of(record: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an upload: its hashes, never its bytes or its path."""
    keep = (
        "type",
        "pdq",
        "dihedral",
        "unletterboxed_pdq",
        "unletterboxed_variants",
        "unletterboxed_dihedral",
        "md5",
        "sha256",
        "quality",
        "matchable",
    )
    hashes = {k: record[k] for k in keep if k in record}
    if "frames" in record:
        hashes["frames"] = [[f[0], f[1], f[2], f[3]] for f in record["frames"]]
    return hashes


def hash_values(hashes: dict[str, Any]) -> set[tuple[str, bytes]]:
    """Every (signal, 32- or 16-byte hash) a stored upload can be found by later."""
    found: set[tuple[str, bytes]] = set()
    for signal in ("md5", "sha256"):
        if hashes.get(signal):
            found.add((signal, bytes.fromhex(hashes[signal])))
    pdqs = [hashes.get("pdq"), hashes.get("unletterboxed_pdq")]
    for key in ("dihedral", "unletterboxed_variants", "unletterboxed_dihedral"):
        pdqs += hashes.get(key, [])
    pdqs += [frame[2] for frame in hashes.get("frames", [])]
    found.update(("pdq", bytes.fromhex(h)) for h in pdqs if h)
    return found


def scan(principal: Principal, info: ContentInfo, record: dict[str, Any]) -> ScanOutcome:
    """Match one upload's hash record and keep it; the stored answer for a repeated id."""
    check(principal, "scan")
    hashes = _hashes_of(record)
    existing = ScannedContent.objects.filter(
        agency_id=principal.agency_id, content_id=info.content_id
    ).first()
    if existing is not None:
        if existing.hashes != hashes:
            raise ScanConflict(
                f"content {info.content_id!r} was scanned before with other hashes; "
                "a content id names one file"
            )
        return ScanOutcome(existing, duplicate=True)
    banks = list(visible(Bank.objects.all(), principal).values_list("pk", flat=True))
    rows = match_upload(record, banks) if banks else []
    decision = "hold" if any(r.status == "match" for r in rows) else "allow"
    try:
        with transaction.atomic():
            content = ScannedContent.objects.create(
                agency_id=principal.agency_id,
                content_id=info.content_id,
                media=str(record.get("type", "hashes")),
                surface=info.surface,
                uploader_account=info.uploader_account,
                uploader_name=info.uploader_name,
                ip=info.ip,
                uploaded_at=info.uploaded_at,
                url=info.url,
                hashes=hashes,
                decision=decision,
                matches=[_row_json(r) for r in rows],
                scanned_by=principal.actor,
            )
            ScanHash.objects.bulk_create(
                ScanHash(content=content, signal=signal, hash=value)
                for signal, value in sorted(hash_values(hashes))
            )
    except IntegrityError:  # the same content scanned twice at once: the first one stands
        content = ScannedContent.objects.get(
            agency_id=principal.agency_id, content_id=info.content_id
        )
        return ScanOutcome(content, duplicate=True)
    return ScanOutcome(content, duplicate=False)

"""The "removed here" bank: what this provider confirmed and removed, blocked on re-upload.

Every agency that confirms a match gets one such bank, made on first use. A confirmed
upload's hashes go into it (MD5, SHA-256, PDQ, or the whole video as vPDQ), and its policy
blocks at once without a second review: a person has already looked. An appeal that
overturns the decision disables the entries again, and retroactive matching lifts what
they alone blocked.
"""

from __future__ import annotations

import contextlib

from django.db import IntegrityError, transaction

from haven.accounts.permissions import system_principal
from haven.banks.models import Bank, BankEntry
from haven.banks.services import BankError, add_entry, add_video_entry, set_entry_enabled
from haven.detection.models import BankPolicy, ScannedContent

__all__ = ["REMOVED_HERE", "add_removed", "removed_here_bank", "withdraw_removed"]

REMOVED_HERE = "Removed here"
_SOURCE = "this node: content its reviewers confirmed and removed"


def removed_here_bank(agency_id: int) -> Bank:
    """The agency's "removed here" bank and its block-at-once policy, made on first use."""
    bank = Bank.objects.filter(agency_id=agency_id, name=REMOVED_HERE).first()
    if bank is None:
        try:
            with transaction.atomic():
                bank = Bank.objects.create(
                    agency_id=agency_id,
                    name=REMOVED_HERE,
                    source=_SOURCE,
                    description="Confirmed by a reviewer and removed; re-uploads are blocked.",
                )
        except IntegrityError:
            bank = Bank.objects.get(agency_id=agency_id, name=REMOVED_HERE)
    BankPolicy.objects.get_or_create(
        bank=bank,
        defaults={
            "block": True,
            "hold": False,
            "report": False,
            "notify": False,
            "confirmed_here": True,
        },
    )
    return bank


def add_removed(content: ScannedContent, classification: str = "") -> list[BankEntry]:
    """Bank a confirmed upload's hashes so that its re-uploads are blocked."""
    bank = removed_here_bank(content.agency_id)
    keeper = system_principal(content.agency_id, "removed-here")
    hashes = content.hashes
    base = f"content:{content.content_id}"[:180]
    added: list[BankEntry] = []
    if classification and bank.classification_scheme != "categories":
        classification = ""
    wanted = [(s, hashes.get(s)) for s in ("md5", "sha256", "pdq")]
    for signal, value in wanted:
        if not value:
            continue
        try:
            added.append(
                add_entry(
                    keeper,
                    bank,
                    signal_type=signal,
                    hash_hex=str(value),
                    external_id=f"{base}:{signal}",
                    classification=classification,
                )
            )
        except BankError:  # banked before (the same content confirmed again)
            continue
    frames = hashes.get("frames") or []
    if frames:
        with contextlib.suppress(BankError):
            added.append(
                add_video_entry(
                    keeper,
                    bank,
                    frames=[(int(f[1]), bytes.fromhex(f[2])) for f in frames],
                    external_id=f"{base}:vpdq",
                    classification=classification,
                )
            )
    return added


def withdraw_removed(content: ScannedContent) -> int:
    """Disable the content's "removed here" entries (an overturned decision); how many."""
    bank = Bank.objects.filter(agency_id=content.agency_id, name=REMOVED_HERE).first()
    if bank is None:
        return 0
    keeper = system_principal(content.agency_id, "removed-here")
    base = f"content:{content.content_id}"[:180]
    count = 0
    entries = BankEntry.objects.filter(bank=bank, external_id__startswith=f"{base}:", enabled=True)
    for entry in entries:
        set_entry_enabled(keeper, entry, False)
        count += 1
    return count

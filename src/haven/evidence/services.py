"""Preserving, viewing, holding, exporting and purging evidence, each with its custody event.

The blob is written (and fsynced) before the item's row is committed, and a failed commit
removes the blob again, so an item that exists can always be opened and nothing is left
behind unaccounted for. Every access goes through here: the custody log is the item's own
record of who touched it and why, and the audit log records the same actions node-wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from haven.accounts.permissions import Principal, check, get_visible_or_404, visible
from haven.audit.services import record
from haven.evidence.models import CustodyEvent, EvidenceItem
from haven.evidence.package import PackageItem, build_package
from haven.evidence.vault import Vault, VaultError
from haven.web.node import keyring

__all__ = [
    "EvidenceError",
    "PurgeRun",
    "add_hold",
    "export_package",
    "mark_reported",
    "open_item",
    "preserve",
    "purge_expired",
    "read_unseen",
    "vault",
    "visible_items",
]


class EvidenceError(ValueError):
    """An evidence action this node refuses; the message says why."""


@dataclass
class PurgeRun:
    purged: list[int] = field(default_factory=list)
    kept_by_hold: int = 0
    missing_blobs: list[int] = field(default_factory=list)


def vault() -> Vault:
    return Vault(settings.HAVEN.evidence_dir, keyring())


def _retention() -> timedelta:
    return timedelta(days=settings.HAVEN.evidence_retention_days)


def _custody(
    item: EvidenceItem,
    principal: Principal,
    action: str,
    reason: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    CustodyEvent.objects.create(
        item=item,
        action=action,
        actor=principal.actor,
        actor_label=principal.label[:150],
        reason=reason[:500],
        detail=dict(detail or {}),
    )
    record(
        f"evidence.{action}",
        principal=principal,
        target_type="evidence",
        target_id=item.pk,
        detail={"reason": reason[:200], **dict(detail or {})},
    )


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise EvidenceError("say why: every evidence action records its reason")
    return reason.strip()


def visible_items(principal: Principal) -> QuerySet[EvidenceItem]:
    return visible(EvidenceItem.objects.all(), check(principal, "evidence:read"))


def preserve(
    principal: Principal,
    content: bytes,
    *,
    reason: str,
    metadata: Mapping[str, Any] | None = None,
    media_type: str = "",
    original_name: str = "",
    pdq: str = "",
) -> EvidenceItem:
    """Seal `content` in the vault and record the item; retention runs from now until reported."""
    check(principal, "evidence:preserve")
    reason = _need_reason(reason)
    store = vault()
    sealed = store.seal(content)
    try:
        with transaction.atomic():
            item = EvidenceItem.objects.create(
                agency_id=principal.agency_id,
                blob_id=sealed.blob_id,
                wrapped_key=sealed.wrapped_key,
                size=sealed.size,
                sha256=sealed.sha256,
                md5=sealed.md5,
                sha1=sealed.sha1,
                pdq=pdq,
                media_type=media_type[:100],
                original_name=original_name[:1024],
                metadata=dict(metadata or {}),
                reason=reason[:300],
                created_by=principal.actor,
                retain_until=timezone.now() + _retention(),
            )
            _custody(item, principal, "created", reason, {"sha256": sealed.sha256})
    except BaseException:
        store.delete(sealed.blob_id)
        raise
    return item


def read_unseen(item: EvidenceItem) -> bytes:
    """The item's bytes for a machine, not a person: sealing them into a report (the
    caller records it with `mark_reported`) or making a blurred preview. Nobody sees them,
    so no "viewed" event; a person's view goes through `open_item`."""
    if item.purged_at is not None or item.wrapped_key is None:
        raise EvidenceError(f"evidence {item.pk} was purged on {item.purged_at:%Y-%m-%d}")
    try:
        return vault().open(item.blob_id, bytes(item.wrapped_key))
    except VaultError as exc:
        raise EvidenceError(str(exc)) from None


def open_item(principal: Principal, pk: int, *, reason: str) -> tuple[EvidenceItem, bytes]:
    """The content of one item in reach, for a person who said why; recorded as viewed."""
    check(principal, "evidence:view")
    reason = _need_reason(reason)
    item = get_visible_or_404(EvidenceItem.objects.all(), principal, pk=pk)
    content = read_unseen(item)
    _custody(item, principal, "viewed", reason)
    return item, content


def mark_reported(principal: Principal, item: EvidenceItem, at: datetime, report_id: str) -> None:
    """Retention runs from the report: it ends `HAVEN_EVIDENCE_RETENTION_DAYS` after `at`.

    Whoever sends the report records it, so `reports:send` is the permission asked."""
    check(principal, "reports:send")
    with transaction.atomic():
        item.reported_at = at
        item.retain_until = max(item.retain_until, at + _retention())
        item.save(update_fields=["reported_at", "retain_until"])
        _custody(item, principal, "reported", f"reported as {report_id}", {"report_id": report_id})


def add_hold(
    principal: Principal, pk: int, *, until: datetime, reference: str, reason: str
) -> EvidenceItem:
    """A law-enforcement hold: nothing purges the item before `until`."""
    check(principal, "evidence:hold")
    reason = _need_reason(reason)
    if not reference.strip():
        raise EvidenceError("a hold needs the requesting authority's reference")
    item = get_visible_or_404(EvidenceItem.objects.all(), principal, pk=pk)
    if item.purged_at is not None:
        raise EvidenceError(f"evidence {item.pk} was purged already")
    with transaction.atomic():
        item.hold_until = max(until, item.hold_until or until)
        item.hold_reference = reference.strip()[:200]
        item.save(update_fields=["hold_until", "hold_reference"])
        _custody(
            item,
            principal,
            "held",
            reason,
            {"until": item.hold_until.isoformat(), "reference": item.hold_reference},
        )
    return item


def purge_expired(principal: Principal, *, now: datetime | None = None) -> PurgeRun:
    """Destroy every item whose retention and hold have ended; the audit log proves each."""
    check(principal, "evidence:purge")
    now = now or timezone.now()
    run = PurgeRun()
    store = vault()
    expired = EvidenceItem.objects.filter(purged_at__isnull=True, retain_until__lte=now)
    for item in expired.order_by("pk"):
        if item.hold_until is not None and item.hold_until > now:
            run.kept_by_hold += 1
            continue
        with transaction.atomic():
            gone = store.delete(item.blob_id)
            if not gone:
                run.missing_blobs.append(item.pk)
            EvidenceItem.objects.filter(pk=item.pk).update(
                purged_at=now, wrapped_key=None, metadata={}, original_name=""
            )
            _custody(
                item,
                principal,
                "purged",
                "retention ended",
                {"sha256": item.sha256, "retained_until": item.retain_until.isoformat()},
            )
        run.purged.append(item.pk)
    return run


def export_package(
    principal: Principal, pks: Sequence[int], *, passphrase: str, reason: str, reference: str
) -> bytes:
    """An encrypted package of these items for law enforcement, recorded as exported."""
    check(principal, "evidence:export")
    reason = _need_reason(reason)
    items: list[PackageItem] = []
    chosen: list[EvidenceItem] = []
    store = vault()
    for pk in pks:
        item = get_visible_or_404(EvidenceItem.objects.all(), principal, pk=pk)
        if item.purged_at is not None or item.wrapped_key is None:
            raise EvidenceError(f"evidence {item.pk} was purged; it cannot be exported")
        try:
            content = store.open(item.blob_id, bytes(item.wrapped_key))
        except VaultError as exc:
            raise EvidenceError(str(exc)) from None
        chosen.append(item)
        manifest = {
            "evidence_id": item.pk,
            "sha256": item.sha256,
            "md5": item.md5,
            "sha1": item.sha1,
            "pdq": item.pdq,
            "size": item.size,
            "media_type": item.media_type,
            "original_name": item.original_name,
            "metadata": item.metadata,
            "preserved_at": item.created_at.isoformat(),
            "reported_at": item.reported_at.isoformat() if item.reported_at else None,
        }
        custody = [
            {
                "action": e.action,
                "actor": e.actor,
                "at": e.at.isoformat(),
                "reason": e.reason,
                "detail": e.detail,
            }
            for e in item.custody.all()
        ]
        custody.append(
            {
                "action": "exported",
                "actor": principal.actor,
                "at": timezone.now().isoformat(),
                "reason": reason,
                "detail": {"reference": reference},
            }
        )
        items.append(PackageItem(manifest, custody, content))
    note = {
        "node": settings.HAVEN.node_name,
        "exported_at": timezone.now().isoformat(),
        "exported_by": principal.actor,
        "reference": reference,
    }
    package = build_package(items, passphrase, note=note)
    with transaction.atomic():
        for item in chosen:
            _custody(item, principal, "exported", reason, {"reference": reference[:200]})
    return package

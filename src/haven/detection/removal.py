"""Removal requests to the provider's webhook: signed, durable, delivered exactly once.

A removal is recorded with its delivery in one transaction, then sent by `deliver_hooks`
with the outbox's discipline (`haven.reports.outbox`): each attempt claimed and counted
first, backoff on failure, given up loudly. Every call carries `Haven-Delivery-Id` (the
same on every retry, so the provider acts once however often it is called) and
`Haven-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the hook's
secret, so the provider can check the call came from its Haven node and is fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from haven.accounts.permissions import Principal, check
from haven.audit.services import record
from haven.detection.models import HookDelivery, RemovalHook, ScannedContent
from haven.detection.uploaders import bump
from haven.reports.outbox import DeliveryError, DeliveryRun, attempt_each
from haven.web.node import keyring

__all__ = [
    "SIGNATURE_TOLERANCE_SECONDS",
    "add_hook",
    "deliver_hooks",
    "notify_provider",
    "request_removal",
    "sign",
    "verify_signature",
]

SIGNATURE_TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 20.0
_AD = b"haven.detection.hook.secret"

Checkpoint = Callable[[str], None]


def sign(secret: bytes, body: bytes, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_signature(secret: bytes, body: bytes, header: str, *, now: int | None = None) -> bool:
    """What a provider runs on its side: a fresh timestamp and a matching HMAC."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        stamp = int(parts.get("t", ""))
    except ValueError:
        return False
    current = int(time.time()) if now is None else now
    if abs(current - stamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, stamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def add_hook(principal: Principal, url: str, secret: str) -> RemovalHook:
    check(principal, "detection:manage")
    if not url.startswith(("https://", "http://")) or len(secret) < 16:
        raise ValueError("a hook needs an http(s) URL and a secret of 16 characters or more")
    hook = RemovalHook.objects.create(
        agency_id=principal.agency_id,
        url=url,
        secret_encrypted=keyring().encrypt(secret.encode(), _AD),
    )
    record("detection.hook.add", principal=principal, target_type="hook", target_id=hook.pk)
    return hook


def request_removal(principal: Principal, content: ScannedContent, reason: str) -> HookDelivery:
    """Ask the provider to take `content` down: durable before this returns."""
    check(principal, "detection:manage")
    delivery = _queue(content, "remove", reason, principal.actor)
    if delivery is None:
        raise ValueError("this agency has no removal hook; add one first")
    return delivery


def notify_provider(content: ScannedContent, event: str, reason: str) -> HookDelivery | None:
    """Tell the provider's hook what a decision means for the content: "remove" it,
    "release" it (a false positive) or "restore" it (an appeal overturned the removal).

    None when the agency set no hook: the provider then reads the decision from the scan
    API. Called inside the decision's transaction, so the call is queued if and only if
    the decision is committed.
    """
    return _queue(content, event, reason, "system:decisions")


def _queue(content: ScannedContent, event: str, reason: str, actor: str) -> HookDelivery | None:
    hook = RemovalHook.objects.filter(agency_id=content.agency_id, enabled=True).first()
    if hook is None:
        return None
    delivery_id = secrets.token_hex(16)
    body = {
        "event": event,
        "delivery_id": delivery_id,
        "content_id": content.content_id,
        "url": content.url,
        "reason": reason[:500],
        "matches": [
            {k: m.get(k) for k in ("bank", "external_id", "classification", "signal_type")}
            for m in content.matches
            if m.get("status") == "match"
        ],
        "requested_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        delivery = HookDelivery.objects.create(
            hook=hook, content=content, delivery_id=delivery_id, body=body
        )
        record(
            "detection.removal_requested" if event == "remove" else f"detection.{event}_requested",
            actor=actor,
            target_type="scanned_content",
            target_id=content.pk,
            detail={"delivery_id": delivery_id, "event": event},
        )
    return delivery


def _call(delivery: HookDelivery) -> None:
    secret = keyring().decrypt(bytes(delivery.hook.secret_encrypted), _AD)
    body = json.dumps(delivery.body, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(
        delivery.hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Haven-Delivery-Id": delivery.delivery_id,
            "Haven-Signature": sign(secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        retry = error.code >= 500 or error.code in (408, 429)
        raise DeliveryError(f"{delivery.hook.url} answered {error.code}", retry=retry) from None
    except OSError as error:
        raise DeliveryError(f"{delivery.hook.url}: {error}") from None


def deliver_hooks(
    *,
    now: datetime | None = None,
    limit: int = 100,
    call: Callable[[HookDelivery], None] = _call,
    checkpoint: Checkpoint | None = None,
) -> DeliveryRun:
    """Call the hook for every due delivery (up to `limit`)."""
    now = now or timezone.now()
    due = (
        HookDelivery.objects.filter(state="pending", next_attempt_at__lte=now)
        .select_related("hook")
        .order_by("next_attempt_at", "pk")[:limit]
    )

    def delivered(delivery: HookDelivery, _: object, attempts: int) -> None:
        at = timezone.now()
        with transaction.atomic():
            HookDelivery.objects.filter(pk=delivery.pk).update(
                state="delivered", delivered_at=at, last_error=""
            )
            if delivery.body.get("event") == "remove":
                ScannedContent.objects.filter(pk=delivery.content_id, removed_at=None).update(
                    removed_at=at
                )
                content = ScannedContent.objects.get(pk=delivery.content_id)
                bump(content, "removals")

    def given_up(delivery: HookDelivery, attempts: int) -> None:
        record(
            "detection.removal_failed",
            actor="system:hooks",
            target_type="scanned_content",
            target_id=delivery.content_id,
            outcome="failed",
            detail={"delivery_id": delivery.delivery_id, "attempts": attempts},
        )

    return attempt_each(
        list(due),
        now=now,
        send=call,
        delivered=delivered,
        given_up=given_up,
        checkpoint=checkpoint,
    )

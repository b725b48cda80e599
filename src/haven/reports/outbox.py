"""Delivering queued reports: at least once on the wire, exactly once at the receiver.

Each attempt is claimed and counted in the database *before* anything is sent (a
conditional update, so two workers never send the same message at once). A crash before
the send, during it, or after the receiver committed but before the answer was recorded
leaves the message pending with its claim expiring; the next run sends it again and the
receiver, which dedups on the report id, answers with the receipt it gave the first time.
Failures back off exponentially (with jitter) up to an hour, and after `MAX_ATTEMPTS` the
message is given up and the audit log says so for an administrator to act.

`checkpoint` is called with the name of each point a crash test kills the process at:
"claimed" (before sending) and "sent" (the receiver answered; nothing recorded yet).
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from haven.audit.services import record
from haven.reports.models import Destination, OutboxMessage
from haven.web.node import keyring

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "CLAIM_SECONDS",
    "MAX_ATTEMPTS",
    "DeliveryError",
    "DeliveryRun",
    "attempt_each",
    "backoff",
    "claim",
    "deliver_due",
    "destination_token",
    "send_report",
]

MAX_ATTEMPTS = 20
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
CLAIM_SECONDS = 120.0  # a claimed message another worker may retry after this
TIMEOUT_SECONDS = 30.0
_AD = b"haven.reports.destination.token"

Checkpoint = Callable[[str], None]
Sender = Callable[[Destination, dict[str, Any]], dict[str, Any]]


class DeliveryError(Exception):
    """A delivery that failed; `retry` is False when sending again cannot help."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass
class DeliveryRun:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failures: 5, 10, 20 ... capped at an hour, ±20 %."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(64, max(0, attempts - 1)))
    draw: float = (rng or random.Random()).random()
    return base * (0.8 + 0.4 * draw)


def destination_token(destination: Destination) -> str:
    return keyring().decrypt(bytes(destination.token_encrypted), _AD).decode()


def encrypt_token(token: str) -> bytes:
    return keyring().encrypt(token.encode(), _AD)


def send_report(destination: Destination, payload: dict[str, Any]) -> dict[str, Any]:
    """POST one report to a Haven intake; the receipt, or DeliveryError."""
    url = destination.url.rstrip("/") + "/api/v1/intake/reports"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, separators=(",", ":")).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {destination_token(destination)}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()[:500].decode("utf-8", "replace")
        # 4xx other than 408/429 means the receiver refuses this report as it is.
        retry = error.code >= 500 or error.code in (408, 429)
        raise DeliveryError(f"{url} answered {error.code}: {body}", retry=retry) from None
    except (OSError, ValueError) as error:
        raise DeliveryError(f"{url}: {error}") from None
    if not isinstance(answer, dict) or not answer.get("receipt_id"):
        raise DeliveryError(f"{url} answered without a receipt")
    return answer


def claim(message: Any, now: datetime) -> bool:
    """Count the attempt and push the next one out, only if nobody else did first.

    Works for any delivery row with `state`, `attempts` and `next_attempt_at` (the outbox's
    messages, the removal webhooks' deliveries).
    """
    claimed: int = (
        type(message)
        ._default_manager.filter(
            pk=message.pk,
            state="pending",
            attempts=message.attempts,
            next_attempt_at=message.next_attempt_at,
        )
        .update(
            attempts=message.attempts + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
    )
    return bool(claimed == 1)


def attempt_each(
    rows: Sequence[Any],
    *,
    now: datetime,
    send: Callable[[Any], Any],
    delivered: Callable[[Any, Any, int], None],
    given_up: Callable[[Any, int], None],
    checkpoint: Checkpoint | None = None,
    rng: random.Random | None = None,
) -> DeliveryRun:
    """The delivery discipline every durable sender shares (reports, removal webhooks).

    For each row: claim and count the attempt (`claim`), send, then in one transaction
    either record the delivery (`delivered(row, answer, attempts)`, which marks the row) or
    push the next attempt out with backoff, and on the last one mark the row failed and call
    `given_up(row, attempts)` (which audits it). `checkpoint` names the points crash tests
    kill the process at: "claimed" and "sent".
    """
    run = DeliveryRun()
    for row in rows:
        if not claim(row, now):
            continue
        attempts = row.attempts + 1
        if checkpoint is not None:
            checkpoint("claimed")
        try:
            answer = send(row)
        except DeliveryError as error:
            give_up = not error.retry or attempts >= MAX_ATTEMPTS
            with transaction.atomic():
                type(row)._default_manager.filter(pk=row.pk).update(
                    state="failed" if give_up else "pending",
                    last_error=str(error)[:2000],
                    next_attempt_at=now + timedelta(seconds=backoff(attempts, rng)),
                )
                if give_up:
                    given_up(row, attempts)
            run.errors.append(str(error)[:300])
            if give_up:
                run.failed += 1
            else:
                run.retried += 1
            continue
        if checkpoint is not None:
            checkpoint("sent")
        with transaction.atomic():
            delivered(row, answer, attempts)
        run.delivered += 1
    return run


def deliver_due(
    *,
    now: datetime | None = None,
    limit: int = 100,
    sender: Sender = send_report,
    checkpoint: Checkpoint | None = None,
    rng: random.Random | None = None,
) -> DeliveryRun:
    """Try every pending message whose time has come (up to `limit`)."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(state="pending", next_attempt_at__lte=now)
        .select_related("report", "report__destination")
        .order_by("next_attempt_at", "pk")[:limit]
    )

    def delivered(message: OutboxMessage, receipt: dict[str, Any], attempts: int) -> None:
        OutboxMessage.objects.filter(pk=message.pk).update(
            state="delivered", delivered_at=timezone.now(), receipt=receipt, last_error=""
        )
        record(
            "reports.delivered",
            actor="system:outbox",
            target_type="outgoing_report",
            target_id=message.report.pk,
            detail={
                "report_id": message.report.report_id,
                "receipt_id": str(receipt.get("receipt_id", ""))[:64],
                "attempts": attempts,
            },
        )

    def given_up(message: OutboxMessage, attempts: int) -> None:
        record(
            "reports.delivery_failed",
            actor="system:outbox",
            target_type="outgoing_report",
            target_id=message.report.pk,
            outcome="failed",
            detail={"report_id": message.report.report_id, "attempts": attempts},
        )

    return attempt_each(
        list(due),
        now=now,
        send=lambda message: sender(message.report.destination, message.report.payload),
        delivered=delivered,
        given_up=given_up,
        checkpoint=checkpoint,
        rng=rng,
    )

"""Delivering queued reports: at least once on the wire, exactly once at the receiver.

Each attempt is claimed and counted in the database *before* anything is sent (a
conditional update, so two workers never send the same message at once). A crash before
the send, during it, or after the receiver committed but before the answer was recorded
leaves the message pending with its claim expiring; the next run sends it again and the
receiver, which dedups on the report id, answers with the receipt it gave the first time.
Failures back off exponentially (with jitter) up to an hour, and after `MAX_ATTEMPTS` the
message is given up and the audit log says so for an administrator to act.

A report's files (sealed, `haven.reports.sealing`) travel after the report: once the
report's POST is answered (201, or 200 for a resend), each file not yet acknowledged is PUT
to `{url}/api/v1/intake/reports/{report_id}/files/{file_id}`. The message is delivered only
when the report and every file are acknowledged; a failure or a crash between two files
leaves it pending, and the retry sends the report again (200) and the files the receiver
has not acknowledged (it answers 200 for a file it already holds).

`checkpoint` is called with the name of each point a crash test kills the process at:
"claimed" (before sending), "report_sent" (the report's POST answered, no file sent yet;
reached only by reports with files) and "sent" (the receiver answered everything; nothing
recorded yet).
"""

from __future__ import annotations

import hashlib
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from haven.audit.services import record
from haven.reports.models import Destination, OutboxMessage, OutgoingFile, OutgoingReport
from haven.reports.sealing import (
    SealedFile,
    SealError,
    hash_mismatches,
    open_file,
    recipient_key_id,
    seal_file,
)
from haven.web.node import keyring

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "CLAIM_SECONDS",
    "MAX_ATTEMPTS",
    "CyberTiplineFile",
    "DeliveryError",
    "DeliveryRun",
    "FileSender",
    "Sender",
    "attempt_each",
    "backoff",
    "claim",
    "deliver_due",
    "destination_token",
    "files_for_cybertipline",
    "open_with_node_key",
    "seal_for_node",
    "send_cybertipline",
    "send_file",
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
#: (destination, report id, file id, sealed bytes) -> the receiver's answer
FileSender = Callable[[Destination, str, str, bytes], dict[str, Any]]


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


def _call(request: urllib.request.Request) -> Any:
    """Send one request; the decoded JSON answer, or DeliveryError saying if a retry helps."""
    url = request.full_url
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()[:500].decode("utf-8", "replace")
        # 4xx other than 408/429 means the receiver refuses this request as it is.
        retry = error.code >= 500 or error.code in (408, 429)
        raise DeliveryError(f"{url} answered {error.code}: {body}", retry=retry) from None
    except (OSError, ValueError) as error:
        raise DeliveryError(f"{url}: {error}") from None


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
    answer = _call(request)
    if not isinstance(answer, dict) or not answer.get("receipt_id"):
        raise DeliveryError(f"{url} answered without a receipt")
    return answer


def send_file(
    destination: Destination, report_id: str, file_id: str, ciphertext: bytes
) -> dict[str, Any]:
    """PUT one sealed file of a delivered report to a Haven intake; its answer, or
    DeliveryError. The intake answers 201 when it stored the file, 200 when it held it."""
    url = (
        destination.url.rstrip("/")
        + f"/api/v1/intake/reports/{quote(report_id, safe='')}/files/{quote(file_id, safe='')}"
    )
    request = urllib.request.Request(
        url,
        data=ciphertext,
        method="PUT",
        headers={
            "Authorization": f"Bearer {destination_token(destination)}",
            "Content-Type": "application/octet-stream",
        },
    )
    answer = _call(request)
    if (
        not isinstance(answer, dict)
        or answer.get("sha256") != hashlib.sha256(ciphertext).hexdigest()
    ):
        raise DeliveryError(f"{url} did not acknowledge the file's SHA-256")
    return answer


# -- the node's own key: files bound for the CyberTipline wait sealed to it ---------------


def seal_for_node(content: bytes) -> SealedFile:
    """Seal `content` to this node's active signing key, so it is encrypted at rest."""
    ring = keyring()
    ring.refresh()
    return seal_file(content, ring.signing.public_key, ring.signing.id)


def open_with_node_key(ciphertext: bytes) -> bytes:
    """Open a file sealed to one of this node's signing keys (the active or an older one).

    Raises SealError when no key of this node is the one it is sealed to, or it is damaged.
    """
    ring = keyring()
    wanted = recipient_key_id(ciphertext)
    keys = {key.id: key for key in ring.signing_keys}
    if wanted not in keys and ring.refresh(force=True):
        keys = {key.id: key for key in ring.signing_keys}
    if wanted not in keys:
        raise SealError(f"the file is sealed to key {wanted}, which is not one of this node's")
    return open_file(ciphertext, keys[wanted].seed)


@dataclass(frozen=True, slots=True)
class CyberTiplineFile:
    """A file to upload with a CyberTipline report: the plaintext, opened just for that."""

    file_id: str
    name: str
    content: bytes


def files_for_cybertipline(report: OutgoingReport) -> list[CyberTiplineFile]:
    """The files queued with a CyberTipline report, opened, in the report's order.

    Raises DeliveryError(retry=False) when one cannot be opened or is not the file the
    report lists (its hashes differ): sending again cannot help, an administrator must.
    """
    listed = {entry["file_id"]: entry for entry in report.payload.get("files", [])}
    found: list[CyberTiplineFile] = []
    for stored in OutgoingFile.objects.filter(report=report).order_by("pk"):
        entry = listed.get(stored.file_id)
        if entry is None:
            raise DeliveryError(f"file {stored.file_id} is not listed in the report", retry=False)
        try:
            content = open_with_node_key(bytes(stored.ciphertext))
        except SealError as exc:
            raise DeliveryError(f"file {stored.file_id}: {exc}", retry=False) from None
        wrong = hash_mismatches(entry, content)
        if wrong:
            raise DeliveryError(
                f"file {stored.file_id}: its {', '.join(wrong)} differ from the report's",
                retry=False,
            )
        found.append(CyberTiplineFile(stored.file_id, str(entry.get("name", "")), content))
    return found


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


def send_cybertipline(report: OutgoingReport) -> dict[str, Any]:
    """The whole CyberTipline flow for one report (status, submit, upload, details, finish).

    The destination's secret is "username:password" for the API's Basic authentication.
    """
    from haven.reports import cybertipline

    destination = report.destination
    username, _, password = destination_token(destination).partition(":")
    files = [
        cybertipline.OutgoingFile(f.file_id, f.name, f.content)
        for f in files_for_cybertipline(report)
    ]
    return cybertipline.deliver(destination.url, username, password, report.payload, files)


CyberTiplineSender = Callable[[OutgoingReport], dict[str, Any]]


def _send_message(
    message: OutboxMessage,
    sender: Sender,
    file_sender: FileSender,
    checkpoint: Checkpoint | None,
    cybertip_sender: CyberTiplineSender = send_cybertipline,
) -> dict[str, Any]:
    """The report, then each of its files the receiver has not acknowledged yet."""
    report = message.report
    destination = report.destination
    if destination.kind == "cybertipline":
        return cybertip_sender(report)
    receipt = sender(destination, report.payload)
    if destination.kind != "haven":
        return receipt
    waiting = list(
        OutgoingFile.objects.filter(report=report, acknowledged_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if waiting and checkpoint is not None:
        checkpoint("report_sent")
    for pk in waiting:  # one file in memory at a time
        stored = OutgoingFile.objects.get(pk=pk)
        file_sender(destination, report.report_id, stored.file_id, bytes(stored.ciphertext))
        OutgoingFile.objects.filter(pk=pk).update(acknowledged_at=timezone.now())
    return receipt


def deliver_due(
    *,
    now: datetime | None = None,
    limit: int = 100,
    sender: Sender = send_report,
    file_sender: FileSender = send_file,
    cybertip_sender: CyberTiplineSender = send_cybertipline,
    checkpoint: Checkpoint | None = None,
    rng: random.Random | None = None,
) -> DeliveryRun:
    """Try every pending message whose time has come (up to `limit`).

    `sender` POSTs the report, `file_sender` PUTs each of its files not yet acknowledged
    (Haven destinations only); a CyberTipline destination goes through `cybertip_sender`,
    which runs NCMEC's whole flow with the files opened from `files_for_cybertipline`.
    """
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
        send=lambda message: _send_message(
            message, sender, file_sender, checkpoint, cybertip_sender
        ),
        delivered=delivered,
        given_up=given_up,
        checkpoint=checkpoint,
        rng=rng,
    )

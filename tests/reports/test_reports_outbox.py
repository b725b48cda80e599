"""The outbox: delivered once acknowledged, retried with backoff, given up loudly.

The sender here is a stand-in receiver that dedups on the report id like the real intake
(the real one, over HTTP, is in test_reports_crash.py), so "receipts" counts what the
receiver would hold.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.reports.reports_helpers import report_doc

from haven.accounts.models import Agency
from haven.accounts.permissions import PermissionDenied, Principal, system_principal
from haven.audit.models import AuditEntry
from haven.reports import outbox, services
from haven.reports.format import parse_report
from haven.reports.models import Destination, OutboxMessage, OutgoingReport

pytestmark = pytest.mark.django_db


class Receiver:
    """Keeps one receipt per report id, as the intake does; can fail on demand."""

    def __init__(self) -> None:
        self.receipts: dict[str, str] = {}
        self.calls = 0
        self.fail_with: outbox.DeliveryError | None = None

    def __call__(self, destination: Destination, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        rid = payload["report_id"]
        self.receipts.setdefault(rid, f"receipt-{len(self.receipts) + 1}")
        return {"receipt_id": self.receipts[rid], "report_id": rid}


@pytest.fixture
def principal(sender: Agency) -> Principal:
    return system_principal(sender.pk, "test")


@pytest.fixture
def destination(principal: Principal) -> Destination:
    return services.add_destination(
        principal, name="National hotline", url="https://intake.example", token="hvn_secret"
    )


def _queue(principal: Principal, destination: Destination, rid: str = "rep-1") -> OutgoingReport:
    return services.queue_report(principal, parse_report(report_doc(rid)), destination)


def test_a_queued_report_is_delivered_and_its_receipt_kept(
    principal: Principal, destination: Destination
) -> None:
    queued = _queue(principal, destination)
    receiver = Receiver()
    run = outbox.deliver_due(sender=receiver)
    assert (run.delivered, run.retried, run.failed) == (1, 0, 0)
    message = OutboxMessage.objects.get(report=queued)
    assert message.state == "delivered" and message.receipt["receipt_id"] == "receipt-1"
    assert message.attempts == 1 and message.delivered_at is not None
    assert outbox.deliver_due(sender=receiver).delivered == 0  # nothing left to send
    assert AuditEntry.objects.filter(action="reports.delivered").count() == 1
    assert AuditEntry.objects.filter(action="reports.queue").count() == 1


def test_the_destination_token_is_encrypted_at_rest(destination: Destination) -> None:
    assert b"hvn_secret" not in bytes(destination.token_encrypted)
    assert outbox.destination_token(destination) == "hvn_secret"


def test_failures_back_off_and_finally_give_up(
    principal: Principal, destination: Destination
) -> None:
    _queue(principal, destination)
    receiver = Receiver()
    receiver.fail_with = outbox.DeliveryError("connection refused")
    now = timezone.now()
    waits = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        run = outbox.deliver_due(sender=receiver, now=now, rng=random.Random(attempt))
        message = OutboxMessage.objects.get()
        assert message.attempts == attempt and "connection refused" in message.last_error
        if attempt < outbox.MAX_ATTEMPTS:
            assert run.retried == 1 and message.state == "pending"
            assert outbox.deliver_due(sender=receiver, now=now).retried == 0  # not due yet
            waits.append((message.next_attempt_at - now).total_seconds())
            now = message.next_attempt_at
    assert message.state == "failed" and run.failed == 1
    assert waits[0] < waits[3] < waits[8] and max(waits) <= outbox.BACKOFF_CAP_SECONDS * 1.2
    assert AuditEntry.objects.filter(action="reports.delivery_failed").count() == 1


def test_a_refusal_that_cannot_change_gives_up_at_once(
    principal: Principal, destination: Destination
) -> None:
    _queue(principal, destination)
    receiver = Receiver()
    receiver.fail_with = outbox.DeliveryError("answered 400", retry=False)
    assert outbox.deliver_due(sender=receiver).failed == 1
    assert OutboxMessage.objects.get().state == "failed"


def test_a_crash_after_the_receiver_answered_is_delivered_once_on_retry(
    principal: Principal, destination: Destination
) -> None:
    _queue(principal, destination)
    receiver = Receiver()

    def crash(point: str) -> None:
        if point == "sent":
            raise SystemExit("killed after the receiver committed")

    with pytest.raises(SystemExit):
        outbox.deliver_due(sender=receiver, checkpoint=crash)
    message = OutboxMessage.objects.get()
    assert message.state == "pending" and message.attempts == 1
    assert outbox.deliver_due(sender=receiver).delivered == 0  # the claim has not expired
    later = timezone.now() + timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert outbox.deliver_due(sender=receiver, now=later).delivered == 1
    assert receiver.calls == 2 and list(receiver.receipts.values()) == ["receipt-1"]
    assert OutboxMessage.objects.get().receipt["receipt_id"] == "receipt-1"


def test_two_workers_never_send_the_same_message_at_once(
    principal: Principal, destination: Destination
) -> None:
    _queue(principal, destination)
    stale = OutboxMessage.objects.get()
    now = timezone.now()
    assert outbox.claim(stale, now) is True
    assert outbox.claim(stale, now) is False  # the second worker read the same row


def test_queueing_needs_the_permission_and_a_new_report_id(
    principal: Principal, destination: Destination, sender: Agency
) -> None:
    _queue(principal, destination)
    with pytest.raises(services.ReportError, match="queued before"):
        _queue(principal, destination)
    reader = Principal("user", 1, "r", frozenset({"ads:read"}), principal.reach, sender.pk)
    with pytest.raises(PermissionDenied):
        _queue(reader, destination, "rep-2")
    assert OutboxMessage.objects.count() == 1


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(0)
    assert 4 <= outbox.backoff(1, rng) <= 6
    assert outbox.backoff(40, rng) <= outbox.BACKOFF_CAP_SECONDS * 1.2

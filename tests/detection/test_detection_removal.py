"""Removal webhooks: signed calls, retried durably, acted on once at the provider.

The provider here is a real HTTP server on loopback that checks every signature and counts
delivery ids, as a provider's endpoint should. One test kills the sending process in the
middle of a call (the provider has the request, the sender never gets the answer).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from tests.accounts.helpers import make_agency
from tests.nodes import haven, node_env, python

from haven.accounts.permissions import Principal, system_principal
from haven.audit.models import AuditEntry
from haven.detection import removal
from haven.detection.models import HookDelivery, ScannedContent
from haven.detection.services import ContentInfo, scan
from haven.reports.outbox import DeliveryError

SECRET = "synthetic-hook-secret-0123456789"


class Provider(ThreadingHTTPServer):
    """Counts calls and distinct delivery ids; `stall` holds the next answer back."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls = 0
        self.ids: set[str] = set()
        self.bad_signatures = 0
        self.stall = threading.Event()
        self.got_request = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/remove"


class Handler(BaseHTTPRequestHandler):
    server: Provider

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not removal.verify_signature(SECRET.encode(), body, self.headers["Haven-Signature"]):
            self.server.bad_signatures += 1
            self.send_response(401)
            self.end_headers()
            return
        self.server.calls += 1
        self.server.ids.add(self.headers["Haven-Delivery-Id"])
        self.server.got_request.set()
        if self.server.stall.is_set():
            time.sleep(30)  # the sender is killed meanwhile
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_signatures_check_body_secret_and_freshness() -> None:
    body = b'{"event":"remove"}'
    header = removal.sign(SECRET.encode(), body, at=1_000_000)
    assert removal.verify_signature(SECRET.encode(), body, header, now=1_000_100)
    assert not removal.verify_signature(SECRET.encode(), body + b" ", header, now=1_000_100)
    assert not removal.verify_signature(b"another secret", body, header, now=1_000_100)
    assert not removal.verify_signature(SECRET.encode(), body, header, now=1_000_000 + 301)
    assert not removal.verify_signature(SECRET.encode(), body, "t=x,v1=00", now=0)


@pytest.fixture
def system(db: None) -> Principal:
    return system_principal(make_agency("Example Ads (synthetic provider)").pk, "test")


def _held(system: Principal, cid: str = "post-1") -> ScannedContent:
    return scan(
        system, ContentInfo(cid, url="https://example.org/p/1"), {"type": "image", "md5": "0" * 32}
    ).content


@pytest.mark.django_db
def test_a_removal_is_delivered_signed_and_once(system: Principal, provider: Provider) -> None:
    removal.add_hook(system, provider.url, SECRET)
    delivery = removal.request_removal(system, _held(system), "confirmed by a reviewer")
    run = removal.deliver_hooks()
    assert run.delivered == 1 and provider.calls == 1 and provider.bad_signatures == 0
    assert provider.ids == {delivery.delivery_id}
    assert HookDelivery.objects.get().state == "delivered"
    assert removal.deliver_hooks().delivered == 0
    assert AuditEntry.objects.filter(action="detection.removal_requested").count() == 1


@pytest.mark.django_db
def test_failures_retry_and_a_refusal_gives_up(system: Principal) -> None:
    removal.add_hook(system, "https://hooks.example/remove", SECRET)
    removal.request_removal(system, _held(system), "confirmed")

    def down(delivery: HookDelivery) -> None:
        raise DeliveryError("connection refused")

    assert removal.deliver_hooks(call=down).retried == 1
    message = HookDelivery.objects.get()
    assert message.state == "pending" and message.attempts == 1

    def refuses(delivery: HookDelivery) -> None:
        raise DeliveryError("answered 400", retry=False)

    later = timezone.now() + timedelta(hours=2)
    assert removal.deliver_hooks(call=refuses, now=later).failed == 1
    assert HookDelivery.objects.get().state == "failed"
    assert AuditEntry.objects.filter(action="detection.removal_failed").count() == 1


SETUP = """
import sys, django
django.setup()
from haven.accounts.models import Agency
from haven.accounts.permissions import system_principal
from haven.detection import removal
from haven.detection.services import ContentInfo, scan
agency = Agency.objects.create(name="Example Ads (synthetic provider)")
system = system_principal(agency.pk, "test")
removal.add_hook(system, sys.argv[1], sys.argv[2])
content = scan(system, ContentInfo("post-9"), {"type": "image", "md5": "0" * 32}).content
print(removal.request_removal(system, content, "confirmed").delivery_id)
"""

DELIVER = """
import sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from haven.detection import removal
from haven.reports.outbox import CLAIM_SECONDS
now = timezone.now() + timedelta(seconds=CLAIM_SECONDS + 1) if sys.argv[1] == "later" else None
run = removal.deliver_hooks(now=now)
print(run.delivered, run.retried, run.failed)
"""


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_webhook_call_removes_once(
    tmp_path: Path, provider: Provider
) -> None:
    env = node_env(tmp_path / "provider")
    haven(env, "migrate")
    setup = python(env, SETUP, provider.url, SECRET)
    assert setup.returncode == 0, setup.stderr[-2000:]
    delivery_id = setup.stdout.strip()
    provider.stall.set()
    sender = subprocess.Popen([sys.executable, "-c", DELIVER, "now"], env=env)
    assert provider.got_request.wait(60), "the provider never got the call"
    sender.send_signal(signal.SIGKILL)  # in the middle of the call
    sender.wait(timeout=30)
    provider.stall.clear()
    retry = python(env, DELIVER, "later")
    assert retry.returncode == 0 and retry.stdout.split() == ["1", "0", "0"], retry.stderr[-2000:]
    assert provider.calls == 2 and provider.ids == {delivery_id}  # acted on once
    assert provider.bad_signatures == 0
    with sqlite3.connect(tmp_path / "provider" / "haven.sqlite3") as db:
        state, attempts = db.execute(
            "SELECT state, attempts FROM detection_hookdelivery"
        ).fetchone()
    assert (state, attempts) == ("delivered", 2)

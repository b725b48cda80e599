"""A report's files, end to end: sealed at the provider, stored sealed at the authority.

Both sides live in one test database: the provider agency queues and delivers, and the
authority's intake (this same node) receives. The authority's identity is this node's own
signing key, pinned as a PinnedNode as an administrator would pin the real authority's.
The outbox's real HTTP code runs; only `urllib.request.urlopen` is replaced by a stand-in
that hands each request to Django's test client (`Wire`), so the intake's real answers
(201, 200, 400, 404, 409) come back as HTTP statuses. The files are small generated PNGs
of shapes (synthetic).
"""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone
from nacl.signing import SigningKey
from PIL import Image, ImageDraw
from tests.accounts.helpers import make_agency
from tests.reports.reports_helpers import report_doc

from haven.accounts.models import Agency, ApiToken
from haven.accounts.permissions import PermissionDenied, Principal, system_principal
from haven.accounts.roles import Reach
from haven.audit.models import AuditEntry
from haven.exchange.models import PinnedNode
from haven.keys import fingerprint, key_id_of
from haven.reports import outbox, sealing, services
from haven.reports.format import parse_report
from haven.reports.intake import receiving_agency
from haven.reports.intake_files import open_received_file
from haven.reports.models import (
    Destination,
    OutboxMessage,
    OutgoingFile,
    OutgoingReport,
    ReceivedFile,
    ReceivedReport,
)
from haven.reports.sealing import seal_file
from haven.web.node import keyring

pytestmark = pytest.mark.django_db


def png(seed: int) -> bytes:
    """A benign generated image: a rectangle and a circle on a plain background."""
    image = Image.new("RGB", (48, 48), (240, 230, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 20 + seed, 24), fill=(30, 90, 160))
    draw.ellipse((20, 20, 44, 44), fill=(200, 60 + seed, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def listing(file_id: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "name": f"{file_id}.png",
        "size": len(content),
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "viewed_by_provider": False,
        "exif_viewed_by_provider": False,
        "relevance": "reported",
        **extra,
    }


def doc_with(report_id: str, *files: tuple[str, bytes]) -> dict[str, Any]:
    return report_doc(report_id, files=[listing(file_id, content) for file_id, content in files])


class _Answer:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self) -> bytes:
        return self._body


class Wire:
    """`urlopen` for the outbox: each request goes to this node's own URLs in process."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.fail: Callable[[str, str], BaseException | None] = lambda method, path: None

    def __call__(self, request: urllib.request.Request, timeout: float = 0) -> _Answer:
        method, path = request.get_method(), urlsplit(request.full_url).path
        failure = self.fail(method, path)
        if failure is not None:
            self.calls.append((method, path, 0))
            raise failure
        data = request.data if isinstance(request.data, bytes) else b""
        response = Client().generic(
            method,
            path,
            data,
            content_type=request.get_header("Content-type", ""),
            headers={"Authorization": request.get_header("Authorization", "")},
        )
        self.calls.append((method, path, response.status_code))
        if response.status_code >= 400:
            raise urllib.error.HTTPError(
                request.full_url, response.status_code, "error", {}, io.BytesIO(response.content)
            )
        return _Answer(response.content)

    def count(self, method: str, status: int | None = None) -> int:
        return sum(1 for m, _, s in self.calls if m == method and status in (None, s))


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    found = Wire()
    monkeypatch.setattr(urllib.request, "urlopen", found)
    return found


@pytest.fixture
def principal(sender: Agency) -> Principal:
    return system_principal(sender.pk, "test")


@pytest.fixture
def authority_pin(db: None) -> PinnedNode:
    """The authority's identity key as the provider's administrator pinned it: here the
    node's own, since the authority is this node."""
    public = keyring().signing.public_key
    return PinnedNode.objects.create(
        name="National authority (synthetic)",
        public_key=public.hex(),
        key_id=key_id_of(public),
        fingerprint=fingerprint(public),
    )


@pytest.fixture
def token(sender: Agency) -> str:
    """The token the authority issued the provider (its agency stands for the provider)."""
    _, text = ApiToken.issue("Example Ads intake", ["reports:submit"], sender)
    return text


@pytest.fixture
def destination(principal: Principal, authority_pin: PinnedNode, token: str) -> Destination:
    return services.add_destination(
        principal,
        name="National authority",
        url="https://authority.example",
        token=token,
        recipient_key_id=authority_pin.key_id,
    )


def _queue(
    principal: Principal, destination: Destination, report_id: str, *files: tuple[str, bytes]
) -> OutgoingReport:
    return services.queue_report(
        principal, parse_report(doc_with(report_id, *files)), destination, files=list(files)
    )


def _later() -> Any:
    return timezone.now() + timedelta(hours=2)


# --- end to end --------------------------------------------------------------------------


def test_a_file_travels_sealed_and_only_the_authority_opens_it(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    content = png(1)
    queued = _queue(principal, destination, "rep-file-1", ("file-1", content))
    stored = OutgoingFile.objects.get(report=queued)
    ciphertext = bytes(stored.ciphertext)
    assert content not in ciphertext and len(ciphertext) > len(content)
    meta = queued.payload["files"][0]["encrypted_content"]
    assert meta["sha256_of_ciphertext"] == stored.sha256 == hashlib.sha256(ciphertext).hexdigest()
    assert meta["size"] == stored.size == len(ciphertext)
    assert meta["recipient_key_id"] == destination.recipient.key_id == stored.sealed_to

    run = outbox.deliver_due()
    assert (run.delivered, run.retried, run.failed) == (1, 0, 0), run.errors
    assert wire.count("POST", 201) == 1 and wire.count("PUT", 201) == 1
    message = OutboxMessage.objects.get(report=queued)
    assert message.state == "delivered" and message.receipt["report_id"] == "rep-file-1"
    assert OutgoingFile.objects.get(pk=stored.pk).acknowledged_at is not None

    received = ReceivedFile.objects.get()
    assert received.report == ReceivedReport.objects.get(sender_report_id="rep-file-1")
    assert bytes(received.ciphertext) == ciphertext != content  # kept sealed as it came
    assert received.agency == receiving_agency() and received.token is not None
    reviewer = system_principal(receiving_agency().pk, "reviewer")
    assert open_received_file(reviewer, received, reason="triage of rep-file-1") == content
    entry = AuditEntry.objects.get(action="reports.file_open")
    assert entry.detail["file_id"] == "file-1" and entry.outcome == "ok"
    assert AuditEntry.objects.filter(action="reports.intake_file").count() == 1
    assert outbox.deliver_due(now=_later()).delivered == 0  # nothing left to send


def test_opening_a_received_file_needs_the_permission_a_reason_and_reach(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    _queue(principal, destination, "rep-open", ("file-1", png(2)))
    outbox.deliver_due()
    received = ReceivedFile.objects.get()
    home = receiving_agency().pk
    reader = Principal("user", 1, "r", frozenset({"evidence:read"}), Reach.AGENCY, home)
    with pytest.raises(PermissionDenied):
        open_received_file(reader, received, reason="curious")
    viewer = Principal("user", 2, "v", frozenset({"evidence:view"}), Reach.AGENCY, home)
    with pytest.raises(services.ReportError, match="say why"):
        open_received_file(viewer, received, reason="  ")
    elsewhere = make_agency("Another authority (synthetic)").pk
    outsider = Principal("user", 3, "o", frozenset({"evidence:view"}), Reach.AGENCY, elsewhere)
    with pytest.raises(Http404):
        open_received_file(outsider, received, reason="review")
    assert open_received_file(viewer, received, reason="review") == png(2)
    assert AuditEntry.objects.filter(action="reports.file_open").count() == 1


def test_a_damaged_received_file_is_refused_when_opened_and_audited(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    _queue(principal, destination, "rep-damaged", ("file-1", png(3)))
    outbox.deliver_due()
    received = ReceivedFile.objects.get()
    data = bytearray(received.ciphertext)
    data[-5] ^= 0x10
    ReceivedFile.objects.filter(pk=received.pk).update(ciphertext=bytes(data))
    reviewer = system_principal(receiving_agency().pk, "reviewer")
    with pytest.raises(services.ReportError, match="damaged"):
        open_received_file(reviewer, ReceivedFile.objects.get(), reason="review")
    assert AuditEntry.objects.get(action="reports.file_open").outcome == "failed"


def test_a_failed_file_upload_is_retried_and_received_once(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    first, second = png(4), png(5)
    queued = _queue(principal, destination, "rep-retry", ("file-1", first), ("file-2", second))
    wire.fail = lambda method, path: (
        urllib.error.URLError("connection reset") if path.endswith("/file-2") else None
    )
    run = outbox.deliver_due()
    assert (run.delivered, run.retried) == (0, 1) and "connection reset" in run.errors[0]
    message = OutboxMessage.objects.get(report=queued)
    assert message.state == "pending" and message.attempts == 1
    assert ReceivedReport.objects.count() == 1
    assert list(ReceivedFile.objects.values_list("file_id", flat=True)) == ["file-1"]

    wire.fail = lambda method, path: None
    assert outbox.deliver_due(now=_later()).delivered == 1
    assert wire.count("POST", 200) == 1  # the report again: the intake's first receipt
    assert wire.count("PUT", 201) == 2 and wire.count("PUT") == 3  # file-1 once, file-2 twice
    assert sorted(ReceivedFile.objects.values_list("file_id", flat=True)) == ["file-1", "file-2"]
    assert OutboxMessage.objects.get(report=queued).state == "delivered"
    reviewer = system_principal(receiving_agency().pk, "reviewer")
    opened = [open_received_file(reviewer, f, reason="review") for f in ReceivedFile.objects.all()]
    assert opened == [first, second]


def test_a_crash_between_the_report_and_its_files_is_completed_by_the_retry(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    _queue(principal, destination, "rep-crash", ("file-1", png(6)))

    def crash(point: str) -> None:
        if point == "report_sent":
            raise SystemExit("killed after the report was received")

    with pytest.raises(SystemExit):
        outbox.deliver_due(checkpoint=crash)
    assert ReceivedReport.objects.count() == 1 and ReceivedFile.objects.count() == 0
    assert OutboxMessage.objects.get().state == "pending"
    assert outbox.deliver_due(now=_later()).delivered == 1
    assert ReceivedFile.objects.count() == 1


def test_a_crash_after_a_file_was_stored_resends_it_and_gets_200(
    principal: Principal, destination: Destination, wire: Wire
) -> None:
    """The receiver held the file, the sender had not recorded it: the resend is a 200."""
    queued = _queue(principal, destination, "rep-resend", ("file-1", png(7)))

    def crash(point: str) -> None:
        if point == "sent":
            raise SystemExit("killed after everything was answered")

    with pytest.raises(SystemExit):
        outbox.deliver_due(checkpoint=crash)
    OutgoingFile.objects.filter(report=queued).update(acknowledged_at=None)  # lost, too
    assert outbox.deliver_due(now=_later()).delivered == 1
    assert wire.count("PUT", 201) == 1 and wire.count("PUT", 200) == 1
    assert ReceivedFile.objects.count() == 1


def test_a_file_the_authority_cannot_open_is_refused_and_given_up(
    principal: Principal, token: str, wire: Wire
) -> None:
    """A destination pinned to a key that is not the authority's: the intake answers 400,
    which no retry can change, so the message is given up and an administrator alerted."""
    stranger = bytes(SigningKey(hashlib.sha256(b"stranger").digest()).verify_key)
    pin = PinnedNode.objects.create(
        name="Not the authority (synthetic)",
        public_key=stranger.hex(),
        key_id=key_id_of(stranger),
        fingerprint=fingerprint(stranger),
    )
    wrong = services.add_destination(
        principal,
        name="Wrong pin",
        url="https://a.example",
        token=token,
        recipient_key_id=pin.key_id,
    )
    _queue(principal, wrong, "rep-wrong-key", ("file-1", png(8)))
    run = outbox.deliver_due()
    assert run.failed == 1 and "wrong_recipient" in run.errors[0]
    assert OutboxMessage.objects.get().state == "failed" and ReceivedFile.objects.count() == 0
    assert AuditEntry.objects.filter(action="reports.delivery_failed").count() == 1


# --- the intake, request by request ------------------------------------------------------


def _sent_report(intake: Callable[..., Client], report_id: str, content: bytes) -> bytes:
    """Send a report listing one file sealed to this node; its sealed bytes."""
    ring = keyring()
    sealed = seal_file(content, ring.signing.public_key, ring.signing.id)
    doc = report_doc(report_id, files=[listing("file-1", content, encrypted_content=sealed.meta)])
    response = intake().post("/api/v1/intake/reports", doc, content_type="application/json")
    assert response.status_code == 201, response.content
    return sealed.ciphertext


def _put(client: Client, report_id: str, file_id: str, body: bytes) -> Any:
    return client.put(
        f"/api/v1/intake/reports/{report_id}/files/{file_id}",
        body,
        content_type="application/octet-stream",
    )


def test_the_intake_stores_a_file_once_and_refuses_other_bytes(
    intake: Callable[..., Client],
) -> None:
    sealed = _sent_report(intake, "rep-put", png(9))
    client = intake()
    first = _put(client, "rep-put", "file-1", sealed)
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["sha256"] == hashlib.sha256(sealed).hexdigest() and answer["size"] == len(sealed)
    assert answer["duplicate"] is False
    again = _put(client, "rep-put", "file-1", sealed)
    assert again.status_code == 200 and again.json() == {**answer, "duplicate": True}
    other = bytearray(sealed)
    other[-1] ^= 1
    conflict = _put(client, "rep-put", "file-1", bytes(other))
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "file_conflict"
    assert ReceivedFile.objects.count() == 1
    assert bytes(ReceivedFile.objects.get().ciphertext) == sealed


def test_bytes_that_are_not_the_declared_ones_are_refused_and_nothing_stored(
    intake: Callable[..., Client],
) -> None:
    sealed = _sent_report(intake, "rep-bad", png(10))
    client = intake()
    changed = bytearray(sealed)
    changed[200] ^= 1
    response = _put(client, "rep-bad", "file-1", bytes(changed))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "wrong_content" and "SHA-256" in error["message"]
    short = _put(client, "rep-bad", "file-1", sealed[:-1])
    assert short.status_code == 400 and short.json()["error"]["code"] == "wrong_content"
    longer = _put(client, "rep-bad", "file-1", sealed + b"extra")
    assert longer.status_code == 413 and "declares" in longer.json()["error"]["message"]
    assert ReceivedFile.objects.count() == 0
    assert AuditEntry.objects.filter(action="reports.intake_file").count() == 0


def test_a_sender_reaches_only_its_own_reports_and_their_listed_files(
    intake: Callable[..., Client],
) -> None:
    sealed = _sent_report(intake, "rep-own", png(11))
    other = intake(of=make_agency("Another provider (synthetic)"))
    hidden = _put(other, "rep-own", "file-1", sealed)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "no_such_report"
    unlisted = _put(intake(), "rep-own", "file-9", sealed)
    assert unlisted.status_code == 404 and unlisted.json()["error"]["code"] == "no_such_file"
    without = intake().post(
        "/api/v1/intake/reports",
        doc_with("rep-plain", ("file-1", png(11))),
        content_type="application/json",
    )
    assert without.status_code == 201
    plain = _put(intake(), "rep-plain", "file-1", sealed)
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "not_encrypted"
    assert _put(intake(scopes=["match"]), "rep-own", "file-1", sealed).status_code == 403
    assert ReceivedFile.objects.count() == 0


def test_a_file_sealed_to_another_key_is_refused_at_the_intake(
    intake: Callable[..., Client],
) -> None:
    content = png(12)
    stranger = bytes(SigningKey(hashlib.sha256(b"another node").digest()).verify_key)
    sealed = seal_file(content, stranger, key_id_of(stranger))
    doc = report_doc("rep-other-key", files=[listing("f", content, encrypted_content=sealed.meta)])
    sent = intake().post("/api/v1/intake/reports", doc, content_type="application/json")
    assert sent.status_code == 201
    response = _put(intake(), "rep-other-key", "f", sealed.ciphertext)
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_recipient"
    assert ReceivedFile.objects.count() == 0


# --- queueing ----------------------------------------------------------------------------


def test_files_need_a_pinned_unrevoked_recipient(
    principal: Principal, authority_pin: PinnedNode, token: str
) -> None:
    bare = services.add_destination(
        principal, name="No recipient", url="https://a.example", token=token
    )
    with pytest.raises(services.ReportError, match="no recipient key"):
        _queue(principal, bare, "rep-a", ("file-1", png(13)))
    _queue(principal, bare, "rep-b")  # without files a recipient is not needed
    pinned = services.add_destination(
        principal,
        name="Pinned",
        url="https://a.example",
        token=token,
        recipient_key_id=authority_pin.key_id,
    )
    PinnedNode.objects.filter(pk=authority_pin.pk).update(revoked_at=timezone.now())
    with pytest.raises(services.ReportError, match="revoked"):
        _queue(principal, Destination.objects.get(pk=pinned.pk), "rep-c", ("file-1", png(13)))
    with pytest.raises(services.ReportError, match="revoked"):
        services.add_destination(
            principal,
            name="Late",
            url="https://a.example",
            token=token,
            recipient_key_id=authority_pin.key_id,
        )
    with pytest.raises(services.ReportError, match="no pinned node"):
        services.add_destination(
            principal,
            name="Unknown",
            url="https://a.example",
            token=token,
            recipient_key_id="f" * 16,
        )
    assert list(OutgoingReport.objects.values_list("report_id", flat=True)) == ["rep-b"]
    assert OutgoingFile.objects.count() == 0


def test_queued_files_must_be_the_listed_ones(
    principal: Principal, destination: Destination
) -> None:
    content = png(14)
    report = parse_report(doc_with("rep-list", ("file-1", content)))
    with pytest.raises(services.ReportError, match="not listed"):
        services.queue_report(principal, report, destination, files=[("file-2", content)])
    with pytest.raises(services.ReportError, match="md5, sha256 differ"):
        services.queue_report(principal, report, destination, files=[("file-1", png(15))])
    with pytest.raises(services.ReportError, match="given twice"):
        services.queue_report(
            principal, report, destination, files=[("file-1", content), ("file-1", content)]
        )
    assert OutgoingReport.objects.count() == 0 and OutboxMessage.objects.count() == 0
    stale = {"algorithm": sealing.ALGORITHM, "recipient_key_id": "ab" * 8}
    stale |= {"sha256_of_ciphertext": "0" * 64, "size": 99}
    doc = report_doc("rep-stale", files=[listing("file-1", content, encrypted_content=stale)])
    queued = services.queue_report(principal, parse_report(doc), destination)
    assert "encrypted_content" not in queued.payload["files"][0]  # no bytes will follow


def test_one_report_goes_to_the_authority_and_to_ncmec_in_one_transaction(
    principal: Principal, destination: Destination, token: str
) -> None:
    ncmec = services.add_destination(
        principal,
        name="NCMEC",
        url="https://report.cybertip.example",
        token="synthetic-credential",
        kind="cybertipline",
    )
    bare = services.add_destination(principal, name="Bare", url="https://b.example", token=token)
    content = png(16)
    report = parse_report(doc_with("rep-both", ("file-1", content)))
    files = [("file-1", content)]
    with pytest.raises(services.ReportError, match="no recipient key"):
        services.queue_report_to(principal, report, [ncmec, bare], files)
    assert OutgoingReport.objects.count() == 0  # all or none

    to_authority, to_ncmec = services.queue_report_to(
        principal, report, [destination, ncmec], files
    )
    assert OutboxMessage.objects.count() == 2 and OutgoingFile.objects.count() == 2
    assert "encrypted_content" in to_authority.payload["files"][0]
    assert "encrypted_content" not in to_ncmec.payload["files"][0]
    kept = OutgoingFile.objects.get(report=to_ncmec)
    assert content not in bytes(kept.ciphertext)  # encrypted at rest, to this node's key
    assert kept.sealed_to == keyring().signing.id
    (upload,) = outbox.files_for_cybertipline(to_ncmec)
    assert (upload.file_id, upload.name, upload.content) == ("file-1", "file-1.png", content)

    with pytest.raises(services.ReportError, match="queued before"):
        services.queue_report(principal, report, ncmec, files)
    with pytest.raises(services.ReportError, match="named twice"):
        services.queue_report_to(principal, report, [bare, bare])
    assert services.queue_report(principal, report, bare).destination == bare  # a third one


def test_a_damaged_cybertipline_file_is_given_up_not_uploaded(
    principal: Principal, destination: Destination
) -> None:
    ncmec = services.add_destination(
        principal, name="NCMEC", url="https://c.example", token="x", kind="cybertipline"
    )
    content = png(17)
    queued = services.queue_report(
        principal, parse_report(doc_with("rep-ct", ("file-1", content))), ncmec
    )
    assert outbox.files_for_cybertipline(queued) == []  # listed, but its bytes not sent
    queued = services.queue_report(
        principal,
        parse_report(doc_with("rep-ct2", ("file-1", content))),
        ncmec,
        [("file-1", content)],
    )
    stored = OutgoingFile.objects.get(report=queued)
    data = bytearray(stored.ciphertext)
    data[-3] ^= 1
    OutgoingFile.objects.filter(pk=stored.pk).update(ciphertext=bytes(data))
    with pytest.raises(outbox.DeliveryError, match="damaged") as caught:
        outbox.files_for_cybertipline(queued)
    assert caught.value.retry is False


def test_the_command_adds_a_destination_with_its_recipient(
    authority_pin: PinnedNode, tmp_path: Any
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    token_file = tmp_path / "token"
    token_file.write_text("hvn_0123456789abcdef_secret\n")
    out = io.StringIO()
    base = ["reports", "destination", "authority", "https://a.example", "--token-file"]
    call_command(*base, str(token_file), "--recipient", authority_pin.key_id, stdout=out)
    assert f"files sealed to {authority_pin.key_id}" in out.getvalue()
    assert Destination.objects.get(name="authority").recipient == authority_pin
    with pytest.raises(CommandError, match="no pinned node"):
        call_command(*base[:2], "other", base[3], base[4], str(token_file), "--recipient", "ab")

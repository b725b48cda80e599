"""Issue 4 end to end on loopback: a provider node and an authority node, real HTTP between them.

The provider is this test's live server (its pages driven in Chromium, its API called over
HTTP); the authority is a second Haven node in its own process and data folder, serving its
intake. Known material is stood in for by generated pictures and clips of shapes (no
people). The chain, for an image and then for a short video:

1. the known item is banked on the provider; an edited copy is scanned through the API
   with its file: held;
2. a provider analyst reviews it in Chromium: blurred preview, reveal (the exact bytes),
   confirm;
3. the file is preserved encrypted (the vault's file does not hold it);
4. the report is sent from its draft page and delivered with its file sealed to the
   authority's pinned key; the authority holds it and opens it to the same bytes;
5. the removal webhook is called, signed; the re-upload of another copy is blocked, and
   recorded as an automatic confirmation whose draft report says nobody viewed it;
6. a bank entry added afterwards retroactively holds content scanned earlier.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.accounts.helpers import make_agency
from tests.browser.flows import person, sign_in
from tests.browser.tab import Tab
from tests.detection.test_detection_decisions import _bank_video as bank_video
from tests.detection.test_detection_decisions import clip, edited, jpeg, picture
from tests.nodes import haven, node_env, python, serving

from haven.accounts.models import ApiToken
from haven.accounts.permissions import system_principal
from haven.accounts.roles import Role
from haven.banks import services as banks
from haven.banks.matcher import matcher, reset_matcher
from haven.detection.models import Review, ScannedContent
from haven.detection.removal import add_hook, deliver_hooks, verify_signature
from haven.detection.retro import follow
from haven.evidence.models import EvidenceItem
from haven.evidence.services import vault
from haven.exchange.models import PinnedNode
from haven.keys.keyring import fingerprint
from haven.media.pdq import hash_image
from haven.reports import outbox
from haven.reports import services as reports
from haven.reports.models import OutboxMessage
from haven.scan.batch import ScanOptions, hash_file

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROVIDER = "Example Photos (synthetic provider)"
HOOK_SECRET = "synthetic-hook-secret-0001"

OPEN_ON_AUTHORITY = """
import hashlib, sys
import django
django.setup()
from haven.accounts.permissions import system_principal
from haven.reports.intake_files import open_received_file
from haven.reports.models import ReceivedFile
for stored in ReceivedFile.objects.filter(report__sender_report_id=sys.argv[1]):
    data = open_received_file(system_principal(stored.agency_id, "e2e"), stored, reason="e2e")
    print(stored.file_id, len(bytes(stored.ciphertext)), hashlib.sha256(data).hexdigest())
"""


@dataclass
class Authority:
    url: str
    folder: Path
    env: dict[str, str]
    token: str
    public_key: str
    key_id: str


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authority]:
    folder = tmp_path_factory.mktemp("authority")
    env = node_env(folder)
    haven(env, "migrate")
    token = haven(
        env, "token", "create", "provider intake", "--scope", "reports:submit", "--agency", PROVIDER
    ).strip()
    keys = json.loads(haven(env, "keys", "show", "--json"))["signing_key"]
    with serving(env) as url:
        yield Authority(url, folder, env, token, keys["public_key"], keys["id"])


@dataclass
class Hooks:
    """The provider's removal endpoint: records each signed call it gets."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    seen = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if verify_signature(HOOK_SECRET.encode(), body, self.headers["Haven-Signature"]):
                seen.calls.append(json.loads(body))
                self.send_response(200)
            else:
                seen.bad_signatures += 1
                self.send_response(401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen, f"http://127.0.0.1:{server.server_address[1]}/remove"
    finally:
        server.shutdown()
        server.server_close()


def _multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "haven-e2e-boundary-7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def _scan(base: str, token: str, content_id: str, name: str, data: bytes) -> dict[str, Any]:
    """POST /api/v1/scan with the file, as a provider's upload pipeline does."""
    content = {
        "content_id": content_id,
        "uploader_account": f"acct-{content_id}",
        "uploader_name": "Synthetic Uploader",
        "ip": "192.0.2.44",
        "uploaded_at": "2026-12-02T09:00:00+00:00",
        "url": f"https://photos.example/p/{content_id}",
        "surface": "public_post",
    }
    body, boundary = _multipart({"content": json.dumps(content)}, name, data)
    request = urllib.request.Request(
        f"{base}/api/v1/scan",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return dict(json.loads(answer.read()))


def _received(folder: Path, report_id: str) -> list[str]:
    with sqlite3.connect(folder / "haven.sqlite3") as db:
        rows = db.execute(
            "SELECT receipt_id FROM reports_receivedreport WHERE sender_report_id = ?",
            (report_id,),
        ).fetchall()
    return [row[0] for row in rows]


def _review_in_browser(tab: Tab, review: Review, original: bytes, *, video: bool) -> None:
    """Blurred preview, an audited reveal, then a confirmation, all through the pages."""
    page = tab.page
    tab.goto(f"/provider/review/{review.pk}/")
    if video:
        assert page.locator("video").count() == 0  # a strip of blurred frames, never a player
        assert page.locator(".video-strip img.blurred-preview").count() >= 2
    else:
        assert page.locator("img.blurred-preview").count() == 1
    for response in tab.responses:
        assert original not in response.body, f"{response.url} carried the original"
    with page.expect_navigation():
        page.get_by_role("button", name="Reveal (r)").click()
    shown = page.locator("#review-revealed-image")
    shown.wait_for()
    file_url = shown.get_attribute("src") or ""
    answer = page.request.get(tab.url(file_url))
    assert answer.status == 200
    if not video:  # a video's reveal is a sheet of its key frames, not the file
        assert hashlib.sha256(answer.body()).hexdigest() == hashlib.sha256(original).hexdigest()
    page.check("#confirm-B2")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm", exact=True).click()
    review.refresh_from_db()
    assert review.state == "confirmed" and review.viewed and review.classification == "B2"


def _send_from_draft(tab: Tab, review: Review, destination_pk: int) -> str:
    page = tab.page
    tab.goto(f"/provider/reports/{review.pk}/")
    page.check(f"#destination-{destination_pk}")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").click()
    review.refresh_from_db()
    assert review.report_id, page.content()[:2000]
    return review.report_id


def test_an_upload_goes_from_match_to_report_to_removal_image_and_video(
    tab: Tab, live_server: Any, authority: Authority, hooks: tuple[Hooks, str], tmp_path: Path
) -> None:
    reset_matcher()
    with urllib.request.urlopen(live_server.url + "/healthz", timeout=120):
        pass  # the live server's first (slow) request, outside the page's timeout
    seen, hook_url = hooks
    agency = make_agency(PROVIDER)
    user, device = person(Role.PROVIDER_ANALYST, "pat-provider")
    user.agency = agency
    user.save()
    system = system_principal(agency.pk, "e2e")
    add_hook(system, hook_url, HOOK_SECRET)
    public = bytes.fromhex(authority.public_key)
    pin = PinnedNode.objects.create(
        name="National authority (synthetic)",
        public_key=authority.public_key,
        key_id=authority.key_id,
        fingerprint=fingerprint(public),
    )
    destination = reports.add_destination(
        system,
        name="National authority",
        url=authority.url,
        token=authority.token,
        recipient_key_id=pin.key_id,
    )
    _, scan_token = ApiToken.issue("upload pipeline", ["scan"], agency)
    base = live_server.url

    # Earlier uploads nothing matched yet (for the retroactive step at the end).
    early_image = _scan(base, scan_token, "early-image", "early.jpg", edited(picture(9)))
    early_video = _scan(
        base, scan_token, "early-video", "early.mp4", clip(tmp_path / "e.mp4", seed=8, brighten=8)
    )
    assert early_image["decision"] == early_video["decision"] == "allow"

    # 1. Known items banked; edited copies scanned with their files: held.
    known = banks.create_bank(system, name="Known (benign stand-ins)")
    banks.add_entry(
        system,
        known,
        signal_type="pdq",
        hash_hex=hash_image(jpeg(picture(1))).pdq.hash.hex(),
        external_id="known-image-1",
    )
    known_clip = tmp_path / "known.mp4"
    clip(known_clip)
    frames = [
        (int(f[1]), bytes.fromhex(f[2])) for f in hash_file(known_clip, ScanOptions())["frames"]
    ]
    banks.add_video_entry(system, known, frames=frames, external_id="known-video-1")
    matcher().sync(force=True)
    follow()  # the rematch cursor starts after the known items

    sign_in(tab, user, device)
    for kind, name, data in (
        ("image", "copy.jpg", edited(picture(1))),
        ("video", "copy.mp4", clip(tmp_path / "copy.mp4", brighten=10)),
    ):
        answer = _scan(base, scan_token, f"held-{kind}", name, data)
        assert answer["decision"] == "hold" and answer["review"] is True, answer
        content = ScannedContent.objects.get(agency=agency, content_id=f"held-{kind}")
        review = Review.objects.get(content=content)

        # 2. Reviewed in Chromium.
        _review_in_browser(tab, review, data, video=kind == "video")

        # 3. Preserved encrypted: the vault's file is not the upload.
        evidence = EvidenceItem.objects.get(pk=review.evidence_id)
        sealed = vault().path(evidence.blob_id).read_bytes()
        assert (
            data not in sealed
            and data[:64] not in sealed
            and evidence.sha256 == hashlib.sha256(data).hexdigest()
        )

        # 4. Reported with its file sealed to the authority; the authority opens it.
        report_id = _send_from_draft(tab, review, destination.pk)
        run = outbox.deliver_due()
        assert run.delivered == 1, run.errors
        message = OutboxMessage.objects.get(report__report_id=report_id)
        assert message.state == "delivered" and message.receipt["receipt_id"] in _received(
            authority.folder, report_id
        )
        opened = python(authority.env, OPEN_ON_AUTHORITY, report_id)
        assert opened.returncode == 0, opened.stderr[-2000:]
        ((_, sealed_size, digest),) = [line.split() for line in opened.stdout.splitlines()]
        assert digest == hashlib.sha256(data).hexdigest() and int(sealed_size) > len(data)

        # 5. Removed through the signed webhook; another copy is blocked at upload.
        deliver_hooks()
        assert any(c["event"] == "remove" and c["content_id"] == f"held-{kind}" for c in seen.calls)
        assert seen.bad_signatures == 0
        content.refresh_from_db()
        assert content.removed_at is not None
        matcher().sync(force=True)
        if kind == "image":
            again = jpeg(picture(1), quality=60)
        else:
            again = clip(tmp_path / "again.mp4", brighten=-10, size=(144, 108))
        blocked = _scan(base, scan_token, f"again-{kind}", name, again)
        assert blocked["decision"] == "block" and blocked["review"] is False, blocked
        automatic = Review.objects.get(content__content_id=f"again-{kind}")  # no second look
        assert (
            automatic.state == "confirmed"
            and automatic.report_draft["files"][0]["viewed_by_provider"] is False
        )

    # 6. Entries added afterwards hold the earlier uploads they match.
    late = banks.create_bank(system, name="Late list (benign stand-ins)")
    banks.add_entry(
        system,
        late,
        signal_type="pdq",
        hash_hex=hash_image(jpeg(picture(9))).pdq.hash.hex(),
        external_id="late-image",
    )
    bank_video(system, late, clip(tmp_path / "late.mp4", seed=8), "late-video")
    run = follow()
    held = set(ScannedContent.objects.filter(pk__in=run.held).values_list("content_id", flat=True))
    assert held == {"early-image", "early-video"}
    assert Review.objects.filter(content__content_id__in=held, state="pending").count() == 2

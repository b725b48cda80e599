"""`POST /api/v1/scan` and `/scan/batch`: decisions, matches, kept hashes, idempotency.

Banked "known" items are benign generated pictures and random hashes; the upload test
draws shapes with Pillow and scans a rotated copy of a banked picture.
"""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageDraw
from tests.accounts.helpers import make_agency, token_client
from tests.banks.helpers import flip_bits

from haven.accounts.models import Agency
from haven.accounts.permissions import system_principal
from haven.banks import services as banks
from haven.banks.models import Bank
from haven.detection.models import ScannedContent
from haven.media.pdq import hash_image

pytestmark = pytest.mark.django_db

RNG = random.Random(7)
KNOWN = RNG.randbytes(32)
MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Example Ads (synthetic provider)")


@pytest.fixture
def bank(agency: Agency) -> Bank:
    system = system_principal(agency.pk, "test")
    found = banks.create_bank(system, name="Known (benign stand-ins)", threshold=31)
    banks.add_entry(
        system,
        found,
        signal_type="pdq",
        hash_hex=KNOWN.hex(),
        external_id="k1",
        classification="A2",
    )
    banks.add_entry(system, found, signal_type="md5", hash_hex=MD5, external_id="k2")
    return found


def client(agency: Agency, scopes: list[str] | None = None) -> Client:
    return token_client(agency, scopes or ["scan"])


def post(c: Client, path: str, body: Any) -> Any:
    return c.post(path, json.dumps(body), content_type="application/json")


def content(cid: str, **extra: Any) -> dict[str, Any]:
    return {
        "content_id": cid,
        "surface": "public_post",
        "uploader_account": "acct-1",
        "ip": "192.0.2.10",
        **extra,
    }


def test_a_near_copy_of_a_banked_hash_is_held_with_its_match(agency: Agency, bank: Bank) -> None:
    near = flip_bits(KNOWN, 12, RNG).hex()
    response = post(
        client(agency), "/api/v1/scan", {"content": content("c1"), "hashes": {"pdq": near}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decision"] == "hold" and body["duplicate"] is False
    (match,) = body["matches"]
    assert match["external_id"] == "k1" and match["distance"] == 12 and match["status"] == "match"
    stored = ScannedContent.objects.get(content_id="c1")
    assert stored.hashes["pdq"] == near and stored.ip == "192.0.2.10"
    assert stored.decision == "hold" and stored.surface == "public_post"


def test_every_field_of_a_scan_is_stored_and_read_back_as_sent(agency: Agency, bank: Bank) -> None:
    from datetime import UTC, datetime

    from haven.detection.models import ScanHash

    near = flip_bits(KNOWN, 5, RNG).hex()
    sent = content(
        "c-all",
        uploader_name="Example Name (synthetic)",
        uploaded_at="2026-11-30T08:15:00Z",
        url="https://video.example/v/c-all",
        ip="2001:db8::7",
    )
    md5 = RNG.randbytes(16).hex()
    response = post(
        client(agency), "/api/v1/scan", {"content": sent, "hashes": {"pdq": near, "md5": md5}}
    )
    assert response.status_code == 200, response.content
    stored = ScannedContent.objects.get(content_id="c-all")
    assert stored.agency_id == agency.pk
    assert stored.scanned_at.isoformat() == response.json()["scanned_at"]
    assert (
        stored.uploader_name == "Example Name (synthetic)" and stored.uploader_account == "acct-1"
    )
    assert stored.uploaded_at == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    assert stored.url == "https://video.example/v/c-all" and stored.ip == "2001:db8::7"
    assert stored.media == "image" and stored.decision == "hold" and stored.scanned_by
    assert stored.matches[0]["external_id"] == "k1" and stored.policy["decision"] == "hold"
    assert stored.hashes == {"type": "image", "pdq": near, "dihedral": [near], "md5": md5}
    rows = {(r.signal, bytes(r.hash)) for r in ScanHash.objects.filter(content=stored)}
    assert rows == {("pdq", bytes.fromhex(near)), ("md5", bytes.fromhex(md5))}


def test_no_match_is_allowed_and_md5_matches_exactly(agency: Agency, bank: Bank) -> None:
    c = client(agency)
    far = post(
        c, "/api/v1/scan", {"content": content("c2"), "hashes": {"pdq": RNG.randbytes(32).hex()}}
    )
    assert far.json()["decision"] == "allow" and far.json()["matches"] == []
    exact = post(c, "/api/v1/scan", {"content": content("c3"), "hashes": {"md5": MD5.upper()}})
    assert exact.json()["decision"] == "hold"
    assert exact.json()["matches"][0]["signal_type"] == "md5"


def test_a_repeated_content_id_gets_the_stored_answer_or_a_conflict(
    agency: Agency, bank: Bank
) -> None:
    c = client(agency)
    body = {"content": content("c4"), "hashes": {"pdq": KNOWN.hex()}}
    first = post(c, "/api/v1/scan", body).json()
    again = post(c, "/api/v1/scan", body).json()
    assert again == {**first, "duplicate": True}
    other = post(c, "/api/v1/scan", {"content": content("c4"), "hashes": {"md5": MD5}})
    assert other.status_code == 409 and other.json()["error"]["code"] == "content_id_reused"
    assert ScannedContent.objects.filter(content_id="c4").count() == 1


def test_an_allow_list_match_lets_content_through(agency: Agency, bank: Bank) -> None:
    system = system_principal(agency.pk, "test")
    allow = banks.create_bank(system, name="Benign allow-list", is_allow_list=True)
    banks.add_entry(system, allow, signal_type="pdq", hash_hex=KNOWN.hex(), external_id="ok")
    body = post(
        client(agency), "/api/v1/scan", {"content": content("c5"), "hashes": {"pdq": KNOWN.hex()}}
    ).json()
    assert body["decision"] == "allow"
    assert {m["status"] for m in body["matches"]} == {"suppressed", "allow-list"}


def _shapes(angle: int = 0) -> bytes:
    image = Image.new("RGB", (320, 240), (245, 240, 225))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        draw.rectangle((15 + i * 50, 20, 45 + i * 50, 220), fill=(40 * i, 90, 200 - 25 * i))
    draw.ellipse((90, 50, 250, 200), fill=(210, 70, 40))
    out = io.BytesIO()
    image.rotate(angle, expand=True).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_rotated_copy_of_a_banked_picture_is_held(agency: Agency) -> None:
    system = system_principal(agency.pk, "test")
    known = banks.create_bank(system, name="Known pictures (benign)")
    picture = hash_image(_shapes())
    banks.add_entry(
        system, known, signal_type="pdq", hash_hex=picture.pdq.hex, external_id="shapes"
    )
    upload = SimpleUploadedFile("copy.png", _shapes(90), content_type="image/png")
    response = client(agency).post(
        "/api/v1/scan", {"file": upload, "content": json.dumps(content("u1", surface="profile"))}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decision"] == "hold"
    assert any(m["external_id"] == "shapes" and m["via"] != "pdq" for m in body["matches"])
    stored = ScannedContent.objects.get(content_id="u1")
    assert (
        stored.media == "image"
        and len(stored.hashes["dihedral"]) == 8
        and "path" not in stored.hashes
    )


def test_a_corrupt_upload_is_a_clear_400(agency: Agency) -> None:
    upload = SimpleUploadedFile("broken.jpg", b"\xff\xd8\xff not really a jpeg")
    response = client(agency).post(
        "/api/v1/scan", {"file": upload, "content": json.dumps(content("u2"))}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_media"
    assert not ScannedContent.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": content("b1"), "hashes": {"pdq": "xyz"}}, "hashes.pdq"),
        ({"content": content("b2"), "hashes": {"md5": "00"}}, "hashes.md5"),
        ({"content": content("b3"), "hashes": {}}, "hashes"),
        ({"content": content("b4", ip="not-an-ip"), "hashes": {"md5": MD5}}, "content.ip"),
        ({"content": content("b5"), "hashes": {"frames": [["ab" * 32, 101]]}}, "hashes.frames[0]"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    agency: Agency, body: dict[str, Any], field: str
) -> None:
    response = post(client(agency), "/api/v1/scan", body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"][0]["field"] == field
    assert not ScannedContent.objects.exists()


def test_the_batch_answers_each_item(agency: Agency, bank: Bank) -> None:
    items = [
        {"content": content("a"), "hashes": {"pdq": KNOWN.hex()}},
        {"content": content("b"), "hashes": {"pdq": RNG.randbytes(32).hex()}},
        {"content": content("c"), "hashes": {"md5": MD5}},
    ]
    results = post(client(agency), "/api/v1/scan/batch", {"items": items}).json()["results"]
    assert [(r["content_id"], r["decision"]) for r in results] == [
        ("a", "hold"),
        ("b", "allow"),
        ("c", "hold"),
    ]
    too_many = [{"content": content(f"x{k}"), "hashes": {"md5": MD5}} for k in range(101)]
    assert post(client(agency), "/api/v1/scan/batch", {"items": too_many}).status_code == 400


def test_scanning_needs_the_scope_and_sees_only_its_agencys_banks(
    agency: Agency, bank: Bank
) -> None:
    body = {"content": content("s1"), "hashes": {"pdq": KNOWN.hex()}}
    assert post(client(agency, ["match"]), "/api/v1/scan", body).status_code == 403
    other = make_agency("Another provider (synthetic)")
    answer = post(client(other), "/api/v1/scan", body).json()
    assert answer["decision"] == "allow" and answer["matches"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/scan", {"content": content("nul\x00id"), "hashes": {"md5": MD5}}),
        (
            "/api/v1/scan",
            {"content": content("c-n", uploader_name="a\x00b"), "hashes": {"md5": MD5}},
        ),
        (
            "/api/v1/scan",
            {"content": content("c-n", url="https://x.example/\x1b"), "hashes": {"md5": MD5}},
        ),
        ("/api/v1/scan/decision", {"content_id": "nul\x00id"}),
        ("/api/v1/scan/appeal", {"content_id": "nul\x00id", "statement": "synthetic appeal"}),
        ("/api/v1/scan/appeal", {"content_id": "c-n", "statement": "synthetic\x00 appeal"}),
    ],
)
def test_control_characters_are_a_clear_400_and_nothing_is_kept(
    agency: Agency, bank: Bank, path: str, body: dict[str, Any]
) -> None:
    response = post(client(agency), path, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"]
    assert not ScannedContent.objects.exists()

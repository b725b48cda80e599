"""The bank pages and the match debugger's lookups, through the test client.

Every image here is generated (haven.synth); hashes are made by the engine, as an upload's
would be. Out-of-reach banks must answer 404 and missing permissions 403, every change must
leave an audit entry, and bad input a clear message on the page, never a 500.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from tests.accounts.helpers import make_user, signed_in_client

from haven.accounts.models import User
from haven.accounts.permissions import Principal, principal_for_user
from haven.audit.models import AuditEntry
from haven.banks import services
from haven.banks.forms import DebuggerHashForm
from haven.banks.matcher import matcher, reset_matcher
from haven.banks.models import Bank, BankEntry
from haven.media.pdq import hash_image
from haven.synth.images import encode_jpeg, generated_images

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    """Each test's database starts empty: the process's matcher must not remember others,
    nor the debugger folder other tests' uploads."""
    reset_matcher()
    folder = settings.HAVEN.media_dir / "debugger"
    for path in folder.glob("*") if folder.is_dir() else []:
        path.unlink()
    yield
    reset_matcher()


def principal(user: User) -> Principal:
    found = principal_for_user(user)
    assert found is not None
    return found


def analyst(agency: str | None = None) -> User:
    return make_user("authority_analyst", agency=agency)


def login(user: User, *, csrf: bool = False) -> Client:
    return signed_in_client(Client(enforce_csrf_checks=csrf), user)


def a_bank(user: User, name: str = "Hotline list", **options: Any) -> Bank:
    return services.create_bank(principal(user), name=name, **options)


def an_entry(user: User, bank: Bank, external_id: str, hash_hex: str, **options: Any) -> BankEntry:
    return services.add_entry(
        principal(user), bank, signal_type="pdq", hash_hex=hash_hex, external_id=external_id,
        **options,
    )  # fmt: skip


def random_pdq(seed: int) -> str:
    return np.random.default_rng(seed).integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def flip_bits(hex_hash: str, count: int) -> str:
    value = bytearray(bytes.fromhex(hex_hash))
    for bit in range(count):
        value[bit // 8] ^= 0x80 >> (bit % 8)
    return value.hex()


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def page(response: Any) -> str:
    return str(response.content.decode())


# --- list and detail ---------------------------------------------------------------------


def test_list_shows_banks_within_reach_with_their_counts() -> None:
    mine, theirs = analyst(), analyst(agency="Another agency")
    bank = a_bank(mine, "Ours", source="National hotline", threshold=20, is_allow_list=True)
    an_entry(mine, bank, "e1", random_pdq(1))
    services.add_entry(principal(mine), bank, signal_type="md5", hash_hex="0" * 32)
    a_bank(theirs, "Theirs")

    response = login(mine).get(reverse("banks:list"))

    html = page(response)
    assert response.status_code == 200
    assert "Ours" in html and "Theirs" not in html
    assert "National hotline" in html
    assert "PDQ 1" in html and "MD5 1" in html
    assert 'role="search"' in html and 'name="q"' in html


def test_list_search_filters_by_name_description_and_source() -> None:
    user = analyst()
    a_bank(user, "Alpha list", source="Hotline A")
    a_bank(user, "Beta list", description="from the focal point")
    client = login(user)

    assert "Beta list" not in page(client.get(reverse("banks:list"), {"q": "alpha"}))
    assert "Alpha list" in page(client.get(reverse("banks:list"), {"q": "hotline a"}))
    found = page(client.get(reverse("banks:list"), {"q": "focal"}))
    assert "Beta list" in found and "Alpha list" not in found
    assert "No bank matches" in page(client.get(reverse("banks:list"), {"q": "gamma"}))


def test_detail_searches_entries_by_id_and_hash_prefix_and_filters_by_state() -> None:
    user = analyst()
    bank = a_bank(user)
    first = an_entry(user, bank, "first-entry", "ab" + "00" * 31)
    an_entry(user, bank, "second-entry", "ac" + "11" * 31)
    third = an_entry(user, bank, "third-entry", "abc" + "2" * 61)
    services.set_entry_enabled(principal(user), third, False)
    client = login(user)
    url = reverse("banks:detail", args=[bank.pk])

    everything = page(client.get(url))
    assert all(name in everything for name in ("first-entry", "second-entry", "third-entry"))
    by_id = page(client.get(url, {"q": "second"}))
    assert "second-entry" in by_id and "first-entry" not in by_id
    by_prefix = page(client.get(url, {"q": "AB"}))
    assert "first-entry" in by_prefix and "third-entry" in by_prefix
    assert "second-entry" not in by_prefix
    odd_prefix = page(client.get(url, {"q": "abc"}))
    assert "third-entry" in odd_prefix and "first-entry" not in odd_prefix
    disabled = page(client.get(url, {"state": "disabled"}))
    assert "third-entry" in disabled and "first-entry" not in disabled
    enabled = page(client.get(url, {"state": "enabled", "q": "ab"}))
    assert "first-entry" in enabled and "third-entry" not in enabled
    assert first.hex in everything


def test_detail_pages_entries_fifty_at_a_time() -> None:
    user = analyst()
    bank = a_bank(user)
    text = "".join(f"{random_pdq(seed)}\n" for seed in range(60))
    result = services.import_hash_list(principal(user), bank, text, "sixty.txt", format="plain")
    assert result.added == 60
    client = login(user)
    url = reverse("banks:detail", args=[bank.pk])

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10
    assert "Page 1 of 2" in page(first) and "?page=2" in page(first)


def test_a_bank_of_another_agency_answers_404_everywhere() -> None:
    other = a_bank(analyst(agency="Another agency"), "Not yours")
    entry = an_entry(User.objects.get(pk=other.owner_id), other, "x", random_pdq(3))
    client = login(analyst())

    for name in ("banks:detail", "banks:edit", "banks:import", "banks:export"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404, name
    assert (
        client.post(reverse("banks:toggle", args=[other.pk]), {"enabled": "0"}).status_code == 404
    )
    toggle = reverse("banks:entry-toggle", args=[other.pk, entry.pk])
    assert client.post(toggle, {"enabled": "0"}).status_code == 404
    other.refresh_from_db()
    entry.refresh_from_db()
    assert other.enabled and entry.enabled


def test_an_entry_of_another_bank_answers_404() -> None:
    user = analyst()
    bank, elsewhere = a_bank(user, "One"), a_bank(user, "Two")
    entry = an_entry(user, elsewhere, "x", random_pdq(4))
    response = login(user).post(
        reverse("banks:entry-toggle", args=[bank.pk, entry.pk]), {"enabled": "0"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "name", "method"),
    [
        ("case_worker", "banks:list", "get"),
        ("trainer", "banks:detail", "get"),
        ("supervisor", "banks:create", "get"),
        ("supervisor", "banks:edit", "get"),
        ("supervisor", "banks:import", "get"),
        ("auditor", "banks:toggle", "post"),
        ("focal_point", "banks:entry-toggle", "post"),
        ("provider_analyst", "banks:export", "get"),
        ("supervisor", "banks:debugger", "get"),
        ("auditor", "banks:debugger", "post"),
    ],
)
def test_missing_permission_answers_403(role: str, name: str, method: str) -> None:
    owner = analyst()
    bank = a_bank(owner)
    entry = an_entry(owner, bank, "x", random_pdq(5))
    args: list[int] = []
    if name == "banks:entry-toggle":
        args = [bank.pk, entry.pk]
    elif name not in ("banks:list", "banks:create", "banks:debugger"):
        args = [bank.pk]
    client = login(make_user(role))
    response = getattr(client, method)(reverse(name, args=args), {"enabled": "0"})
    assert response.status_code == 403
    bank.refresh_from_db()
    assert bank.enabled


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(reverse("banks:list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- changes -------------------------------------------------------------------------------


def test_create_and_edit_a_bank_are_audited() -> None:
    user = analyst()
    client = login(user)
    form = {
        "name": "Hotline list",
        "description": "Benign stand-ins",
        "source": "Hotline",
        "classification_scheme": "categories",
        "threshold": "24",
        "enabled": "on",
    }
    created = client.post(reverse("banks:create"), form)
    bank = Bank.objects.get(name="Hotline list")
    assert created.status_code == 302
    assert created["Location"] == reverse("banks:detail", args=[bank.pk])
    assert (bank.threshold, bank.enabled, bank.is_allow_list) == (24, True, False)
    assert bank.agency_id == user.agency_id

    edited = client.post(
        reverse("banks:edit", args=[bank.pk]), {**form, "threshold": "16", "is_allow_list": "on"}
    )
    bank.refresh_from_db()
    assert edited.status_code == 302
    assert (bank.threshold, bank.is_allow_list) == (16, True)
    assert actions()[-2:] == ["bank.create", "bank.update"]
    update = AuditEntry.objects.get(action="bank.update")
    assert update.target_id == str(bank.pk) and update.actor == f"user:{user.pk}"


def test_create_refuses_bad_input_next_to_the_field_and_changes_nothing() -> None:
    user = analyst()
    a_bank(user, "Taken")
    client = login(user)
    base = {"classification_scheme": "categories", "threshold": "31", "enabled": "on"}

    too_far = client.post(reverse("banks:create"), {**base, "name": "New", "threshold": "99"})
    taken = client.post(reverse("banks:create"), {**base, "name": "Taken"})

    assert too_far.status_code == 400
    assert 'id="id_threshold_error"' in page(too_far)
    assert 'aria-invalid="true"' in page(too_far)
    assert taken.status_code == 400
    assert "already exists" in page(taken)
    assert list(Bank.objects.values_list("name", flat=True)) == ["Taken"]


def test_toggle_a_bank_and_an_entry_with_audit() -> None:
    user = analyst()
    bank = a_bank(user)
    entry = an_entry(user, bank, "e1", random_pdq(6))
    client = login(user)

    off = client.post(reverse("banks:toggle", args=[bank.pk]), {"enabled": "0"})
    bank.refresh_from_db()
    assert off.status_code == 302 and not bank.enabled
    back = reverse("banks:detail", args=[bank.pk]) + "?state=enabled"
    entry_off = client.post(
        reverse("banks:entry-toggle", args=[bank.pk, entry.pk]), {"enabled": "0", "next": back}
    )
    entry.refresh_from_db()
    assert entry_off["Location"] == back and not entry.enabled
    evil = client.post(
        reverse("banks:entry-toggle", args=[bank.pk, entry.pk]),
        {"enabled": "1", "next": "https://elsewhere.example/"},
    )
    assert evil["Location"] == reverse("banks:detail", args=[bank.pk])
    assert actions()[-3:] == ["bank.update", "bank.entry_disable", "bank.entry_enable"]
    assert client.get(reverse("banks:toggle", args=[bank.pk])).status_code == 405


def test_the_detail_page_asks_before_disabling() -> None:
    user = analyst()
    bank = a_bank(user)
    html = page(login(user).get(reverse("banks:detail", args=[bank.pk])))
    assert "data-confirm=" in html and "Disable bank" in html


def test_import_shows_what_it_did_and_is_audited() -> None:
    user = analyst()
    bank = a_bank(user)
    an_entry(user, bank, "existing", random_pdq(10))
    text = f"id,hash,classification\nexisting,{random_pdq(10)},A1\nnew-one,{random_pdq(11)},B2\n"
    upload = io.BytesIO(text.encode())
    upload.name = "hotline.csv"

    response = login(user).post(
        reverse("banks:import", args=[bank.pk]),
        {"file": upload, "format": "csv", "signal_type": "pdq", "classification": ""},
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.added, result.duplicates, result.total) == (1, 1, 2)
    assert "Imported" in page(response)
    entry = BankEntry.objects.get(bank=bank, external_id="new-one")
    assert entry.classification == "B2" and entry.source_list == "hotline.csv"
    assert actions()[-1] == "bank.import"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (b"not-a-hash\n", "64 hex digits"),
        (b"", "empty"),
    ],
)
def test_import_refuses_a_bad_file_with_a_clear_message(content: bytes, message: str) -> None:
    user = analyst()
    bank = a_bank(user)
    upload = io.BytesIO(content)
    upload.name = "list.txt"
    response = login(user).post(
        reverse("banks:import", args=[bank.pk]),
        {"file": upload, "format": "plain", "signal_type": "pdq"},
    )
    assert response.status_code == 400
    assert message in page(response)
    assert not BankEntry.objects.filter(bank=bank).exists()


def test_import_refuses_a_file_over_the_upload_limit(settings: Any) -> None:
    settings.HAVEN = replace(settings.HAVEN, max_upload_bytes=2048)
    user = analyst()
    bank = a_bank(user)
    upload = io.BytesIO("".join(f"{random_pdq(s)}\n" for s in range(40)).encode())
    upload.name = "big.txt"
    response = login(user).post(
        reverse("banks:import", args=[bank.pk]), {"file": upload, "signal_type": "pdq"}
    )
    assert response.status_code == 400
    assert "over this node&#x27;s limit" in page(response) or "over this node's limit" in page(
        response
    )
    assert not BankEntry.objects.filter(bank=bank).exists()


def test_export_downloads_an_attachment_and_is_audited() -> None:
    user = analyst()
    bank = a_bank(user, "Hotline list")
    an_entry(user, bank, "e1", random_pdq(12), classification="A2")
    client = login(user)

    form = client.get(reverse("banks:export", args=[bank.pk]))
    response = client.post(reverse("banks:export", args=[bank.pk]), {"format": "csv"})

    assert form.status_code == 200
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="hotline-list-{bank.pk}.csv"'
    body = response.content.decode()
    assert "e1" in body and random_pdq(12) in body and "A2" in body
    assert actions()[-1] == "bank.export"


def test_forms_need_the_csrf_token() -> None:
    user = analyst()
    bank = a_bank(user)
    client = login(user, csrf=True)
    url = reverse("banks:toggle", args=[bank.pk])

    refused = client.post(url, {"enabled": "0"})
    bank.refresh_from_db()
    assert refused.status_code == 403 and bank.enabled

    client.get(reverse("banks:detail", args=[bank.pk]))  # sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(url, {"enabled": "0", "csrfmiddlewaretoken": token})
    bank.refresh_from_db()
    assert accepted.status_code == 302 and not bank.enabled


# --- the debugger's lookups ------------------------------------------------------------------


def test_pasted_hashes_show_bank_entry_distance_and_classification() -> None:
    user = make_user("provider_analyst")
    owner = analyst()
    bank = a_bank(owner, "Hotline list", threshold=31)
    banked = random_pdq(20)
    an_entry(owner, bank, "hotline-0001", banked, classification="A1")
    query = flip_bits(banked, 9)

    response = login(user).post(
        reverse("banks:debugger"),
        {"action": "hashes", "hashes": f"{query}\n{random_pdq(21)}", "signal_type": "pdq"},
    )

    assert response.status_code == 200
    blocks = response.context["hash_results"]
    assert [len(b["rows"]) for b in blocks] == [1, 0]
    row = blocks[0]["rows"][0]
    assert (row.bank, row.external_id, row.distance, row.classification) == (
        "Hotline list",
        "hotline-0001",
        9,
        "A1",
    )
    html = page(response)
    assert "hotline-0001" in html and "No match in the banks within your reach" in html


def test_a_radius_narrows_the_search() -> None:
    owner = analyst()
    bank = a_bank(owner, threshold=31)
    banked = random_pdq(22)
    an_entry(owner, bank, "near", banked)
    response = login(owner).post(
        reverse("banks:debugger"),
        {"action": "hashes", "hashes": flip_bits(banked, 9), "signal_type": "pdq", "radius": "5"},
    )
    assert response.context["hash_results"][0]["rows"] == []


def test_banks_out_of_reach_never_match() -> None:
    other = analyst(agency="Another agency")
    bank = a_bank(other)
    banked = random_pdq(23)
    an_entry(other, bank, "theirs", banked)
    response = login(make_user("provider_analyst")).post(
        reverse("banks:debugger"), {"action": "hashes", "hashes": banked, "signal_type": "pdq"}
    )
    assert response.context["hash_results"][0]["rows"] == []
    assert "theirs" not in page(response)


def test_an_allow_list_match_shows_as_suppression() -> None:
    owner = analyst()
    listed, allow = a_bank(owner, "Hotline list"), a_bank(owner, "Known benign", is_allow_list=True)
    banked = random_pdq(24)
    an_entry(owner, listed, "listed", banked)
    an_entry(owner, allow, "benign", banked)
    response = login(owner).post(
        reverse("banks:debugger"), {"action": "hashes", "hashes": banked, "signal_type": "pdq"}
    )
    rows = {r.external_id: r for r in response.context["hash_results"][0]["rows"]}
    assert rows["listed"].status == "suppressed"
    assert rows["listed"].allowed_by == "Known benign"
    assert rows["benign"].status == "allow-list"
    assert "suppressed" in page(response) and "by allow-list Known benign" in page(response)


def test_exact_hashes_are_looked_up_by_their_signal_type() -> None:
    owner = analyst()
    bank = a_bank(owner)
    digest = "0123456789abcdef" * 2
    services.add_entry(principal(owner), bank, signal_type="md5", hash_hex=digest, external_id="m")
    response = login(owner).post(
        reverse("banks:debugger"), {"action": "hashes", "hashes": digest, "signal_type": "md5"}
    )
    [row] = response.context["hash_results"][0]["rows"]
    assert (row.external_id, row.distance, row.signal_type) == ("m", 0, "md5")


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        ("abc", "Hash 1: pdq hash must be 64 hex digits, got 3."),
        ("g" * 64, "Hash 1: pdq hash has a non-hex character"),
        (f"{'a' * 64}\n{'b' * 63}", "Hash 2: pdq hash must be 64 hex digits, got 63."),
        ("", "This field is required."),
    ],
)
def test_malformed_hashes_are_reported_next_to_the_field(hashes: str, message: str) -> None:
    response = login(make_user("provider_analyst")).post(
        reverse("banks:debugger"), {"action": "hashes", "hashes": hashes, "signal_type": "pdq"}
    )
    assert response.status_code == 400
    html = page(response)
    assert message.replace("'", "&#x27;") in html
    errors_at = html.index('id="id_hashes_error"')
    assert html.index('name="hashes"') < errors_at < html.index('name="signal_type"')
    assert 'aria-describedby="id_hashes_helptext id_hashes_error"' in html


def shapes_image(seed: int = 0, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A benign drawing: coloured rectangles and discs on a gradient."""
    rng = np.random.default_rng(seed)
    width, height = size
    gradient = np.linspace(30, 220, width, dtype=np.float32)[None, :].repeat(height, 0)
    image = Image.fromarray(
        np.stack([gradient, gradient[::-1], gradient * 0.5], -1).astype(np.uint8)
    )
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        w, h = int(rng.integers(20, 120)), int(rng.integers(20, 120))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle([x, y, x + w, y + h], fill=colour)
        else:
            draw.ellipse([x, y, x + w, y + h], fill=colour)
    return image


def upload_of(data: bytes, name: str = "upload.jpg") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_an_uploaded_image_matches_through_its_variants() -> None:
    owner = analyst()
    bank = a_bank(owner, "Hotline list")
    image = generated_images()[3][1]
    banked = hash_image(encode_jpeg(image)).pdq.hex
    an_entry(owner, bank, "banked-original", banked, classification="B1")
    rotated = encode_jpeg(image.transpose(Image.Transpose.ROTATE_90))
    client = login(make_user("provider_analyst"))

    response = client.post(
        reverse("banks:debugger"), {"action": "upload", "file": upload_of(rotated)}, follow=True
    )

    assert response.status_code == 200
    [item] = response.context["items"]
    [row] = [r for r in item.rows if r.external_id == "banked-original"]
    assert row.via == "rotate270" and row.distance <= 31 and row.classification == "B1"
    assert item.record["type"] == "image" and len(item.record["dihedral"]) == 8
    html = page(response)
    assert "banked-original" in html and "rotate270" in html


def test_an_uploaded_file_matches_by_its_exact_hashes() -> None:
    import hashlib

    owner = analyst()
    bank = a_bank(owner)
    data = encode_jpeg(shapes_image(3))
    services.add_entry(
        principal(owner), bank, signal_type="sha256",
        hash_hex=hashlib.sha256(data).hexdigest(), external_id="exact-copy",
    )  # fmt: skip
    response = login(owner).post(
        reverse("banks:debugger"), {"action": "upload", "file": upload_of(data)}, follow=True
    )
    [item] = response.context["items"]
    assert [(r.external_id, r.via) for r in item.rows] == [("exact-copy", "SHA-256")]


def _bomb_png() -> bytes:
    """A valid 8x8 PNG whose header claims 30000x30000 pixels (900 million)."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    header = struct.pack(">II", 30000, 30000) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"this is plain text, neither an image nor a video" * 4, "not_media"),
        (encode_jpeg(shapes_image(1))[:600], "corrupt"),
        (encode_jpeg(shapes_image(1))[:8000], "truncated"),
        (_bomb_png(), "decompression_bomb"),
    ],
)
def test_a_bad_upload_gets_a_clear_message_never_a_500(data: bytes, code: str) -> None:
    response = login(make_user("provider_analyst")).post(
        reverse("banks:debugger"), {"action": "upload", "file": upload_of(data, "bad.bin")}
    )
    assert response.status_code == 400
    html = page(response)
    assert f"error code: {code}" in html or (code == "empty_file" and "is empty" in html)
    assert 'id="id_file_error"' in html
    assert response.context["items"] == []
    # Nothing is kept of a refused upload, not even the scratch copy the engine read.
    assert not list((settings.HAVEN.media_dir / "debugger").glob("*"))


def test_an_upload_over_the_limit_is_refused(settings: Any) -> None:
    settings.HAVEN = replace(settings.HAVEN, max_upload_bytes=4096)
    data = encode_jpeg(shapes_image(2), quality=95)
    assert len(data) > 4096
    response = login(make_user("provider_analyst")).post(
        reverse("banks:debugger"), {"action": "upload", "file": upload_of(data)}
    )
    assert response.status_code == 400
    assert "over this node" in page(response) and "limit" in page(response)


def test_the_debugger_counts_lookups_for_the_dashboard() -> None:
    owner = analyst()
    a_bank(owner)
    before = matcher().status().lookups_total
    login(owner).post(
        reverse("banks:debugger"),
        {"action": "hashes", "hashes": f"{random_pdq(1)} {random_pdq(2)}", "signal_type": "pdq"},
    )
    assert matcher().status().lookups_total >= before + 2


@hypothesis_settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.binary(min_size=32, max_size=32).map(bytes.hex),
            st.text(alphabet="0123456789abcdefXYZ ,\n\t", max_size=80),
        ),
        max_size=6,
    ),
    st.sampled_from(["pdq", "md5", "sha256"]),
)
def test_the_hash_form_parses_or_explains_any_input(parts: list[str], signal: str) -> None:
    text = "\n".join(parts)
    form = DebuggerHashForm({"hashes": text, "signal_type": signal})
    tokens = text.replace(",", " ").split()
    width = {"pdq": 64, "md5": 32, "sha256": 64}[signal]
    good = all(len(t) == width and all(c in "0123456789abcdefABCDEF" for c in t) for t in tokens)
    if tokens and good:
        assert form.is_valid(), form.errors
        assert form.cleaned_data["parsed"] == [(t.lower(), bytes.fromhex(t)) for t in tokens]
    else:
        assert not form.is_valid()
        assert list(form.errors) == ["hashes"]

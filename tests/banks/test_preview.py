"""The debugger's wellness rule: nothing unblurred reaches the browser before an audited reveal.

Previews must be greyscale, smaller and blurred beyond matching; uploads are kept encrypted in
the debugger folder only, and deleted after an hour; the original is served once, to the
user who revealed it, within a minute, and only after the reveal was written to the audit
log. Every image and video here is generated: shapes, gradients and synthetic patterns.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import struct
import time
import zlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from tests.accounts.helpers import make_user, signed_in_client

from haven.accounts.models import User
from haven.audit.models import AuditEntry
from haven.banks.matcher import reset_matcher
from haven.banks.preview import (
    MAX_PREVIEW_SIDE,
    STRIP_FRAMES,
    TicketRefused,
    UploadStore,
    blur_pixels,
    debugger_store,
    image_preview,
    issue_ticket,
    redeem_ticket,
    video_strip,
)
from haven.media.errors import DecompressionBomb
from haven.media.pdq import pdq_of_pixels
from haven.synth.images import encode_jpeg, generated_images
from haven.web.node import keyring


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    reset_matcher()
    folder = settings.HAVEN.media_dir / "debugger"
    for path in folder.glob("*") if folder.is_dir() else []:
        path.unlink()
    yield
    reset_matcher()


def sharp_image(seed: int = 0, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A benign drawing with hard edges: rectangles, discs and a checkerboard patch."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = Image.new("RGB", size, (200, 210, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        w, h = int(rng.integers(10, 160)), int(rng.integers(10, 160))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
        shape([x, y, x + w, y + h], fill=colour)
    for row in range(0, 120, 8):
        for col in range(0, 120, 8):
            if (row + col) // 8 % 2:
                draw.rectangle([col, row, col + 7, row + 7], fill=(0, 0, 0))
    return image


def high_frequency_energy(pixels: NDArray[np.uint8]) -> float:
    """Mean squared discrete Laplacian: what edges and fine detail contribute."""
    a = pixels.astype(np.float64)
    laplacian = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float((laplacian**2).mean())


def pdq_distance(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> int:
    left, right = pdq_of_pixels(a).hash, pdq_of_pixels(b).hash
    return sum(bin(x ^ y).count("1") for x, y in zip(left, right, strict=True))


def decoded(preview_jpeg: bytes) -> Image.Image:
    with Image.open(io.BytesIO(preview_jpeg)) as image:
        image.load()
        return image.copy()


# --- the preview itself --------------------------------------------------------------------


SHARP_IMAGES = [
    ("drawing", sharp_image(1)),
    *[(n, i) for n, i in generated_images() if n in ("gen_mondrian", "gen_voronoi")],
]


@pytest.mark.parametrize(("name", "image"), SHARP_IMAGES, ids=[n for n, _ in SHARP_IMAGES])
def test_the_preview_is_greyscale_smaller_and_blurred(name: str, image: Image.Image) -> None:
    data = encode_jpeg(image, quality=92)
    preview = image_preview(data)
    assert preview.src.startswith("data:image/jpeg;base64,")
    shown = decoded(preview.jpeg)

    assert shown.mode == "L"  # one channel: no colour survives
    assert max(shown.size) <= MAX_PREVIEW_SIDE
    assert shown.width < image.width and shown.height < image.height
    assert (shown.width, shown.height) == (preview.width, preview.height)
    assert len(preview.jpeg) < len(data)
    # Blurred: almost no edge energy left compared with the original at the same size...
    grey = np.asarray(image.convert("L").resize(shown.size, Image.Resampling.BOX))
    assert high_frequency_energy(np.asarray(shown)) < 0.05 * high_frequency_energy(grey)
    # ...and so far from the original that it would not match it even at PDQ's widest radius.
    assert pdq_distance(np.asarray(shown), np.asarray(image.convert("L"))) > 64


def test_a_colour_preview_has_equal_channels_even_when_read_as_rgb() -> None:
    preview = image_preview(encode_jpeg(sharp_image(2)))
    rgb = np.asarray(decoded(preview.jpeg).convert("RGB")).astype(np.int16)
    assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])


def test_a_small_image_is_blurred_too_and_never_enlarged() -> None:
    small = sharp_image(3, (96, 64))
    shown = decoded(image_preview(encode_jpeg(small)).jpeg)
    assert shown.size == (96, 64)
    grey = np.asarray(small.convert("L"))
    assert high_frequency_energy(np.asarray(shown)) < 0.05 * high_frequency_energy(grey)


def test_the_preview_carries_no_metadata_from_the_upload() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "a description that must not travel"  # ImageDescription
    sharp_image(4).save(buffer, format="JPEG", exif=exif.tobytes())
    preview = image_preview(buffer.getvalue())
    assert b"must not travel" not in preview.jpeg
    assert not decoded(preview.jpeg).getexif()


def test_decompression_bombs_are_refused_before_decoding() -> None:
    """A valid 8x8 PNG whose header claims 30000x30000 pixels (900 million)."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    header = struct.pack(">II", 30000, 30000) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    with pytest.raises(DecompressionBomb):
        image_preview(bytes(data))


def test_blur_pixels_takes_rgb_or_luma() -> None:
    rgb = np.asarray(sharp_image(5))
    assert decoded(blur_pixels(rgb).jpeg).mode == "L"
    assert decoded(blur_pixels(rgb[..., 0].copy(), max_side=100).jpeg).size == (100, 75)


def encode_video(
    path: Path, seconds: int, fps: int = 5, size: tuple[int, int] = (160, 120)
) -> Path:
    """A synthetic clip: a bright square moving over a gradient, one position per frame."""
    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(seconds * fps):
            frame = np.stack([ramp, ramp[::-1], np.full_like(ramp, 90)], -1)
            x = (index * 7) % (width - 30)
            frame[20:50, x : x + 30] = 255
            pixels = frame.astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_a_video_strip_has_at_most_six_blurred_frames_spread_over_it(tmp_path: Path) -> None:
    strip = video_strip(encode_video(tmp_path / "clip.mp4", seconds=20))
    assert len(strip) == STRIP_FRAMES
    seconds = [int(p.label.split(" at ")[1].split(" ")[0]) for p in strip]
    assert seconds[0] == 0 and seconds[-1] >= 15 and seconds == sorted(set(seconds))
    for preview in strip:
        shown = decoded(preview.jpeg)
        assert shown.mode == "L" and max(shown.size) <= 200


def test_a_short_video_gives_one_frame_per_second(tmp_path: Path) -> None:
    strip = video_strip(encode_video(tmp_path / "short.mp4", seconds=3))
    assert [p.label for p in strip] == [f"blurred frame at {s} s" for s in (0, 1, 2)]


# --- the store -----------------------------------------------------------------------------


def test_the_store_keeps_uploads_encrypted_and_private(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "debugger")
    data = encode_jpeg(sharp_image(6))
    stored = store.save(
        data, owner_id=7, content_type="image/jpeg", kind="image", view={"record": {}}
    )

    folder = tmp_path / "debugger"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{stored.id}{suffix}" for suffix in (".bin", ".json", ".view.bin")
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = (folder / f"{stored.id}.bin").read_bytes()
    assert data[200:264] not in blob
    assert keyring().decrypt(blob, stored.id.encode()) == data
    sidecar = json.loads((folder / f"{stored.id}.json").read_text())
    assert set(sidecar) == {"owner", "created", "content_type", "kind"}
    assert store.get(stored.id, 7) == stored
    assert store.get(stored.id, 8) is None  # another user's
    assert store.get("../../etc/passwd", 7) is None
    assert store.original(stored) == data


def test_uploads_expire_after_an_hour(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "debugger")
    old = store.save(b"x" * 10, owner_id=1, content_type="image/png", kind="image", view={})
    fresh = store.save(b"y" * 10, owner_id=1, content_type="image/png", kind="image", view={})
    past = time.time() - 3601
    for path in (tmp_path / "debugger").glob(f"{old.id}.*"):
        os.utime(path, (past, past))

    assert store.purge_expired() == 3
    assert store.get(old.id, 1) is None
    assert store.get(fresh.id, 1) is not None
    assert store.purge_expired(now=time.time() + 3601) == 3
    assert not list((tmp_path / "debugger").iterdir())


def test_a_ticket_is_for_one_use_by_one_user_within_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UploadStore(tmp_path / "debugger")
    stored = store.save(b"z" * 10, owner_id=5, content_type="image/png", kind="image", view={})

    ticket = issue_ticket(stored.id, 5)
    with pytest.raises(TicketRefused, match="someone else"):
        redeem_ticket(ticket, 6, store)
    with pytest.raises(TicketRefused, match="not valid"):
        redeem_ticket(ticket[:-2] + "xx", 5, store)
    assert redeem_ticket(ticket, 5, store) == stored
    with pytest.raises(TicketRefused, match="already used"):
        redeem_ticket(ticket, 5, store)

    late = issue_ticket(stored.id, 5)
    later = time.time() + 61
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(TicketRefused, match="expired"):
        redeem_ticket(late, 5, store)


# --- the pages -----------------------------------------------------------------------------


def client_for(user: User) -> Client:
    return signed_in_client(Client(), user)


def upload(client: Client, data: bytes, name: str = "drawing.jpg") -> Any:
    handle = io.BytesIO(data)
    handle.name = name
    response = client.post(
        reverse("banks:debugger"), {"action": "upload", "file": handle}, follow=True
    )
    assert response.status_code == 200
    return response


def assert_nothing_unblurred(html: str, data: bytes) -> None:
    assert base64.b64encode(data).decode()[:200] not in html
    assert base64.b64encode(data[600:900]).decode() not in html
    assert "/banks/debugger/original/" not in html
    for start in html.split("<img")[1:]:
        src = start.split('src="', 1)[1].split('"', 1)[0]
        assert src.startswith("data:image/jpeg;base64,")
        shown = decoded(base64.b64decode(src.split(",", 1)[1]))
        assert shown.mode == "L" and max(shown.size) <= MAX_PREVIEW_SIDE


@pytest.mark.django_db
def test_no_page_before_the_reveal_holds_the_original() -> None:
    client = client_for(make_user("provider_analyst"))
    data = encode_jpeg(sharp_image(7))

    after_upload = upload(client, data)
    later = client.get(reverse("banks:debugger"))

    for response in (after_upload, later):
        html = response.content.decode()
        assert "blurred greyscale preview" in html.lower()
        assert_nothing_unblurred(html, data)
        assert response["Cache-Control"] == "no-store"
    assert not AuditEntry.objects.filter(action="media.reveal").exists()


@pytest.mark.django_db
def test_the_reveal_is_a_post_that_is_audited_first_then_served_once() -> None:
    user = make_user("provider_analyst")
    client = client_for(user)
    data = encode_jpeg(sharp_image(8))
    [item] = upload(client, data).context["items"]
    reveal = reverse("banks:debugger-reveal")

    assert client.get(reveal, {"upload": item.stored.id}).status_code == 405
    assert not AuditEntry.objects.filter(action="media.reveal").exists()

    revealed = client.post(reveal, {"upload": item.stored.id})

    assert revealed.status_code == 200
    entry = AuditEntry.objects.get(action="media.reveal")
    assert entry.target_id == item.stored.id and entry.target_type == "debugger_upload"
    assert entry.detail["page"] == "banks:debugger" and entry.actor == f"user:{user.pk}"
    [shown] = revealed.context["items"]
    assert shown.original_url.startswith("/banks/debugger/original/")
    assert f'src="{shown.original_url}"' in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"

    original = client.get(shown.original_url)
    assert original.status_code == 200
    assert original.content == data
    assert original["Content-Type"] == "image/jpeg"
    assert original["Cache-Control"] == "no-store"
    assert client.get(shown.original_url).status_code == 404  # one use only


@pytest.mark.django_db
def test_the_original_url_refuses_another_user_and_an_expired_ticket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = make_user("provider_analyst")
    client = client_for(owner)
    [item] = upload(client, encode_jpeg(sharp_image(9))).context["items"]
    url = (
        client.post(reverse("banks:debugger-reveal"), {"upload": item.stored.id})
        .context["items"][0]
        .original_url
    )

    other = client_for(make_user("provider_analyst"))
    assert other.get(url).status_code == 404
    assert (
        other.post(reverse("banks:debugger-reveal"), {"upload": item.stored.id}).status_code == 404
    )

    later = time.time() + 61
    monkeypatch.setattr(signing.time, "time", lambda: later)
    expired = client.get(url)
    assert expired.status_code == 404 and b"expired" in expired.content


@pytest.mark.django_db
def test_revealing_one_upload_hides_the_one_revealed_before() -> None:
    client = client_for(make_user("provider_analyst"))
    upload(client, encode_jpeg(sharp_image(10)), "a.jpg")
    items = upload(client, encode_jpeg(sharp_image(11)), "b.jpg").context["items"]
    second, first = (i.stored.id for i in items)  # newest first
    reveal = reverse("banks:debugger-reveal")

    one = client.post(reveal, {"upload": first})
    two = client.post(reveal, {"upload": second})

    assert {i.stored.id: bool(i.original_url) for i in one.context["items"]} == {
        first: True,
        second: False,
    }
    assert {i.stored.id: bool(i.original_url) for i in two.context["items"]} == {
        first: False,
        second: True,
    }
    assert two.content.decode().count("/banks/debugger/original/") == 1


@pytest.mark.django_db
def test_without_the_reveal_permission_there_is_no_reveal() -> None:
    admin = make_user("administrator")  # may match, may never see media
    client = client_for(admin)
    response = upload(client, encode_jpeg(sharp_image(12)))
    [item] = response.context["items"]

    assert "Reveal the original" not in response.content.decode()
    assert reverse("banks:debugger-reveal") not in response.content.decode()
    refused = client.post(reverse("banks:debugger-reveal"), {"upload": item.stored.id})
    assert refused.status_code == 403
    assert not AuditEntry.objects.filter(action="media.reveal").exists()
    ticket = issue_ticket(item.stored.id, admin.pk)
    assert client.get(reverse("banks:debugger-original", args=[ticket])).status_code == 403


@pytest.mark.django_db
def test_uploads_are_stored_only_encrypted_in_the_debugger_folder() -> None:
    client = client_for(make_user("provider_analyst"))
    data = encode_jpeg(sharp_image(13))
    [item] = upload(client, data).context["items"]

    probe = data[len(data) // 2 : len(data) // 2 + 64]
    holders = []
    for root, _, files in os.walk(settings.HAVEN.data_dir):
        for name in files:
            path = Path(root) / name
            if path.stat().st_size < 50_000_000 and probe in path.read_bytes():
                holders.append(path)
    assert holders == []
    folder = settings.HAVEN.media_dir / "debugger"
    assert {p.name for p in folder.iterdir()} == {
        f"{item.stored.id}.bin",
        f"{item.stored.id}.view.bin",
        f"{item.stored.id}.json",
    }
    assert debugger_store().original(item.stored) == data


@pytest.mark.django_db
def test_old_uploads_are_cleaned_up_on_the_next_debugger_request() -> None:
    client = client_for(make_user("provider_analyst"))
    [item] = upload(client, encode_jpeg(sharp_image(14))).context["items"]
    past = time.time() - 3601
    folder = settings.HAVEN.media_dir / "debugger"
    for path in folder.iterdir():
        os.utime(path, (past, past))

    response = client.get(reverse("banks:debugger"))

    assert response.context["items"] == []
    assert not list(folder.iterdir())
    assert item.stored.id not in response.content.decode()


@pytest.mark.django_db
def test_a_video_upload_shows_a_blurred_strip_and_reveals_as_video(tmp_path: Path) -> None:
    client = client_for(make_user("provider_analyst"))
    data = encode_video(tmp_path / "clip.mp4", seconds=8).read_bytes()

    response = upload(client, data, "clip.mp4")

    [item] = response.context["items"]
    assert item.stored.kind == "video" and item.stored.content_type == "video/mp4"
    assert len(item.previews) == STRIP_FRAMES
    html = response.content.decode()
    assert "<video" not in html and "<audio" not in html
    assert_nothing_unblurred(html, data)
    revealed = client.post(reverse("banks:debugger-reveal"), {"upload": item.stored.id})
    html = revealed.content.decode()
    assert "<video" in html and " muted" in html
    assert "media-src 'self'" in revealed["Content-Security-Policy"]
    url = revealed.context["items"][0].original_url
    assert client.get(url).content == data


@pytest.mark.django_db
def test_the_user_can_delete_an_upload_at_once() -> None:
    client = client_for(make_user("provider_analyst"))
    [item] = upload(client, encode_jpeg(sharp_image(15))).context["items"]
    response = client.post(
        reverse("banks:debugger"), {"action": "discard", "upload": item.stored.id}, follow=True
    )
    assert response.context["items"] == []
    assert not list((settings.HAVEN.media_dir / "debugger").iterdir())


@pytest.mark.django_db
def test_a_video_upload_matches_a_banked_video_whole_and_by_its_frames(tmp_path: Path) -> None:
    from haven.accounts.permissions import principal_for_user
    from haven.banks import services
    from haven.media.video import hash_video

    clip = encode_video(tmp_path / "clip.mp4", seconds=6)
    hashed = hash_video(clip)
    owner = make_user("authority_analyst")
    principal = principal_for_user(owner)
    assert principal is not None
    videos = services.create_bank(principal, name="Video list")
    services.import_hash_list(principal, videos, hashed.to_vpdq(), "clip.vpdq", format="vpdq")
    frames = services.create_bank(principal, name="Frame list")
    services.add_entry(
        principal, frames, signal_type="pdq", hash_hex=hashed.frames[2].pdq.hex(),
        external_id="frame-two",
    )  # fmt: skip

    response = upload(client_for(owner), clip.read_bytes(), "clip.mp4")

    rows = {row.external_id: row for row in response.context["items"][0].rows}
    whole = rows["clip.vpdq"]
    assert whole.signal_type == "vpdq" and whole.share == "100%"
    assert whole.via.startswith("whole video: ") and whole.distance is None
    assert rows["frame-two"].via.startswith("frame ") and rows["frame-two"].distance == 0
    assert "whole video" in response.content.decode()

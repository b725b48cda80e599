"""The review queue's pages: blurred until an audited reveal, one reveal at a time, decisions.

Every picture here is generated (coloured shapes and gradients drawn with Pillow, a moving
square encoded with PyAV): benign and synthetic. The uploads are scanned through
`haven.detection.services.scan` with their file, as the scan API does, so each review has
its evidence in the vault and its match rows, exactly as a provider's upload would.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw
from tests.accounts.helpers import make_agency, make_user, signed_in_client

from haven.accounts.models import Agency, ApiToken, User
from haven.accounts.permissions import principal_for_token, system_principal
from haven.audit.models import AuditEntry
from haven.banks import services as banks
from haven.banks.matcher import matcher
from haven.banks.models import Bank
from haven.detection.models import RevealGrant, Review, ScannedContent
from haven.detection.policies import bank_quality
from haven.detection.services import ContentInfo, MediaFile, scan
from haven.evidence.models import CustodyEvent
from haven.evidence.services import preserve
from haven.media.pdq import hash_image
from haven.scan.batch import ScanOptions, hash_file

pytestmark = pytest.mark.django_db

__all__ = ["held_upload", "shapes_png"]


def shapes_png(seed: int = 0, *, exif: bool = False) -> bytes:
    """A benign generated picture (stripes, a disc, a triangle) with sharp edges."""
    image = Image.new("RGB", (480, 360), (250, 245, 230))
    draw = ImageDraw.Draw(image)
    for i in range(8):
        x = 20 + i * 55 + seed * 7
        draw.rectangle((x, 30, x + 40, 330), fill=((30 * i + 60 * seed) % 256, 90, 200 - 20 * i))
    draw.ellipse((120 + seed * 20, 80, 360, 300), fill=(220, 60, 40), outline=(0, 0, 0), width=6)
    draw.polygon([(240, 20), (460, 340 - seed * 30), (20, 340)], outline=(20, 120, 40), width=5)
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x0131] = "synthetic test picture"  # Software
        image.save(out, format="JPEG", quality=95, exif=tags)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def held_upload(agency: Agency, content_id: str, data: bytes, folder: Path, **info: str) -> Review:
    """Bank the picture's PDQ in the agency's bank, then scan it with its file: held."""
    system = system_principal(agency.pk, "test")
    bank = Bank.objects.filter(agency=agency, name="Known (benign stand-ins)").first()
    if bank is None:
        bank = banks.create_bank(system, name="Known (benign stand-ins)", threshold=31)
    banks.add_entry(
        system,
        bank,
        signal_type="pdq",
        hash_hex=hash_image(data).pdq.hash.hex(),
        external_id=f"known-{content_id}",
        classification="A2",
    )
    matcher().sync(force=True)  # the live index learns the new entry now, not in a while
    path = folder / f"{content_id}.bin"
    path.write_bytes(data)
    record = dict(hash_file(path, ScanOptions(dihedral=True, video_threads=1)))
    record.pop("path", None)
    token, _ = ApiToken.issue(f"scanner {content_id}", ["scan"], agency)
    outcome = scan(
        principal_for_token(token),
        ContentInfo(
            content_id,
            surface=info.get("surface", "public_post"),
            uploader_account=info.get("uploader", "acct-1"),
            uploader_name=info.get("uploader_name", "Synthetic Uploader"),
            ip="192.0.2.10",
        ),
        record,
        media=MediaFile(str(path), name=f"{content_id}.img", media_type="image"),
    )
    path.unlink()
    assert outcome.content.decision == "hold", outcome.content.policy
    return Review.objects.get(content=outcome.content)


def encoded_video(path: Path, seconds: int = 4, fps: int = 4) -> bytes:
    """A synthetic clip: a bright square moving over a colour gradient."""
    width, height = 160, 120
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(seconds * fps):
            frame = np.stack([ramp, ramp[::-1], np.full_like(ramp, 90)], -1)
            x = (index * 9) % (width - 30)
            frame[20:50, x : x + 30] = 255
            container.mux(
                stream.encode(av.VideoFrame.from_ndarray(frame.astype(np.uint8), format="rgb24"))
            )
        container.mux(stream.encode(None))
    return path.read_bytes()


def held_video(agency: Agency, content_id: str, data: bytes) -> Review:
    """A held video's review made directly (its evidence preserved as a scan would)."""
    keeper = system_principal(agency.pk, "scan")
    item = preserve(keeper, data, reason="held for review (test)", media_type="video")
    content = ScannedContent.objects.create(
        agency=agency,
        content_id=content_id,
        media="video",
        hashes={"type": "video", "md5": item.md5},
        decision="hold",
        scanned_by="test",
    )
    return Review.objects.create(agency=agency, content=content, evidence=item)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Example Pictures (synthetic provider)")


@pytest.fixture
def analyst(agency: Agency) -> User:
    return make_user("provider_analyst", agency=agency, username="rae-reviewer")


@pytest.fixture
def web(client: Client, analyst: User) -> Client:
    return signed_in_client(client, analyst)


def _q(pk: int, *rest: str) -> str:
    return f"/provider/review/{pk}/" + "".join(rest)


def _reveal(web: Client, review: Review, **extra: str) -> str:
    """POST a reveal; returns the revealed file's URL from the page."""
    response = web.post(_q(review.pk, "reveal/"), extra)
    assert response.status_code == 200, response.content[:500]
    found = re.search(r'src="(/provider/review/\d+/file\?t=[^"]+)"', response.content.decode())
    assert found, "the revealed page shows no file"
    return found[1].replace("&amp;", "&")


def _data_uris(html: str) -> list[bytes]:
    return [
        base64.b64decode(m)
        for m in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    ]


def _sharpness(image: Image.Image) -> float:
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = (
        -4 * pixels[1:-1, 1:-1]
        + pixels[:-2, 1:-1]
        + pixels[2:, 1:-1]
        + pixels[1:-1, :-2]
        + pixels[1:-1, 2:]
    )
    return float(np.abs(laplacian).mean())


def _assert_blurred_greyscale(jpeg: bytes, original: bytes) -> None:
    assert jpeg != original
    preview = Image.open(io.BytesIO(jpeg))
    assert preview.format == "JPEG" and preview.mode == "L"
    reference = Image.open(io.BytesIO(original)).convert("L").resize(preview.size)
    assert _sharpness(preview) < 0.35 * _sharpness(reference), "the preview is not blurred"


def _assert_carries_nothing_of(body: bytes, original: bytes) -> None:
    encoded = base64.b64encode(original)
    assert original not in body
    for start in (0, len(encoded) // 2, len(encoded) - 300):
        assert encoded[start : start + 200] not in body


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_lists_its_agency_pending_items_most_urgent_first(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    first = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    urgent = held_upload(agency, "post-2", shapes_png(1), tmp_path, uploader="acct-2")
    decided = held_upload(agency, "post-3", shapes_png(2), tmp_path)
    Review.objects.filter(pk=urgent.pk).update(priority=70)
    Review.objects.filter(pk=decided.pk).update(state="confirmed", decided_at=timezone.now())
    other = make_agency("Other provider (synthetic)")
    held_upload(other, "elsewhere-1", shapes_png(3), tmp_path)

    response = web.get("/provider/review/")
    assert response.status_code == 200
    html = response.content.decode()
    order = re.findall(r'class="review-link" href="/provider/review/(\d+)/"', html)
    assert order == [str(urgent.pk), str(first.pk)]
    assert "elsewhere-1" not in html and "post-3" not in html
    assert "2 pending" in html
    assert "Known (benign stand-ins)" in html and "distance 0" in html
    assert "acct-2" in html and "1 matched" in html
    assert response["Cache-Control"] == "no-store"

    done = web.get("/provider/review/?state=decided").content.decode()
    assert re.findall(r'class="review-link" href="/provider/review/(\d+)/"', done) == [
        str(decided.pk)
    ]


def test_the_queue_marks_a_repeat_offender_and_shows_bank_quality(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    from haven.detection.models import UploaderAccount

    earlier = held_upload(agency, "post-1", shapes_png(0), tmp_path, uploader="acct-9")
    web.post(_q(earlier.pk, "decide/"), {"action": "confirm", "classification": "A1"})
    held_upload(agency, "post-2", shapes_png(1), tmp_path, uploader="acct-9")
    UploaderAccount.objects.filter(account_id="acct-9").update(confirmed=2)
    html = web.get("/provider/review/").content.decode()
    assert "repeat offender" in html
    assert "quality 100%" in html  # the bank's one decided match was confirmed


# --- nothing unblurred before a reveal ----------------------------------------------------


def test_no_page_or_thumbnail_carries_the_unblurred_file(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    original = shapes_png(0)
    review = held_upload(agency, "post-1", original, tmp_path)

    queue = web.get("/provider/review/")
    item = web.get(_q(review.pk))
    thumb = web.get(_q(review.pk, "thumb"))
    for response in (queue, item, thumb):
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        _assert_carries_nothing_of(response.content, original)

    assert thumb["Content-Type"] == "image/jpeg"
    _assert_blurred_greyscale(thumb.content, original)
    (preview,) = _data_uris(item.content.decode())
    _assert_blurred_greyscale(preview, original)
    assert "<video" not in item.content.decode()

    review.refresh_from_db()
    assert not review.viewed and not review.exif_viewed
    # Making previews is no viewing: the custody log has only the item's creation.
    assert list(
        CustodyEvent.objects.filter(item_id=review.evidence_id).values_list("action", flat=True)
    ) == ["created"]
    assert AuditEntry.objects.filter(action="review.view", target_id=str(review.pk)).count() == 1


def test_a_video_is_a_silent_strip_of_blurred_frames_and_reveals_as_frames(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    data = encoded_video(tmp_path / "clip.mp4")
    review = held_video(agency, "clip-1", data)
    html = web.get(_q(review.pk)).content.decode()
    assert "<video" not in html and "<audio" not in html
    frames = _data_uris(html)
    assert 2 <= len(frames) <= 6
    for jpeg in frames:
        assert Image.open(io.BytesIO(jpeg)).mode == "L"
    _assert_carries_nothing_of(html.encode(), data)

    url = _reveal(web, review)
    served = web.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    sheet = Image.open(io.BytesIO(served.content))
    assert sheet.mode == "RGB" and sheet.width > sheet.height  # frames side by side, in colour
    from django.conf import settings

    scratch = Path(settings.HAVEN.media_dir) / "review-scratch"
    assert scratch.is_dir() and not list(scratch.iterdir())  # the decoded video is gone


# --- reveals ------------------------------------------------------------------------------


def test_a_reveal_needs_a_post_with_its_csrf_token(
    analyst: User, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    strict = signed_in_client(Client(enforce_csrf_checks=True), analyst)
    assert strict.get(_q(review.pk, "reveal/")).status_code == 405
    assert strict.post(_q(review.pk, "reveal/")).status_code == 403
    assert not RevealGrant.objects.exists()
    review.refresh_from_db()
    assert not review.viewed


def test_a_reveal_is_audited_and_serves_the_exact_file_uncached(
    web: Client, analyst: User, agency: Agency, tmp_path: Path
) -> None:
    original = shapes_png(0)
    review = held_upload(agency, "post-1", original, tmp_path)
    assert web.get(_q(review.pk, "file")).status_code == 403  # no grant at all
    assert web.get(_q(review.pk, "file?t=made-up")).status_code == 403

    url = _reveal(web, review)
    assert len(url.split("?t=")[1]) >= 40  # an unguessable token
    entry = AuditEntry.objects.get(action="review.reveal")
    assert entry.actor == f"user:{analyst.pk}" and entry.target_id == str(review.pk)
    review.refresh_from_db()
    assert review.viewed and not review.exif_viewed

    served = web.get(url)
    assert served.status_code == 200
    assert served.content == original
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "no-store"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == "inline"
    viewed = CustodyEvent.objects.filter(item_id=review.evidence_id, action="viewed")
    assert viewed.count() == 1 and viewed.get().actor == f"user:{analyst.pk}"


def test_revealing_another_item_or_blurring_again_ends_the_first_reveal(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    first = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    second = held_upload(agency, "post-2", shapes_png(1), tmp_path)
    first_url = _reveal(web, first)
    assert web.get(first_url).status_code == 200
    second_url = _reveal(web, second)
    assert web.get(first_url).status_code == 403
    assert web.get(second_url).status_code == 200
    # A grant opens its own item only.
    token = second_url.split("?t=")[1]
    assert web.get(_q(first.pk, f"file?t={token}")).status_code == 403

    blurred = web.post(_q(second.pk, "blur/"))
    assert blurred.status_code == 302 and blurred["Location"] == _q(second.pk)
    assert web.get(second_url).status_code == 403


def test_an_expired_reveal_refuses(web: Client, agency: Agency, tmp_path: Path) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    url = _reveal(web, review)
    RevealGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = web.get(url)
    assert refused.status_code == 403
    assert b"reveal the item again" in refused.content


def test_another_reviewer_cannot_use_a_reveal(web: Client, agency: Agency, tmp_path: Path) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    url = _reveal(web, review)
    colleague = signed_in_client(Client(), make_user("provider_analyst", agency=agency))
    assert colleague.get(url).status_code == 403


def test_show_exif_is_a_separate_audited_reveal(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "photo-1", shapes_png(0, exif=True), tmp_path)
    response = web.post(_q(review.pk, "reveal/"), {"exif": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "synthetic test picture" in html and "Software" in html
    assert "/file?t=" not in html  # the EXIF reveal does not show the picture
    review.refresh_from_db()
    assert review.exif_viewed and not review.viewed
    assert AuditEntry.objects.filter(action="review.reveal_exif").count() == 1


def test_a_hashes_only_review_cannot_be_revealed_and_says_why(web: Client, agency: Agency) -> None:
    content = ScannedContent.objects.create(
        agency=agency, content_id="h-1", media="hashes", hashes={}, decision="hold", scanned_by="t"
    )
    review = Review.objects.create(agency=agency, content=content)
    assert web.get(_q(review.pk, "thumb")).status_code == 404
    response = web.post(_q(review.pk, "reveal/"), follow=True)
    assert response.status_code == 200
    assert "there is no file to reveal" in response.content.decode()


# --- decisions ----------------------------------------------------------------------------


def test_confirm_through_the_form_banks_it_and_moves_to_the_next_item(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    following = held_upload(agency, "post-2", shapes_png(1), tmp_path)
    response = web.post(
        _q(review.pk, "decide/"),
        {"action": "confirm", "classification": "A1", "note": "clear match"},
    )
    assert response.status_code == 302 and response["Location"] == _q(following.pk)
    review.refresh_from_db()
    assert review.state == "confirmed" and review.classification == "A1"
    assert review.decided_by.startswith("user:") and review.note == "clear match"
    assert review.content.decision == "block"
    removed = Bank.objects.get(agency=agency, name="Removed here")
    assert removed.entries.filter(signal_type="md5").exists()
    assert AuditEntry.objects.filter(action="review.confirm", target_id=str(review.pk)).exists()

    page = web.get(_q(review.pk)).content.decode()
    assert "Decision" in page and "A1" in page and review.decided_by in page
    assert 'name="action"' not in page  # a decided item has no decision forms


def test_confirm_needs_a_classification(web: Client, agency: Agency, tmp_path: Path) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    response = web.post(_q(review.pk, "decide/"), {"action": "confirm"})
    assert response.status_code == 400
    assert "Choose a classification" in response.content.decode()
    review.refresh_from_db()
    assert review.state == "pending"


def test_escalate_needs_a_reason_and_raises_the_priority(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    missing = web.post(_q(review.pk, "decide/"), {"action": "escalate", "classification": "A1"})
    assert missing.status_code == 400 and "Say why" in missing.content.decode()
    review.refresh_from_db()
    assert review.state == "pending"

    done = web.post(
        _q(review.pk, "decide/"),
        {"action": "escalate", "classification": "A1", "reason": "the poster names a meeting"},
    )
    assert done.status_code == 302 and done["Location"] == "/provider/review/"
    review.refresh_from_db()
    assert review.state == "confirmed" and review.escalated and review.priority == 100
    assert review.escalation_reason == "the poster names a meeting"
    assert AuditEntry.objects.filter(action="review.escalate").exists()


def test_a_false_positive_feeds_the_bank_quality_and_the_allow_list(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    bank = Bank.objects.get(agency=agency, name="Known (benign stand-ins)")
    response = web.post(
        _q(review.pk, "decide/"),
        {"action": "false_positive", "note": "a logo", "allow_list": "on"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == "false_positive" and review.content.decision == "allow"
    assert bank_quality([bank.pk])[bank.pk].false_positives == 1
    allow = Bank.objects.get(agency=agency, name="False positives")
    assert allow.is_allow_list
    assert allow.entries.filter(signal_type="pdq").exists()


def test_a_second_decision_shows_a_message_and_changes_nothing(
    web: Client, agency: Agency, tmp_path: Path
) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    web.post(_q(review.pk, "decide/"), {"action": "false_positive"})
    again = web.post(_q(review.pk, "decide/"), {"action": "confirm", "classification": "B2"})
    assert again.status_code == 400
    assert "decided already" in again.content.decode()
    review.refresh_from_db()
    assert review.state == "false_positive" and review.classification == ""


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["administrator", "auditor", "authority_analyst"])
def test_roles_without_review_are_refused(role: str, agency: Agency, tmp_path: Path) -> None:
    review = held_upload(agency, "post-1", shapes_png(0), tmp_path)
    other = signed_in_client(Client(), make_user(role, agency=agency))
    for url in ("/provider/review/", _q(review.pk), _q(review.pk, "thumb"), _q(review.pk, "file")):
        assert other.get(url).status_code == 403, url
    for url in (_q(review.pk, "reveal/"), _q(review.pk, "decide/"), _q(review.pk, "blur/")):
        assert other.post(url, {"action": "confirm", "classification": "A1"}).status_code == 403
    review.refresh_from_db()
    assert review.state == "pending" and not review.viewed


def test_another_agencys_review_is_not_found(web: Client, tmp_path: Path) -> None:
    other = make_agency("Other provider (synthetic)")
    review = held_upload(other, "elsewhere-1", shapes_png(0), tmp_path)
    for url in (_q(review.pk), _q(review.pk, "thumb"), _q(review.pk, "file?t=x")):
        assert web.get(url).status_code == 404, url
    assert web.post(_q(review.pk, "reveal/")).status_code == 404
    assert web.post(_q(review.pk, "decide/"), {"action": "false_positive"}).status_code == 404
    review.refresh_from_db()
    assert review.state == "pending" and not review.viewed


def test_the_nav_links_the_queue_for_reviewers_only(web: Client, agency: Agency) -> None:
    assert b'href="/provider/review/"' in web.get("/dashboard/").content
    admin = signed_in_client(Client(), make_user("administrator", agency=agency))
    assert b'href="/provider/review/"' not in admin.get("/dashboard/").content


def test_the_wellness_timer_gets_its_interval_from_the_server(
    web: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from django.conf import settings

    html = web.get("/provider/review/").content.decode()
    assert 'data-break-minutes="20' in html
    monkeypatch.setattr(settings, "HAVEN", replace(settings.HAVEN, review_break_minutes=45))
    assert 'data-break-minutes="45' in web.get("/provider/review/").content.decode()

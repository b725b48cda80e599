"""From a scan to a decision and what follows it: policies, preservation, review, removal,
re-upload blocking, false positives, escalation, appeals and the statement of reasons.

Known material is stood in for by generated images of shapes (no people); an "edited copy"
is the same picture recompressed, brightened and cropped a little, so its PDQ is near the
banked one but not equal.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageEnhance
from tests.accounts.helpers import make_agency, make_user, token_client

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, principal_for_user, system_principal
from haven.accounts.roles import Role
from haven.audit.models import AuditEntry
from haven.banks import services as banks
from haven.banks.matcher import reset_matcher
from haven.banks.models import Bank, BankEntry
from haven.detection import appeals, review
from haven.detection.models import (
    Alert,
    BankPolicy,
    HookDelivery,
    Review,
    ScannedContent,
    UploaderAccount,
)
from haven.detection.policies import PolicyChange, bank_quality, update_policy
from haven.detection.removal import add_hook, deliver_hooks
from haven.detection.removed_here import REMOVED_HERE
from haven.detection.reporting import DraftError, update_draft
from haven.detection.retro import follow
from haven.detection.services import ContentInfo, MediaFile, scan
from haven.detection.statement import statement_of_reasons
from haven.evidence.models import EvidenceItem
from haven.scan.batch import ScanOptions, hash_file

pytestmark = pytest.mark.django_db


def picture(seed: int) -> Image.Image:
    """A benign synthetic picture: a gradient with coloured shapes, different per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:320, 0:400]
    base = np.stack([(x * 255 // 400), (y * 255 // 320), ((x + y) * 255 // 720)], axis=-1).astype(
        np.uint8
    )
    image = Image.fromarray(base)
    pixels = image.load()
    assert pixels is not None
    for _ in range(6):
        cx, cy, r = (
            int(rng.integers(40, 360)),
            int(rng.integers(40, 280)),
            int(rng.integers(15, 60)),
        )
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        for dx in range(-r, r):
            for dy in range(-r, r):
                if dx * dx + dy * dy < r * r and 0 <= cx + dx < 400 and 0 <= cy + dy < 320:
                    pixels[cx + dx, cy + dy] = colour
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def edited(image: Image.Image) -> bytes:
    brighter = ImageEnhance.Brightness(image.crop((4, 4, 396, 316))).enhance(1.08)
    return jpeg(brighter.resize((380, 304)), quality=70)


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Example Photos (synthetic provider)")


@pytest.fixture
def system(agency: Agency) -> Principal:
    return system_principal(agency.pk, "test")


@pytest.fixture
def analyst(agency: Agency) -> Principal:
    principal = principal_for_user(make_user(Role.PROVIDER_ANALYST, agency))
    assert principal is not None
    return principal


@pytest.fixture
def second_analyst(agency: Agency) -> Principal:
    principal = principal_for_user(make_user(Role.PROVIDER_ANALYST, agency))
    assert principal is not None
    return principal


Scanner = Callable[..., ScannedContent]


@pytest.fixture
def upload(system: Principal, tmp_path: Path) -> Scanner:
    """Scan bytes as an upload with its file, as the scan API does."""

    def run(cid: str, data: bytes, account: str = "acct-1", **info: object) -> ScannedContent:
        path = tmp_path / f"{cid}.jpg"
        path.write_bytes(data)
        record = hash_file(path, ScanOptions(dihedral=True))
        content_info = ContentInfo(
            cid,
            uploader_account=account,
            uploader_name=f"name-{account}",
            ip="192.0.2.10",
            uploaded_at=timezone.now(),
            url=f"https://photos.example/p/{cid}",
            surface="public_post",
            **info,  # type: ignore[arg-type]
        )
        return scan(system, content_info, record, media=MediaFile(str(path), f"{cid}.jpg")).content

    return run


@pytest.fixture
def known(system: Principal) -> tuple[Bank, Image.Image]:
    image = picture(1)
    data = jpeg(image)
    path = Path(settings.HAVEN.media_dir) / "known-1.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    record = hash_file(path, ScanOptions())
    bank = banks.create_bank(system, name="Known (benign stand-ins)", source="a hotline")
    banks.add_entry(system, bank, signal_type="pdq", hash_hex=record["pdq"], external_id="k1")
    return bank, image


def test_a_held_upload_is_preserved_encrypted_and_queued(
    upload: Scanner, known: tuple[Bank, Image.Image]
) -> None:
    bank, image = known
    data = edited(image)
    content = upload("c1", data)
    assert content.decision == "hold" and content.policy["review"] is True
    item = Review.objects.get(content=content)
    assert item.state == "pending" and item.evidence is not None
    assert list(item.bank_matches.values_list("bank_id", flat=True)) == [bank.pk]
    raw = (Path(settings.HAVEN.evidence_dir)).rglob(f"*{item.evidence.blob_id}*")
    blobs = [p.read_bytes() for p in raw if p.is_file()]
    assert blobs and all(data not in blob and data[:64] not in blob for blob in blobs)
    # An upload matching nothing is published and nothing is preserved.
    before = EvidenceItem.objects.count()
    assert upload("c2", jpeg(picture(2))).decision == "allow"
    assert EvidenceItem.objects.count() == before


def test_confirm_removes_blocks_reuploads_and_drafts_the_report(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal, system: Principal
) -> None:
    _, image = known
    add_hook(system, "https://hooks.example/remove", "s" * 24)
    content = upload("c1", edited(image))
    item = Review.objects.get(content=content)
    done = review.confirm(analyst, item, classification="B2", note="synthetic test")
    assert done.state == "confirmed" and done.decided_by == analyst.actor
    content.refresh_from_db()
    assert content.decision == "block"
    removed_here = Bank.objects.get(agency_id=content.agency_id, name=REMOVED_HERE)
    signals = set(BankEntry.objects.filter(bank=removed_here).values_list("signal_type", flat=True))
    assert signals == {"md5", "sha256", "pdq"}
    # The webhook is queued with the decision; its delivery marks the removal.
    delivery = HookDelivery.objects.get(content=content)
    assert delivery.body["event"] == "remove"
    deliver_hooks(call=lambda d: None)
    content.refresh_from_db()
    assert content.removed_at is not None
    account = UploaderAccount.objects.get(account_id="acct-1")
    assert (account.matches, account.confirmed, account.removals) == (1, 1, 1)
    # The same picture again, from someone else: blocked, no second review; an automatic
    # confirmation with its file preserved and a draft report that says nobody viewed it.
    reset_matcher()
    again = upload("c1-again", edited(image), account="acct-2")
    assert again.decision == "block" and again.policy["review"] is False
    automatic = Review.objects.get(content=again)
    assert (automatic.state, automatic.decided_by) == ("confirmed", "system:removed-here")
    assert automatic.classification == "B2" and automatic.evidence is not None
    auto_file = automatic.report_draft["files"][0]
    assert auto_file["viewed_by_provider"] is False and auto_file["classification"] == "B2"
    assert "No person at the provider viewed the file" in automatic.report_draft["additional_info"]
    assert automatic.report_draft["reported_accounts"][0]["platform_ids"] == ["acct-2"]
    assert UploaderAccount.objects.get(account_id="acct-2").confirmed == 1
    assert not review.queue(analyst).filter(content=again).exists()
    # The draft report: the file's hashes, the classification, nobody viewed it.
    draft = done.report_draft
    file = draft["files"][0]
    assert file["classification"] == "B2" and file["viewed_by_provider"] is False
    assert file["md5"] == item.evidence.md5 and file["sha1"] == item.evidence.sha1
    assert draft["reported_accounts"][0]["platform_ids"] == ["acct-1"]
    assert draft["reported_accounts"][0]["ip_events"][0]["ip"] == "192.0.2.10"
    assert "No person at the provider viewed the file" in draft["additional_info"]
    with pytest.raises(review.ReviewError, match="decided already"):
        review.confirm(analyst, item, classification="A1")


def test_reveal_is_one_at_a_time_and_goes_into_the_report(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal
) -> None:
    _, image = known
    first = Review.objects.get(content=upload("c1", edited(image)))
    second = Review.objects.get(content=upload("c2", edited(image), account="acct-2"))
    one = review.reveal(analyst, first)
    assert review.revealed_bytes(analyst, first, one.token)[:2] == b"\xff\xd8"
    two = review.reveal(analyst, second)
    with pytest.raises(review.ReviewError, match="ended"):
        review.revealed_bytes(analyst, first, one.token)  # revealing the second hid the first
    with pytest.raises(review.ReviewError, match="another item"):
        review.revealed_bytes(analyst, first, two.token)
    assert AuditEntry.objects.filter(action="review.reveal").count() == 2
    exif = review.reveal(analyst, second, exif=True)  # an EXIF reveal shows the EXIF only
    assert isinstance(review.exif_of(analyst, second, exif.token), dict)
    with pytest.raises(review.ReviewError, match="exif only"):
        review.revealed_bytes(analyst, second, exif.token)
    assert review.end_reveals(analyst) == 1
    with pytest.raises(review.ReviewError, match="ended"):
        review.exif_of(analyst, second, exif.token)
    first.refresh_from_db()
    assert first.viewed and not first.exif_viewed
    done = review.confirm(analyst, first, classification="A2")
    assert done.report_draft["files"][0]["viewed_by_provider"] is True
    # An edit cannot claim the EXIF was seen, nor that the file was not.
    edited_draft = json.loads(json.dumps(done.report_draft))
    edited_draft["files"][0]["viewed_by_provider"] = False
    edited_draft["files"][0]["exif_viewed_by_provider"] = True
    edited_draft["additional_info"] = "edited by the analyst (synthetic)"
    kept = update_draft(analyst, done, edited_draft)
    assert kept["files"][0]["viewed_by_provider"] is True
    assert kept["files"][0]["exif_viewed_by_provider"] is False
    assert kept["additional_info"] == "edited by the analyst (synthetic)"
    edited_draft["files"][0]["md5"] = "not-a-hash"
    with pytest.raises(DraftError) as error:
        update_draft(analyst, done, edited_draft)
    assert any("md5" in path for path, _ in error.value.problems)


def test_false_positive_releases_counts_and_allow_lists(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal
) -> None:
    bank, image = known
    content = upload("c1", edited(image))
    item = Review.objects.get(content=content)
    review.false_positive(analyst, item, note="synthetic: a different picture", allow_list=True)
    content.refresh_from_db()
    assert content.decision == "allow"
    quality = bank_quality([bank.pk])[bank.pk]
    assert (quality.confirmed, quality.false_positives, quality.score) == (0, 1, 0.0)
    reset_matcher()
    again = upload("c1-again", edited(image), account="acct-9")
    assert again.decision == "allow"
    assert any(m["status"] == "suppressed" for m in again.matches)


def test_escalation_tops_the_queue_and_marks_the_report(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal
) -> None:
    _, image = known
    item = Review.objects.get(content=upload("c1", edited(image)))
    with pytest.raises(review.ReviewError, match="classification"):
        review.confirm(analyst, item, classification="")
    done = review.confirm(
        analyst, item, classification="A1", escalation_reason="synthetic: child in danger"
    )
    assert done.escalated and done.priority == 100
    assert done.report_draft["incident"]["escalation"]["reason"] == "synthetic: child in danger"
    assert AuditEntry.objects.filter(action="review.escalate").exists()


def test_repeat_offenders_go_first(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal, system: Principal
) -> None:
    bank, _ = known
    for seed in (3, 9):
        record = hash_file(_write(jpeg(picture(seed))), ScanOptions())
        banks.add_entry(
            system, bank, signal_type="pdq", hash_hex=record["pdq"], external_id=f"k{seed}"
        )
    for seed in (1, 3):
        item = Review.objects.get(content=upload(f"c{seed}", edited(picture(seed))))
        review.confirm(analyst, item, classification="B1")
    assert UploaderAccount.objects.get(account_id="acct-1").confirmed == 2
    c4 = upload("c4", jpeg(picture(9), quality=70))
    assert c4.decision == "hold", c4.matches
    repeat = Review.objects.get(content=c4)
    first_time = Review.objects.get(
        content=upload("c4-other", jpeg(picture(9), quality=55), account="acct-new")
    )
    assert (repeat.priority, first_time.priority) == (70, 50)
    assert list(review.queue(analyst))[:2] == [repeat, first_time]


def test_policies_block_enable_gradually_notify_and_guard_floods(
    upload: Scanner, known: tuple[Bank, Image.Image], agency: Agency
) -> None:
    bank, image = known
    admin = principal_for_user(make_user(Role.ADMINISTRATOR, agency))
    assert admin is not None
    update_policy(admin, bank, PolicyChange(block=True, hold=True, report=True, notify=True))
    blocked = upload("c1", edited(image))
    assert blocked.decision == "block" and blocked.policy["review"] is True
    assert Alert.objects.filter(kind="match").count() == 1
    update_policy(
        admin,
        bank,
        PolicyChange(block=False, hold=True, report=True, notify=False, enable_percent=0),
    )
    trial = upload("c2", edited(image), account="acct-2")
    assert trial.decision == "allow" and trial.policy["trial_banks"] == [bank.pk]
    update_policy(
        admin, bank, PolicyChange(block=True, hold=True, report=True, notify=False, flood_limit=3)
    )
    decisions = [
        upload(f"f{k}", jpeg(image, quality=50 + k), account=f"a{k}").decision for k in range(5)
    ]
    policy = BankPolicy.objects.get(bank=bank)
    assert policy.paused_at is not None and "auto-actions paused" in policy.paused_reason
    assert decisions[:2] == ["block", "block"] and set(decisions[3:]) == {"hold"}
    assert Alert.objects.filter(kind="flood_guard").count() == 1
    assert AuditEntry.objects.filter(action="detection.flood_paused").count() == 1


def test_an_appeal_is_decided_by_a_second_reviewer_and_an_overturn_restores(
    upload: Scanner,
    known: tuple[Bank, Image.Image],
    analyst: Principal,
    second_analyst: Principal,
    system: Principal,
) -> None:
    bank, image = known
    content = upload("c1", edited(image))
    item = Review.objects.get(content=content)
    with pytest.raises(appeals.AppealError, match="confirmed"):
        appeals.file_appeal(system, content, "synthetic: it is my own drawing")
    review.confirm(analyst, item, classification="B2")
    content.refresh_from_db()
    statement = statement_of_reasons(content)
    assert statement["decision"] == "block" and statement["can_appeal"] is True
    assert statement["automated_detection"] and not statement["automated_decision"]
    assert "k1" not in json.dumps(statement)  # no bank entry named to the uploader
    appeal = appeals.file_appeal(system, content, "synthetic: it is my own drawing")
    with pytest.raises(appeals.AppealError, match="already"):
        appeals.file_appeal(system, content, "again")
    with pytest.raises(appeals.AppealError, match="second reviewer"):
        appeals.decide_appeal(analyst, appeal, overturn=True, note="mine")
    appeals.decide_appeal(second_analyst, appeal, overturn=True, note="synthetic: not a match")
    content.refresh_from_db()
    assert content.decision == "allow" and content.restored_at is not None
    removed_here = Bank.objects.get(agency_id=content.agency_id, name=REMOVED_HERE)
    assert not BankEntry.objects.filter(bank=removed_here, enabled=True).exists()
    assert BankEntry.objects.get(bank=bank, external_id="k1").metadata["overturned"] == 1
    assert bank_quality([bank.pk])[bank.pk].false_positives == 1
    assert statement_of_reasons(content)["restored"] is True


def test_a_late_bank_entry_puts_past_uploads_in_the_queue(
    upload: Scanner, system: Principal
) -> None:
    image = picture(5)
    past = upload("old-1", edited(image))
    assert past.decision == "allow"
    bank = banks.create_bank(system, name="Late list (benign)")
    record = hash_file(_write(jpeg(image)), ScanOptions())
    banks.add_entry(system, bank, signal_type="pdq", hash_hex=record["pdq"], external_id="late")
    follow()
    past.refresh_from_db()
    assert past.decision == "hold"
    item = Review.objects.get(content=past)
    assert item.state == "pending" and item.evidence is None  # only its hashes were kept


def _write(data: bytes) -> Path:
    path = Path(settings.HAVEN.media_dir) / f"tmp-{random.random()}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_api_answers_the_decision_and_takes_an_appeal(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal, agency: Agency
) -> None:
    _, image = known
    content = upload("c1", edited(image))
    client = token_client(agency, ["scan"])
    answer = client.post(
        "/api/v1/scan/decision", {"content_id": "c1"}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json()["decision"] == "hold" and answer.json()["review"] == "pending"
    refused = client.post(
        "/api/v1/scan/appeal",
        {"content_id": "c1", "statement": "synthetic"},
        content_type="application/json",
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "appeal_refused"
    review.confirm(analyst, Review.objects.get(content=content), classification="B2")
    filed = client.post(
        "/api/v1/scan/appeal",
        {"content_id": "c1", "statement": "synthetic"},
        content_type="application/json",
    )
    assert filed.status_code == 201 and filed.json()["state"] == "pending"
    missing = client.post(
        "/api/v1/scan/decision", {"content_id": "nope"}, content_type="application/json"
    )
    assert missing.status_code == 404


def test_sending_the_report_seals_the_file_and_starts_retention(
    upload: Scanner, known: tuple[Bank, Image.Image], analyst: Principal, system: Principal
) -> None:
    from haven.detection.reporting import send_report
    from haven.evidence.models import CustodyEvent
    from haven.exchange.models import PinnedNode
    from haven.keys.keyring import fingerprint, key_id_of
    from haven.reports import services as reports
    from haven.reports.models import OutgoingFile, OutgoingReport
    from haven.reports.sealing import open_file
    from haven.web.node import keyring

    _, image = known
    data = edited(image)
    item = Review.objects.get(content=upload("c1", data))
    review.reveal(analyst, item)
    done = review.confirm(analyst, item, classification="A2")
    public = keyring().signing.public_key
    pin = PinnedNode.objects.create(
        name="National authority (synthetic)",
        public_key=public.hex(),
        key_id=key_id_of(public),
        fingerprint=fingerprint(public),
    )
    authority = reports.add_destination(
        system,
        name="Authority",
        url="https://authority.example",
        token="t" * 20,
        recipient_key_id=pin.key_id,
    )
    with pytest.raises(DraftError, match="destination"):
        send_report(analyst, done, [])
    (queued,) = send_report(analyst, done, [authority])
    assert queued.payload["files"][0]["viewed_by_provider"] is True
    assert queued.payload["files"][0]["encrypted_content"]["recipient_key_id"] == pin.key_id
    sealed = bytes(OutgoingFile.objects.get(report=queued).ciphertext)
    assert data not in sealed
    assert open_file(sealed, keyring().signing.seed) == data
    done.refresh_from_db()
    assert done.report_id == queued.report_id
    evidence = EvidenceItem.objects.get(pk=done.evidence_id)
    assert evidence.reported_at is not None
    assert CustodyEvent.objects.filter(item=evidence, action="reported").exists()
    assert UploaderAccount.objects.get(account_id="acct-1").reports == 1
    with pytest.raises(DraftError, match="sent already"):
        send_report(analyst, done, [authority])
    assert OutgoingReport.objects.count() == 1


def clip(
    path: Path, *, brighten: int = 0, size: tuple[int, int] = (160, 120), seed: int = 5
) -> bytes:
    """A benign synthetic clip: coloured blocks sliding by one column a second, 4 s."""
    import av

    rng = np.random.default_rng(seed)
    blocks = rng.integers(20, 216, (6, 8, 3)).astype(np.uint8)
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"  # type: ignore[union-attr]
        for index in range(40):
            pixels = np.kron(np.roll(blocks, index // 10, axis=1), np.ones((20, 20, 1), np.uint8))
            picture_ = Image.fromarray(
                np.clip(pixels.astype(int) + brighten, 0, 255).astype(np.uint8)
            )
            frame = av.VideoFrame.from_ndarray(np.asarray(picture_.resize(size)), format="rgb24")
            container.mux(stream.encode(frame))  # type: ignore[union-attr]
        container.mux(stream.encode(None))  # type: ignore[union-attr]
    return path.read_bytes()


def _bank_video(system: Principal, bank: Bank, data: bytes, external_id: str) -> None:
    record = hash_file(_write_named(data, ".mp4"), ScanOptions())
    frames = [(int(f[1]), bytes.fromhex(f[2])) for f in record["frames"]]
    banks.add_video_entry(system, bank, frames=frames, external_id=external_id)


def _write_named(data: bytes, suffix: str) -> Path:
    path = Path(settings.HAVEN.media_dir) / f"tmp-{random.random()}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_video_is_held_confirmed_and_its_reupload_blocked(
    tmp_path: Path, system: Principal, analyst: Principal, agency: Agency
) -> None:
    bank = banks.create_bank(system, name="Known videos (benign stand-ins)")
    _bank_video(system, bank, clip(tmp_path / "known.mp4"), "v1")
    edited_clip = clip(tmp_path / "edit.mp4", brighten=10)

    def send(cid: str, data: bytes, account: str) -> ScannedContent:
        path = _write_named(data, ".mp4")
        record = hash_file(path, ScanOptions(dihedral=True))
        info = ContentInfo(cid, uploader_account=account, surface="private_message")
        return scan(
            system, info, record, media=MediaFile(str(path), f"{cid}.mp4", "video/mp4")
        ).content

    held = send("v-1", edited_clip, "acct-1")
    assert held.media == "video" and held.decision == "hold", (
        held.matches,
        held.hashes.get("frames"),
    )
    assert any(m["signal_type"] == "vpdq" for m in held.matches)
    item = Review.objects.get(content=held)
    assert item.evidence is not None and item.evidence.media_type == "video/mp4"
    review.confirm(analyst, item, classification="B2")
    removed = Bank.objects.get(agency=agency, name=REMOVED_HERE)
    assert BankEntry.objects.filter(bank=removed, signal_type="vpdq").count() == 1
    reset_matcher()
    again = send("v-2", clip(tmp_path / "again.mp4", brighten=-10, size=(144, 108)), "acct-2")
    assert again.decision == "block" and again.policy["review"] is False
    assert Review.objects.get(content=again).state == "confirmed"  # automatic, not queued


def test_a_video_banked_later_holds_the_earlier_upload(tmp_path: Path, system: Principal) -> None:
    path = _write_named(clip(tmp_path / "old.mp4", seed=8, brighten=8), ".mp4")
    record = hash_file(path, ScanOptions(dihedral=True))
    past = scan(system, ContentInfo("v-old"), record).content
    assert past.decision == "allow"
    bank = banks.create_bank(system, name="Late videos (benign)")
    _bank_video(system, bank, clip(tmp_path / "late.mp4", seed=8), "v-late")
    follow()
    past.refresh_from_db()
    assert past.decision == "hold" and Review.objects.filter(content=past).exists()


def test_a_retracted_entry_lifts_the_blocks_it_alone_caused_but_not_a_confirmation(
    upload: Scanner, known: tuple[Bank, Image.Image], agency: Agency, analyst: Principal
) -> None:
    bank, image = known
    admin = principal_for_user(make_user(Role.ADMINISTRATOR, agency))
    assert admin is not None
    add_hook(system_principal(agency.pk, "test"), "https://hooks.example/r", "s" * 24)
    update_policy(admin, bank, PolicyChange(block=True, hold=True, report=True, notify=False))
    other = hash_file(_write(jpeg(picture(3))), ScanOptions())
    banks.add_entry(admin, bank, signal_type="pdq", hash_hex=other["pdq"], external_id="k3")
    follow()  # the cursor is past the known entries
    blocked = upload("b1", edited(image))
    confirmed = upload("b2", edited(picture(3)), account="acct-2")
    assert blocked.decision == confirmed.decision == "block"
    review.confirm(analyst, Review.objects.get(content=confirmed), classification="B1")
    follow()  # b2's "removed here" entries match b2 alone
    for external_id in ("k1", "k3"):
        entry = BankEntry.objects.get(bank=bank, external_id=external_id)
        banks.set_entry_enabled(system_principal(agency.pk, "test"), entry, False)
    run = follow()
    blocked.refresh_from_db()
    confirmed.refresh_from_db()
    assert blocked.decision == "allow" and run.lifted == [blocked.pk]
    assert not Review.objects.filter(content=blocked).exists()
    assert confirmed.decision == "block"  # a person confirmed it: the retraction does not undo it
    events = list(
        HookDelivery.objects.filter(content=blocked).values_list("body__event", flat=True)
    )
    assert events == ["release"]

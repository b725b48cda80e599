"""Retroactive matching, checked against a brute-force oracle of Hamming distances."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command
from tests.accounts.helpers import make_agency
from tests.banks.helpers import flip_bits

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, system_principal
from haven.audit.models import AuditEntry
from haven.banks import services as banks
from haven.detection.models import ScannedContent
from haven.detection.retro import follow
from haven.detection.services import ContentInfo, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Example Ads (synthetic provider)")


@pytest.fixture
def system(agency: Agency) -> Principal:
    return system_principal(agency.pk, "test")


def _scan(system: Principal, cid: str, pdq: bytes) -> ScannedContent:
    record = {"type": "image", "pdq": pdq.hex(), "dihedral": [pdq.hex()]}
    return scan(system, ContentInfo(cid), record).content


def test_a_new_entry_holds_exactly_the_past_uploads_within_its_threshold(system: Principal) -> None:
    rng = random.Random(3)
    known = rng.randbytes(32)
    uploads = {f"u{k}": flip_bits(known, d, rng) for k, d in enumerate([0, 5, 20, 31, 32, 60])}
    uploads |= {f"r{k}": rng.randbytes(32) for k in range(200)}
    for cid, pdq in uploads.items():
        assert _scan(system, cid, pdq).decision == "allow"  # no banks yet
    follow()  # nothing new yet
    bank = banks.create_bank(system, name="Known (benign)", threshold=31)
    banks.add_entry(system, bank, signal_type="pdq", hash_hex=known.hex(), external_id="late")
    run = follow()

    def distance(a: bytes, b: bytes) -> int:
        return bin(int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).count("1")

    oracle = {cid for cid, pdq in uploads.items() if distance(pdq, known) <= 31}
    held = set(ScannedContent.objects.filter(decision="hold").values_list("content_id", flat=True))
    assert held == oracle and {"u0", "u1", "u2", "u3"} <= held and "u4" not in held
    assert len(run.held) == len(oracle)
    one = ScannedContent.objects.get(content_id="u1")
    assert one.matches[0]["retroactive"] is True and one.matches[0]["distance"] == 5
    assert AuditEntry.objects.filter(action="detection.retroactive_hold").count() == len(oracle)
    assert follow().held == []  # a second run finds nothing new


def test_disabling_the_entry_lifts_the_holds_it_alone_caused(system: Principal) -> None:
    rng = random.Random(4)
    known, other = rng.randbytes(32), rng.randbytes(32)
    bank = banks.create_bank(system, name="Known (benign)", threshold=31)
    first = banks.add_entry(system, bank, signal_type="pdq", hash_hex=known.hex(), external_id="a")
    banks.add_entry(system, bank, signal_type="pdq", hash_hex=other.hex(), external_id="b")
    alone = scan(system, ContentInfo("alone"), {"type": "image", "pdq": known.hex()}).content
    both = scan(
        system,
        ContentInfo("both"),
        {"type": "image", "pdq": known.hex(), "dihedral": [known.hex(), other.hex()]},
    ).content
    assert alone.decision == both.decision == "hold"
    follow()
    banks.set_entry_enabled(system, first, False)
    run = follow()
    alone.refresh_from_db()
    both.refresh_from_db()
    assert alone.decision == "allow" and alone.matches == []
    assert both.decision == "hold" and [m["external_id"] for m in both.matches] == ["b"]
    assert run.lifted == [alone.pk]
    assert AuditEntry.objects.filter(action="detection.hold_lifted").count() == 1


def test_other_agencies_banks_never_hold_an_upload(system: Principal) -> None:
    rng = random.Random(5)
    known = rng.randbytes(32)
    _scan(system, "mine", known)
    elsewhere = system_principal(make_agency("Another provider (synthetic)").pk, "test")
    bank = banks.create_bank(elsewhere, name="Theirs")
    banks.add_entry(elsewhere, bank, signal_type="pdq", hash_hex=known.hex())
    follow()
    assert ScannedContent.objects.get(content_id="mine").decision == "allow"


def test_md5_entries_match_past_uploads_exactly_and_the_command_runs(system: Principal) -> None:
    digest = "0123456789abcdef0123456789abcdef"
    scan(system, ContentInfo("file"), {"type": "image", "md5": digest})
    bank = banks.create_bank(system, name="Exact (benign)")
    banks.add_entry(system, bank, signal_type="md5", hash_hex=digest)
    out = io.StringIO()
    call_command("detection", "rematch", stdout=out)
    assert "held 1 past upload(s)" in out.getvalue()
    assert ScannedContent.objects.get(content_id="file").decision == "hold"

"""Bank services: validation, permissions and reach, the change log, audit, imports, exports."""

from __future__ import annotations

import random

import pytest
from django.http import Http404
from django.test import override_settings
from tests.banks.helpers import random_pdq

from haven.accounts.models import Agency
from haven.accounts.permissions import PermissionDenied, Principal
from haven.audit.models import AuditEntry
from haven.banks import services
from haven.banks.models import Bank, BankChange, BankEntry
from haven.banks.services import BankError

pytestmark = pytest.mark.django_db

H1 = "a" * 64
H2 = "b" * 64
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _bank(principal: Principal, name: str = "Hotline list", **kwargs: object) -> Bank:
    return services.create_bank(principal, name=name, **kwargs)  # type: ignore[arg-type]


def _actions(entry_id: object) -> list[str]:
    found = AuditEntry.objects.filter(target_type="bank_entry", target_id=str(entry_id))
    return list(found.values_list("action", flat=True))


# -- banks ----------------------------------------------------------------------------------


def test_create_bank_writes_change_and_audit(analyst: Principal) -> None:
    bank = _bank(analyst, threshold=20, source="national hotline")
    assert bank.agency_id == analyst.agency_id and bank.owner_id == analyst.user_id
    assert bank.threshold == 20 and bank.source == "national hotline"
    change = BankChange.objects.get(bank=bank)
    assert change.entry is None and change.kind == "settings"
    entry = AuditEntry.objects.get(action="bank.create")
    assert entry.actor == analyst.actor and entry.target_id == str(bank.pk)
    assert entry.detail["threshold"] == 20


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "must not be empty"),
        ("name", "x" * 201, "longer than 200"),
        ("threshold", 65, "0..64"),
        ("threshold", -1, "0..64"),
        ("threshold", True, "integer"),
        ("classification_scheme", "colours", "unknown classification scheme"),
        ("is_allow_list", "yes", "true or false"),
    ],
)
def test_create_bank_refuses_bad_input(
    analyst: Principal, field: str, value: object, message: str
) -> None:
    kwargs: dict[str, object] = {"name": "A bank", field: value}
    with pytest.raises(BankError, match=message):
        services.create_bank(analyst, **kwargs)  # type: ignore[arg-type]
    assert not Bank.objects.exists() and not BankChange.objects.exists()
    assert not AuditEntry.objects.filter(action="bank.create").exists()


def test_bank_names_are_unique_within_an_agency(analyst: Principal, outsider: Principal) -> None:
    _bank(analyst, "Shared name")
    with pytest.raises(BankError, match="already exists"):
        _bank(analyst, "Shared name")
    assert _bank(outsider, "Shared name").agency_id == outsider.agency_id


def test_writing_needs_banks_write(reader: Principal) -> None:
    with pytest.raises(PermissionDenied, match="banks:write"):
        _bank(reader)


def test_banks_out_of_reach_are_404(analyst: Principal, outsider: Principal) -> None:
    bank = _bank(analyst)
    assert list(services.visible_banks(outsider)) == []
    with pytest.raises(Http404):
        services.get_bank(outsider, bank.pk)
    with pytest.raises(Http404):
        services.update_bank(outsider, bank, threshold=3)
    with pytest.raises(Http404):
        services.add_entry(outsider, bank, signal_type="pdq", hash_hex=H1)
    assert Bank.objects.get(pk=bank.pk).threshold == 31


def test_update_bank(analyst: Principal) -> None:
    bank = _bank(analyst)
    before = BankChange.objects.count()
    bank = services.update_bank(analyst, bank, threshold=12, is_allow_list=True)
    assert (bank.threshold, bank.is_allow_list) == (12, True)
    assert BankChange.objects.count() == before + 1
    audit = AuditEntry.objects.get(action="bank.update")
    assert audit.detail["fields"] == ["is_allow_list", "threshold"]
    # No change: no change row, no audit entry.
    services.update_bank(analyst, bank, threshold=12)
    assert BankChange.objects.count() == before + 1
    with pytest.raises(BankError, match="cannot change agency"):
        services.update_bank(analyst, bank, agency=3)
    with pytest.raises(BankError, match=r"0\.\.64"):
        services.update_bank(analyst, bank, threshold=100)


def test_scheme_change_refused_when_entries_do_not_fit(analyst: Principal) -> None:
    bank = _bank(analyst)
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=H1, classification="A1")
    with pytest.raises(BankError, match="outside the scheme"):
        services.update_bank(analyst, bank, classification_scheme="baseline")


# -- entries --------------------------------------------------------------------------------


def test_add_entry(analyst: Principal) -> None:
    bank = _bank(analyst)
    entry = services.add_entry(
        analyst, bank, signal_type="pdq", hash_hex=H1.upper(), classification="B2", note="n"
    )
    assert bytes(entry.hash) == bytes.fromhex(H1)
    assert entry.external_id == f"pdq:{H1}" and entry.added_by_id == analyst.user_id
    assert BankChange.objects.filter(entry=entry, kind="entry").count() == 1
    assert _actions(entry.pk) == ["bank.entry_add"]
    md5 = services.add_entry(analyst, bank, signal_type="md5", hash_hex=MD5, external_id="m1")
    assert md5.signal_type == "md5" and md5.external_id == "m1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signal_type": "pdq", "hash_hex": "a" * 63}, "64 hex digits, got 63"),
        ({"signal_type": "pdq", "hash_hex": "g" * 64}, "non-hex character 'g'"),
        ({"signal_type": "md5", "hash_hex": H1}, "32 hex digits"),
        ({"signal_type": "sha1", "hash_hex": H1}, "unknown signal type"),
        ({"signal_type": "vpdq", "hash_hex": H1}, "importing its .vpdq"),
        ({"signal_type": "pdq", "hash_hex": H1, "classification": "Z9"}, "not in bank"),
        ({"signal_type": "pdq", "hash_hex": H1, "classification": "baseline"}, "not in bank"),
    ],
)
def test_add_entry_refuses_bad_input(
    analyst: Principal, kwargs: dict[str, str], message: str
) -> None:
    bank = _bank(analyst)
    with pytest.raises(BankError, match=message):
        services.add_entry(analyst, bank, **kwargs)  # type: ignore[arg-type]
    assert not BankEntry.objects.exists()


def test_duplicate_external_id_refused(analyst: Principal) -> None:
    bank = _bank(analyst)
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=H1, external_id="x")
    with pytest.raises(BankError, match="already has an entry"):
        services.add_entry(analyst, bank, signal_type="pdq", hash_hex=H2, external_id="x")


def test_enable_disable_entry(analyst: Principal) -> None:
    bank = _bank(analyst)
    entry = services.add_entry(analyst, bank, signal_type="pdq", hash_hex=H1)
    entry = services.set_entry_enabled(analyst, entry, False)
    assert not BankEntry.objects.get(pk=entry.pk).enabled
    services.set_entry_enabled(analyst, entry, False)  # already: nothing happens
    entry = services.set_entry_enabled(analyst, entry, True)
    assert _actions(entry.pk) == ["bank.entry_add", "bank.entry_disable", "bank.entry_enable"]
    assert BankChange.objects.filter(entry=entry).count() == 3


def test_update_entry(analyst: Principal, reader: Principal) -> None:
    bank = _bank(analyst)
    entry = services.add_entry(analyst, bank, signal_type="pdq", hash_hex=H1)
    entry = services.update_entry(analyst, entry, note="seen twice", classification="A2")
    assert (entry.note, entry.classification) == ("seen twice", "A2")
    audit = AuditEntry.objects.get(action="bank.entry_update")
    assert "seen twice" not in str(audit.detail)  # free text stays out of the audit log
    with pytest.raises(PermissionDenied):
        services.update_entry(reader, entry, note="x")


# -- system principal -----------------------------------------------------------------------


def test_system_principal_is_audited_as_system_cli(agency: Agency) -> None:
    system = services.system_principal(agency.pk)
    bank = _bank(system, "From the command line")
    assert bank.agency_id == agency.pk and bank.owner_id is None
    assert AuditEntry.objects.get(action="bank.create").actor == "system:cli"


# -- imports --------------------------------------------------------------------------------


def test_import_plain_keeps_provenance(analyst: Principal) -> None:
    bank = _bank(analyst)
    text = f"# a comment\n{H1}\n\n{H2}\n"
    result = services.import_hash_list(analyst, bank, text, "list.txt", classification="A1")
    assert (result.added, result.duplicates, result.total) == (2, 0, 2)
    entries = list(bank.entries.order_by("pk"))
    assert [e.external_id for e in entries] == ["list.txt:2", "list.txt:4"]
    assert {e.source_list for e in entries} == {"list.txt"}
    assert {e.classification for e in entries} == {"A1"}
    audit = AuditEntry.objects.get(action="bank.import")
    assert audit.detail["added"] == 2 and audit.detail["total"] == 2


def test_import_csv_uses_id_and_classification_columns(analyst: Principal) -> None:
    bank = _bank(analyst)
    text = f"id,hash,classification,seen\nx-1,{H1},A1,2024\nx-2,{H2},,2025\n"
    services.import_hash_list(analyst, bank, text, "hotline.csv", classification="B1")
    rows = {e.external_id: e for e in bank.entries.all()}
    assert rows["x-1"].classification == "A1" and rows["x-2"].classification == "B1"
    assert rows["x-1"].metadata == {"seen": "2024"}


def test_import_local_file_mixed_signals(analyst: Principal) -> None:
    bank = _bank(analyst)
    text = f"pdq {H1}\nmd5 {MD5}\nsha256 {SHA}\n"
    result = services.import_hash_list(analyst, bank, text, "tx.txt", format="local_file")
    assert result.added == 3
    assert sorted(bank.entries.values_list("signal_type", flat=True)) == ["md5", "pdq", "sha256"]


def test_import_plain_md5_with_signal_type(analyst: Principal) -> None:
    bank = _bank(analyst)
    services.import_hash_list(analyst, bank, MD5 + "\n", "md5s.txt", signal_type="md5")
    assert bank.entries.get().signal_type == "md5"


def test_import_vpdq_makes_one_video_entry(analyst: Principal) -> None:
    bank = _bank(analyst)
    rng = random.Random(5)
    frames = [random_pdq(rng) for _ in range(4)]
    lines = [
        f"{i * 30},{q},{f.hex()},{i:.3f}"
        for i, (f, q) in enumerate(zip(frames, [90, 100, 20, 80], strict=True))
    ]
    result = services.import_hash_list(analyst, bank, "\n".join(lines) + "\n", "clip.vpdq")
    assert (result.added, result.total) == (1, 1)
    entry = bank.entries.get()
    assert entry.signal_type == "vpdq" and entry.external_id == "clip.vpdq"
    unpacked = services.unpack_frames(entry.frames)
    assert unpacked == [(q, f) for f, q in zip(frames, [90, 100, 20, 80], strict=True)]
    assert entry.metadata["frame_numbers"] == [0, 30, 60, 90]
    assert entry.metadata["matchable_frames"] == 3
    # The same video again is a duplicate; exported back it is the same text.
    again = services.import_hash_list(analyst, bank, "\n".join(lines) + "\n", "clip.vpdq")
    assert (again.added, again.duplicates) == (0, 1)
    exported = services.export_bank(analyst, bank, format="vpdq")
    assert exported == "\n".join(lines) + "\n"


def test_import_duplicates_by_external_id(analyst: Principal) -> None:
    bank = _bank(analyst)
    services.import_hash_list(analyst, bank, f"{H1}\n{H2}\n", "a.txt")
    result = services.import_hash_list(analyst, bank, f"{H1}\n{H2}\n{'c' * 64}\n", "a.txt")
    assert (result.added, result.duplicates, result.total) == (1, 2, 3)
    assert any("already in the bank" in note for note in result.errors)
    # Repeated ids inside one list count as duplicates too.
    text = f"id,hash\nsame,{H1}\nsame,{H2}\n"
    result = services.import_hash_list(analyst, bank, text, "b.csv")
    assert (result.added, result.duplicates) == (1, 1)


def test_import_in_batches_reports_progress(
    analyst: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "IMPORT_BATCH", 4)
    bank = _bank(analyst)
    rng = random.Random(1)
    text = "".join(random_pdq(rng).hex() + "\n" for _ in range(10))
    calls: list[tuple[int, int]] = []
    result = services.import_hash_list(
        analyst, bank, text, "big.txt", progress=lambda d, t: calls.append((d, t))
    )
    assert result.added == 10 and calls == [(4, 10), (8, 10), (10, 10)]
    ranges = list(BankChange.objects.filter(bank=bank, kind="range").order_by("pk"))
    assert len(ranges) == 3
    pks = sorted(bank.entries.values_list("pk", flat=True))
    assert (ranges[0].entry_from, ranges[-1].entry_to) == (pks[0], pks[-1])


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (f"{H1}\n{'a' * 63}\n", {}, "list.txt:2: pdq hash must be 64 hex digits, got 63"),
        ("", {}, "holds no hashes"),
        ("# only comments\n", {}, "holds no hashes"),
        (f"{H1}\n", {"format": "xml"}, "unknown format"),
        (f"{H1}\n", {"classification": "A9"}, "not in bank"),
        (f"id,hash,classification\n1,{H1},Z\n", {"format": "csv"}, "list.txt:2"),
        (f"vpdq {H1}\n", {"format": "local_file"}, "unsupported signal type"),
        (f"id,hash,signal_type\n1,{H1},vpdq\n", {"format": "csv"}, "own .vpdq list"),
        ("0,100,zz\n", {"format": "vpdq"}, "list.txt:1: pdq hash must be 64"),
        (f"id,hash,seen\n1,{H1},a\x00b\n", {}, "NUL characters"),
    ],
)
def test_import_refuses_bad_lists_and_changes_nothing(
    analyst: Principal, text: str, kwargs: dict[str, str], message: str
) -> None:
    bank = _bank(analyst)
    changes = BankChange.objects.count()
    with pytest.raises(BankError, match=message.replace("(", r"\(")):
        services.import_hash_list(analyst, bank, text, "list.txt", **kwargs)  # type: ignore[arg-type]
    assert not BankEntry.objects.exists() and BankChange.objects.count() == changes


@override_settings()
def test_import_refuses_huge_input(analyst: Principal, settings: object) -> None:
    from django.conf import settings as django_settings

    bank = _bank(analyst)
    limit = django_settings.HAVEN.max_upload_bytes
    text = (H1 + "\n") * (limit // 65 + 1)
    with pytest.raises(BankError, match="larger than the"):
        services.import_hash_list(analyst, bank, text, "huge.txt")
    assert not BankEntry.objects.exists()


def test_import_needs_write_and_reach(
    analyst: Principal, reader: Principal, outsider: Principal
) -> None:
    bank = _bank(analyst)
    with pytest.raises(PermissionDenied):
        services.import_hash_list(reader, bank, H1, "x.txt")
    with pytest.raises(Http404):
        services.import_hash_list(outsider, bank, H1, "x.txt")


# -- exports --------------------------------------------------------------------------------


def test_export_round_trip_csv(analyst: Principal) -> None:
    bank = _bank(analyst)
    text = f"id,hash,classification,seen\nx-1,{H1},A1,2024\nx-2,{H2},B2,2025\n"
    services.import_hash_list(analyst, bank, text, "hotline.csv")
    services.add_entry(analyst, bank, signal_type="md5", hash_hex=MD5, note="line\nbreak")
    exported = services.export_bank(analyst, bank, format="csv")
    assert exported.splitlines()[0] == "id,signal_type,hash,classification,note,seen,source_list"
    copy = _bank(analyst, "Copy")
    result = services.import_hash_list(analyst, copy, exported, "export.csv")
    assert result.added == 3

    def rows(b: Bank) -> set[tuple[str, str, bytes, str, str, str]]:
        return {
            (e.external_id, e.signal_type, bytes(e.hash), e.classification, e.source_list,
             str(e.metadata.get("seen", "")))
            for e in b.entries.all()
        }  # fmt: skip

    assert rows(copy) == rows(bank)
    assert AuditEntry.objects.filter(action="bank.export").count() == 1


def test_export_formats(analyst: Principal) -> None:
    bank = _bank(analyst)
    services.import_hash_list(analyst, bank, f"{H1}\n{H2}\n", "a.txt")
    assert services.export_bank(analyst, bank, format="plain") == f"{H1}\n{H2}\n"
    assert services.export_bank(analyst, bank, format="local_file") == f"pdq {H1}\npdq {H2}\n"
    entry = bank.entries.get(external_id="a.txt:1")
    services.set_entry_enabled(analyst, entry, False)
    assert services.export_bank(analyst, bank, format="plain") == f"{H2}\n"
    assert (
        services.export_bank(analyst, bank, format="plain", include_disabled=True).count("\n") == 2
    )
    services.add_entry(analyst, bank, signal_type="md5", hash_hex=MD5)
    with pytest.raises(BankError, match="mixes signal types"):
        services.export_bank(analyst, bank, format="plain")
    with pytest.raises(BankError, match="no such vPDQ video"):
        services.export_bank(analyst, bank, format="vpdq")
    with pytest.raises(BankError, match="unknown format"):
        services.export_bank(analyst, bank, format="xml")


def test_export_needs_permission(analyst: Principal, reader: Principal) -> None:
    bank = _bank(analyst)
    with pytest.raises(PermissionDenied, match="banks:export"):
        services.export_bank(reader, bank)
    assert not AuditEntry.objects.filter(action="bank.export").exists()

"""`haven bank`: list, create, import with progress, export; a full round trip."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.banks.helpers import random_pdq

from haven.audit.models import AuditEntry
from haven.banks.models import Bank, BankEntry

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("bank", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_and_list() -> None:
    out, err = run("create", "Hotline list", "--agency", "Hotline A", "--threshold", "20")
    bank = Bank.objects.get()
    assert out.strip() == str(bank.pk) and "created bank 'Hotline list'" in err
    assert bank.agency.name == "Hotline A" and bank.threshold == 20
    run("create", "Benign", "--agency", "Hotline A", "--allow-list", "--source", "ngo")
    assert Bank.objects.get(name="Benign").is_allow_list
    listed = json.loads(run("list", "--json")[0])
    assert [(b["name"], b["allow_list"], b["entries"]) for b in listed] == [
        ("Hotline list", False, 0),
        ("Benign", True, 0),
    ]
    run("import", "Benign", "--no-progress", *_lists())
    (benign,) = (b for b in json.loads(run("list", "--json")[0]) if b["name"] == "Benign")
    assert benign["by_signal"] == {"md5": 1, "pdq": 2} and benign["entries"] == 3
    table = run("list")[0]
    assert "2 pdq" in table
    assert "Hotline list" in table and "Benign" in table
    actors = set(AuditEntry.objects.filter(action="bank.create").values_list("actor", flat=True))
    assert actors == {"system:cli"}


def _lists() -> list[str]:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "a.txt").write_text("a" * 64 + "\n" + "b" * 64 + "\n")
    (folder / "m.txt").write_text("md5 " + "c" * 32 + "\n")
    return [str(folder / "a.txt"), str(folder / "m.txt")]


def test_create_refusals() -> None:
    run("create", "Twice", "--agency", "A")
    with pytest.raises(CommandError, match="already exists"):
        run("create", "Twice", "--agency", "A")
    with pytest.raises(CommandError, match=r"0\.\.64"):
        run("create", "Wide", "--threshold", "99")


def test_import_export_round_trip(tmp_path: Path) -> None:
    rng = random.Random(4)
    hashes = [random_pdq(rng) for _ in range(12)]
    plain = tmp_path / "hotline.txt"
    plain.write_text("".join(h.hex() + "\n" for h in hashes))
    video = tmp_path / "clip.vpdq"
    video.write_text("".join(f"{i},90,{h.hex()},{i:.3f}\n" for i, h in enumerate(hashes[:3])))
    run("create", "Source", "--agency", "A")
    out, err = run("import", "Source", str(plain), str(video), "--classification", "B1")
    assert "hotline.txt: added 12, duplicates 0 (of 12)" in out
    assert "clip.vpdq: added 1, duplicates 0 (of 1)" in out
    again, _ = run("import", "Source", str(plain), "--no-progress")
    assert "added 0, duplicates 12" in again
    bank = Bank.objects.get(name="Source")
    assert bank.entries.filter(classification="B1").count() == 13
    exported = tmp_path / "export.csv"
    _, err = run("export", str(bank.pk), "--out", str(exported))
    assert "wrote 12 entries" in err
    run("create", "Copy", "--agency", "B")
    out, _ = run("import", "Copy", str(exported))
    assert "added 12" in out
    copy = Bank.objects.get(name="Copy")

    def rows(b: Bank) -> set[tuple[str, bytes, str, str]]:
        return {
            (e.external_id, bytes(e.hash), e.classification, e.source_list)
            for e in b.entries.exclude(signal_type="vpdq")
        }

    assert rows(copy) == rows(bank)
    assert {r[3] for r in rows(copy)} == {"hotline.txt"}  # provenance survives the trip
    out, _ = run("export", "Source", "--format", "plain")
    assert out == plain.read_text()
    out, _ = run("export", "Source", "--format", "vpdq")
    assert out == video.read_text()
    assert AuditEntry.objects.filter(action="bank.import", actor="system:cli").count() == 4


def test_import_refusals(tmp_path: Path) -> None:
    run("create", "Target", "--agency", "A")
    good = tmp_path / "good.txt"
    good.write_text("a" * 64 + "\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("a" * 64 + "\nnot a hash\n")
    with pytest.raises(CommandError, match=r"bad.txt:2: pdq hash .*nothing imported from bad"):
        run("import", "Target", str(good), str(bad), "--no-progress")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CommandError, match="not a UTF-8 text file"):
        run("import", "Target", str(binary))
    with pytest.raises(CommandError, match="cannot read"):
        run("import", "Target", str(tmp_path / "missing.txt"))
    with pytest.raises(CommandError, match="--max-bytes"):
        run("import", "Target", str(good), "--max-bytes", "10")
    with pytest.raises(CommandError, match="no bank with id or name 'Nope'"):
        run("import", "Nope", str(good))
    # The first file was imported before the bad one was refused; the bad one added nothing.
    assert BankEntry.objects.count() == 1


def test_ambiguous_bank_name_needs_an_id() -> None:
    run("create", "Same", "--agency", "A")
    run("create", "Same", "--agency", "B")
    with pytest.raises(CommandError, match="2 banks are named 'Same': give the id"):
        run("export", "Same")

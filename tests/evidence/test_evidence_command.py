"""`haven evidence`: list, purge (as a scheduler runs it), export and unpack a package."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from tests.accounts.helpers import make_agency

from haven.accounts.permissions import system_principal
from haven.evidence import services
from haven.evidence.models import EvidenceItem

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("evidence", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_unpack_and_purge(tmp_path: Path) -> None:
    system = system_principal(make_agency("Example Ads (synthetic)").pk, "test")
    item = services.preserve(system, b"benign synthetic stand-in", reason="held for review")
    secret = tmp_path / "passphrase"
    secret.write_text("a long enough passphrase for the test\n")
    package = tmp_path / "package.hvx"
    out = run(
        "export",
        str(item.pk),
        "--out",
        str(package),
        "--passphrase-file",
        str(secret),
        "--reason",
        "court order",
        "--reference",
        "LE-1",
    )
    assert "wrote" in out and package.stat().st_mode & 0o077 == 0
    unpacked = tmp_path / "unpacked"
    assert "1 file(s), hashes checked" in run(
        "unpack", str(package), "--passphrase-file", str(secret), "--out", str(unpacked)
    )
    assert (unpacked / "files" / item.sha256).read_bytes() == b"benign synthetic stand-in"
    assert json.loads((unpacked / "manifest.json").read_text())["reference"] == "LE-1"
    assert json.loads(run("purge", "--json"))["purged"] == []
    EvidenceItem.objects.filter(pk=item.pk).update(retain_until=timezone.now() - timedelta(days=1))
    assert json.loads(run("purge", "--json"))["purged"] == [item.pk]
    listed = json.loads(run("list", "--json"))
    assert listed[0]["id"] == item.pk and listed[0]["purged_at"]
    with pytest.raises(CommandError, match="purged"):
        run(
            "export",
            str(item.pk),
            "--out",
            str(package),
            "--passphrase-file",
            str(secret),
            "--reason",
            "again",
            "--reference",
            "LE-2",
        )


def test_a_wrong_passphrase_is_one_clear_line(tmp_path: Path) -> None:
    package = tmp_path / "p.hvx"
    package.write_bytes(b"HVX1" + b"\0" * 60)
    secret = tmp_path / "passphrase"
    secret.write_text("not the right passphrase here")
    with pytest.raises(CommandError, match="wrong passphrase"):
        run("unpack", str(package), "--passphrase-file", str(secret), "--out", str(tmp_path / "o"))

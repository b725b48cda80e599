"""Preserve, view, hold, report, purge and export: each in the custody log and the audit log.

A test reads the raw files under HAVEN_EVIDENCE_DIR and finds no content in clear; purge
removes only what expired and not held, and the audit log shows each purge.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import Http404
from django.utils import timezone
from tests.accounts.helpers import make_agency

from haven.accounts.permissions import PermissionDenied, Principal, system_principal
from haven.audit.models import AuditEntry
from haven.evidence import services
from haven.evidence.models import EvidenceItem
from haven.evidence.package import PackageError, open_package

pytestmark = pytest.mark.django_db

CONTENT = b"synthetic benign stand-in: a photo of a lighthouse, preserved for a report"
PASSPHRASE = "correct horse battery staple 42"


@pytest.fixture
def system(db: None) -> Principal:
    return system_principal(make_agency("Example Ads (synthetic)").pk, "test")


def _preserve(system: Principal, content: bytes = CONTENT) -> EvidenceItem:
    return services.preserve(
        system,
        content,
        reason="held for review after a bank match",
        metadata={"content_id": "post-1", "uploader": "acct-9", "ip": "192.0.2.7"},
        media_type="image/jpeg",
        original_name="lighthouse.jpg",
    )


def test_preserved_content_is_not_in_clear_anywhere_on_disk(system: Principal) -> None:
    item = _preserve(system)
    folder = Path(settings.HAVEN.evidence_dir)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert services.vault().path(item.blob_id) in files
    for path in files:
        assert b"lighthouse" not in path.read_bytes()
    assert item.sha256 and item.wrapped_key and CONTENT not in bytes(item.wrapped_key)
    assert [e.action for e in item.custody.all()] == ["created"]
    retention = timedelta(days=settings.HAVEN.evidence_retention_days)
    assert abs(item.retain_until - (item.created_at + retention)) < timedelta(seconds=5)


def test_viewing_needs_a_reason_and_is_recorded(system: Principal) -> None:
    item = _preserve(system)
    with pytest.raises(services.EvidenceError, match="say why"):
        services.open_item(system, item.pk, reason=" ")
    opened, content = services.open_item(system, item.pk, reason="second review")
    assert content == CONTENT
    event = opened.custody.get(action="viewed")
    assert event.reason == "second review" and event.actor == "system:test"
    assert AuditEntry.objects.filter(action="evidence.viewed", target_id=str(item.pk)).exists()


def test_items_are_seen_only_within_reach(system: Principal) -> None:
    item = _preserve(system)
    other = Principal(
        "user",
        99,
        "outsider",
        system.permissions,
        system.reach.__class__("agency"),
        system.agency_id + 1,
    )
    with pytest.raises(Http404):
        services.open_item(other, item.pk, reason="curious")
    reader = Principal("user", 98, "r", frozenset({"ads:read"}), other.reach, system.agency_id)
    with pytest.raises(PermissionDenied):
        services.open_item(reader, item.pk, reason="curious")


def test_purge_removes_only_what_expired_and_is_not_held(system: Principal) -> None:
    expired, held, kept = _preserve(system), _preserve(system), _preserve(system)
    now = timezone.now() + timedelta(days=settings.HAVEN.evidence_retention_days + 1)
    services.add_hold(
        system, held.pk, until=now + timedelta(days=90), reference="LE-2026-0001", reason="police"
    )
    services.mark_reported(system, kept, timezone.now() + timedelta(days=200), "rep-1")
    run = services.purge_expired(system, now=now)
    assert run.purged == [expired.pk] and run.kept_by_hold == 1
    expired.refresh_from_db()
    assert expired.purged_at is not None and expired.wrapped_key is None
    assert expired.metadata == {} and expired.sha256  # what was held stays known
    assert not services.vault().path(expired.blob_id).exists()
    with pytest.raises(services.EvidenceError, match="purged"):
        services.open_item(system, expired.pk, reason="too late")
    proof = AuditEntry.objects.get(action="evidence.purged")
    assert proof.target_id == str(expired.pk) and proof.detail["sha256"] == expired.sha256
    assert [e.action for e in expired.custody.all()] == ["created", "purged"]
    later = now + timedelta(days=91)
    assert set(services.purge_expired(system, now=later).purged) == {held.pk}


def test_the_export_package_holds_content_manifest_and_custody(system: Principal) -> None:
    first, second = _preserve(system), _preserve(system, b"second benign stand-in file")
    package = services.export_package(
        system, [first.pk, second.pk], passphrase=PASSPHRASE, reason="court order", reference="LE-7"
    )
    assert CONTENT not in package
    opened = open_package(package, PASSPHRASE)
    assert opened.files[first.sha256] == CONTENT
    assert {i["sha256"] for i in opened.manifest["items"]} == {first.sha256, second.sha256}
    assert opened.manifest["reference"] == "LE-7"
    actions = [e["action"] for e in opened.custody[first.sha256]]
    assert actions == ["created", "exported"]
    assert first.custody.filter(action="exported").count() == 1
    with pytest.raises(PackageError, match="wrong passphrase"):
        open_package(package, "not the passphrase at all")
    with pytest.raises(PackageError, match="at least"):
        services.export_package(system, [first.pk], passphrase="short", reason="x", reference="y")


def test_a_failed_commit_leaves_no_orphan_blob(
    system: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database gone")

    def blobs() -> set[Path]:
        return {p for p in Path(settings.HAVEN.evidence_dir).rglob("*") if p.is_file()}

    before = blobs()
    monkeypatch.setattr(services, "_custody", broken)
    with pytest.raises(RuntimeError):
        _preserve(system)
    assert not EvidenceItem.objects.exists()
    assert blobs() == before

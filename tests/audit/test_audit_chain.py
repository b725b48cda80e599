"""Appending to the audit chain: links, signed checkpoints (database and file), guards."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from tests.audit.audit_helpers import CHECKPOINT_EVERY, append_entries, node

from haven.audit import dbguard
from haven.audit.chain import GENESIS, entry_digest
from haven.audit.checkpoints import SignedCheckpoint, checkpoint_message, timestamp
from haven.audit.models import AppendOnlyError, AuditCheckpoint, AuditEntry, AuditHead
from haven.audit.services import checkpoint, checkpoint_file, record
from haven.web.node import keyring

__all__ = ["node"]

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _file_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_entries_are_numbered_from_one_and_each_links_to_the_one_before(node: Path) -> None:
    first = record("test.first", actor="system", target_type="bank", target_id=7)
    second = record("test.second", actor="system", detail={"count": 2})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.entry_hash
    fields = {
        "seq": 2,
        "at": timestamp(second.at),
        "actor": "system",
        "actor_label": "",
        "action": "test.second",
        "target_type": "",
        "target_id": "",
        "ip": "",
        "user_agent": "",
        "outcome": "ok",
        "detail": {"count": 2},
    }
    assert entry_digest(fields, first.entry_hash) == second.entry_hash
    stored = AuditEntry.objects.get(seq=2)
    assert stored.entry_hash == second.entry_hash
    assert AuditHead.objects.get(pk=1).seq == 2
    assert AuditEntry.objects.get(seq=1).target_id == "7"


def test_overlong_fields_are_cut_to_the_columns_sizes(node: Path) -> None:
    entry = record("x" * 100, actor="a" * 100, target_type="t" * 100, outcome="o" * 40)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (len(stored.action), len(stored.actor), len(stored.outcome)) == (64, 64, 16)


def test_record_is_a_handful_of_queries(
    node: Path, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    record("test.warm", actor="system")
    with django_assert_max_num_queries(6):
        record("test.event", actor="system")


def test_a_checkpoint_is_signed_every_n_entries_into_the_database_and_the_file(
    node: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    append_entries(2 * CHECKPOINT_EVERY + 2, django_capture_on_commit_callbacks)
    rows = list(AuditCheckpoint.objects.order_by("seq"))
    assert [row.seq for row in rows] == [CHECKPOINT_EVERY, 2 * CHECKPOINT_EVERY]
    path = checkpoint_file()
    assert path == node / "audit" / "checkpoints.jsonl"
    lines = _file_lines(path)
    assert [line["seq"] for line in lines] == [row.seq for row in rows]
    for row, line in zip(rows, lines, strict=True):
        entry = AuditEntry.objects.get(seq=row.seq)
        assert row.entry_hash == entry.entry_hash == line["entry_hash"]
        assert line["signed_at"] == timestamp(row.signed_at)
        message = checkpoint_message(row.seq, row.entry_hash, line["signed_at"])
        keyring().verify(row.key_id, message, bytes.fromhex(row.signature))
        assert line["signature"] == row.signature
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_rolled_back_entry_leaves_no_checkpoint_anywhere(
    node: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    append_entries(CHECKPOINT_EVERY - 1, django_capture_on_commit_callbacks)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record("test.doomed", actor="system")  # would be the checkpointed seq
        raise RuntimeError("the audited change failed")
    assert callbacks == []
    assert not AuditCheckpoint.objects.exists()
    assert not checkpoint_file().exists()
    # The seq is reused by the next entry, which is checkpointed for real.
    append_entries(1, django_capture_on_commit_callbacks)
    assert [line["seq"] for line in _file_lines(checkpoint_file())] == [CHECKPOINT_EVERY]


def test_an_unfinished_last_line_of_the_file_does_not_swallow_the_next(
    node: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    path = checkpoint_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"seq": 99, "entry_ha')  # a crash mid-append
    append_entries(CHECKPOINT_EVERY, django_capture_on_commit_callbacks)
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == CHECKPOINT_EVERY


def test_on_demand_checkpoint_signs_the_head_once(
    node: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    append_entries(3, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        first = checkpoint()
        again = checkpoint()
    assert first.seq == 3
    assert again.pk == first.pk
    assert [line["seq"] for line in _file_lines(checkpoint_file())] == [3]


def test_checkpoint_file_lines_parse_back_to_what_was_signed() -> None:
    signed = SignedCheckpoint(5, "a" * 64, "2026-01-01T00:00:00.000000+00:00", "k" * 16, "ab" * 64)
    assert SignedCheckpoint.from_line(signed.to_line(), 1) == signed


@pytest.mark.parametrize("model", [AuditEntry, AuditCheckpoint])
def test_models_refuse_to_change_or_delete_a_stored_row(node: Path, model: Any) -> None:
    for _ in range(CHECKPOINT_EVERY):
        record("test.event", actor="system")
    row = model.objects.first()
    row.entry_hash = "f" * 64
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=row.pk).update(entry_hash="0" * 64)
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    assert model.objects.get(pk=row.pk).entry_hash != "f" * 64


@pytest.mark.parametrize("table", dbguard.GUARDED_TABLES)
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET entry_hash = 'x'", "DELETE FROM {table}"]
)
def test_the_database_refuses_update_and_delete_from_any_client(
    node: Path, table: str, statement: str
) -> None:
    for _ in range(CHECKPOINT_EVERY):
        record("test.event", actor="system")
    assert dbguard.installed(connection)
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE entry_hash = 'x'")
        assert cursor.fetchone() == (0,)
    assert AuditEntry.objects.count() == CHECKPOINT_EVERY


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate(node: Path) -> None:
    record("test.event", actor="system")
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditentry")


def test_the_head_row_is_the_only_audit_row_that_changes(node: Path) -> None:
    record("test.event", actor="system")
    AuditHead.objects.filter(pk=1).update(seq=1)  # no trigger on the head
    assert AuditHead.objects.get(pk=1).seq == 1


def test_flush_empties_the_audit_tables_and_keeps_the_triggers(node: Path) -> None:
    for _ in range(CHECKPOINT_EVERY):
        record("test.event", actor="system")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    assert not AuditCheckpoint.objects.exists()
    assert dbguard.installed(connection)


@pytest.mark.django_db(transaction=True)
def test_committed_checkpoints_reach_the_file_and_the_test_flush_still_works(node: Path) -> None:
    # A real commit (no test transaction): the file copy is written on commit, and the
    # flush that ends this test passes the append-only triggers (haven.audit's `flush`).
    for _ in range(CHECKPOINT_EVERY):
        record("test.event", actor="system")
    assert [line["seq"] for line in _file_lines(checkpoint_file())] == [CHECKPOINT_EVERY]
    assert dbguard.installed(connection)

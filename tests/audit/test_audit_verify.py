"""`haven audit verify`: an intact chain passes; every kind of tampering is named, with where.

Tampering is done as a database administrator would: raw SQL with the append-only triggers
dropped (`raw_sql`), including covering tracks (moving the head record, deleting checkpoint
rows, re-hashing the chain consistently).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from tests.audit.audit_helpers import CHECKPOINT_EVERY, append_entries, node, raw_sql

from haven.audit.chain import GENESIS, HASHED_FIELDS, entry_digest
from haven.audit.checkpoints import SignedCheckpoint, timestamp
from haven.audit.models import AuditCheckpoint, AuditEntry
from haven.audit.services import checkpoint_file, record
from haven.audit.verify import VerifyResult, verify_chain
from haven.keys import KeyRing
from haven.web.node import keyring

__all__ = ["node"]

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chain(node: Path, django_capture_on_commit_callbacks: Capture) -> int:
    """22 entries: checkpoints at 5, 10, 15, 20 in the database and in the file."""
    append_entries(22, django_capture_on_commit_callbacks, target_type="bank", target_id=3)
    return 22


def _broken(result: VerifyResult, kind: str, seq: int | None) -> str:
    assert not result.ok, result.summary()
    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == (kind, seq), result.summary()
    return result.summary()


def _rehash_from(seq: int) -> None:
    """Recompute every hash from `seq` on, consistently, and move the head: a cover-up."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else GENESIS
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        fields["at"] = timestamp(entry.at)
        digest = entry_digest(fields, prev)
        raw_sql(
            "UPDATE audit_auditentry SET prev_hash = %s, entry_hash = %s WHERE seq = %s",
            [prev, digest, entry.seq],
        )
        prev = digest
    raw_sql("UPDATE audit_audithead SET entry_hash = %s", [prev])


def test_an_intact_chain_passes(chain: int) -> None:
    result = verify_chain()
    assert result.ok, result.summary()
    assert (result.entries, result.last_seq) == (chain, chain)
    assert (result.checkpoints_db, result.checkpoints_file) == (4, 4)
    assert result.last_checkpoint == 20
    assert result.summary().startswith("audit chain intact: 22 entries")
    assert result.warnings == ()


def test_an_empty_log_passes(node: Path) -> None:
    result = verify_chain()
    assert result.ok
    assert result.summary() == "audit chain intact: the log is empty"


def test_progress_is_reported(chain: int) -> None:
    seen: list[tuple[int, int]] = []
    assert verify_chain(progress=lambda done, total: seen.append((done, total))).ok
    assert seen[-1] == (chain, chain)


def test_an_edited_field_is_caught_at_its_seq(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET actor = 'user:99' WHERE seq = 7")
    summary = _broken(verify_chain(), "edited", 7)
    assert "seq 7" in summary
    assert "edited" in summary


def test_an_edited_detail_is_caught(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET detail = %s WHERE seq = 12", [json.dumps({"n": 999})])
    _broken(verify_chain(), "edited", 12)


def test_a_deleted_entry_is_caught(chain: int) -> None:
    raw_sql("DELETE FROM audit_auditentry WHERE seq = 4")
    summary = _broken(verify_chain(), "missing", 4)
    assert "entry 4 is missing" in summary


def test_deleted_entries_with_the_rest_renumbered_are_caught(chain: int) -> None:
    raw_sql("DELETE FROM audit_auditentry WHERE seq IN (8, 9)")
    for seq in range(10, chain + 1):
        raw_sql("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [seq - 2, seq])
    summary = _broken(verify_chain(), "missing", 8)
    assert "entries 8-9 deleted" in summary


def test_two_swapped_entries_are_caught(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET seq = -1 WHERE seq = 13")
    raw_sql("UPDATE audit_auditentry SET seq = 13 WHERE seq = 14")
    raw_sql("UPDATE audit_auditentry SET seq = 14 WHERE seq = -1")
    summary = _broken(verify_chain(), "reordered", 13)
    assert "written as 14" in summary


def test_an_entry_replaced_by_a_rehashed_copy_breaks_the_link(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET action = 'test.innocent' WHERE seq = 3")
    entry = AuditEntry.objects.get(seq=3)
    fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
    fields["at"] = timestamp(entry.at)
    raw_sql(
        "UPDATE audit_auditentry SET entry_hash = %s WHERE seq = 3",
        [entry_digest(fields, entry.prev_hash)],
    )
    _broken(verify_chain(), "rewritten", 4)


def test_a_truncated_tail_is_caught_through_the_file_when_its_rows_are_gone(chain: int) -> None:
    # The intruder deletes entries 13-22 and the checkpoints at 15 and 20, and moves the head
    # back to 12, so the database alone looks like a whole, shorter log.
    last = AuditEntry.objects.get(seq=12)
    raw_sql("DELETE FROM audit_auditentry WHERE seq > 12")
    raw_sql("DELETE FROM audit_auditcheckpoint WHERE seq > 12")
    raw_sql("UPDATE audit_audithead SET seq = 12, entry_hash = %s", [last.entry_hash])
    summary = _broken(verify_chain(), "truncated", 13)
    assert "truncated after seq 12" in summary
    assert "seq 15 (in the file)" in summary


def test_a_truncated_tail_is_caught_through_the_head_record(chain: int) -> None:
    raw_sql("DELETE FROM audit_auditentry WHERE seq > 20")
    checkpoint_file().unlink()
    summary = _broken(verify_chain(), "truncated", 21)
    assert "head record says it reached seq 22" in summary


def test_every_entry_deleted_is_caught(chain: int) -> None:
    raw_sql("DELETE FROM audit_auditentry")
    raw_sql("DELETE FROM audit_auditcheckpoint")
    raw_sql("DELETE FROM audit_audithead")
    summary = _broken(verify_chain(), "truncated", 1)
    assert "every entry of the log was deleted" in summary


def test_a_recomputed_chain_is_caught_by_the_signed_checkpoints(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET actor = 'user:99' WHERE seq = 7")
    _rehash_from(7)
    summary = _broken(verify_chain(), "recomputed", 10)
    assert "entries 6-10 were rewritten" in summary


def test_recomputed_with_the_checkpoint_rows_forged_too_fails_their_signatures(
    chain: int,
) -> None:
    raw_sql("UPDATE audit_auditentry SET actor = 'user:99' WHERE seq = 7")
    _rehash_from(7)
    for seq in (10, 15, 20):
        new_hash = AuditEntry.objects.get(seq=seq).entry_hash
        raw_sql("UPDATE audit_auditcheckpoint SET entry_hash = %s WHERE seq = %s", [new_hash, seq])
    summary = _broken(verify_chain(), "bad_checkpoint", 10)
    assert "in the database is not signed by this node" in summary


def test_recomputed_with_the_checkpoint_rows_deleted_is_caught_by_the_file(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET actor = 'user:99' WHERE seq = 7")
    _rehash_from(7)
    raw_sql("DELETE FROM audit_auditcheckpoint")
    summary = _broken(verify_chain(), "recomputed", 10)
    assert "(file)" in summary


def test_a_checkpoint_signed_by_another_key_is_refused(chain: int, tmp_path: Path) -> None:
    stranger = KeyRing(tmp_path / "stranger-keys")
    entry = AuditEntry.objects.get(seq=22)
    signed_at = "2026-01-01T00:00:00.000000+00:00"
    forged = SignedCheckpoint(22, entry.entry_hash, signed_at, "", "")
    key_id, signature = stranger.sign(forged.message)
    forged = SignedCheckpoint(22, entry.entry_hash, signed_at, key_id, signature.hex())
    with checkpoint_file().open("a") as handle:
        handle.write(forged.to_line())
    summary = _broken(verify_chain(), "bad_checkpoint", 22)
    assert "in the file is not signed by this node" in summary


def test_a_malformed_checkpoint_file_line_is_named(chain: int) -> None:
    with checkpoint_file().open("a") as handle:
        handle.write('{"seq": "twenty"}\n')
    summary = _broken(verify_chain(), "bad_checkpoint_file", None)
    assert "line 5" in summary


def test_checkpoints_by_a_rotated_signing_key_still_verify(
    chain: int, django_capture_on_commit_callbacks: Capture
) -> None:
    old_key = keyring().signing.id
    keyring().rotate_signing()
    append_entries(CHECKPOINT_EVERY, django_capture_on_commit_callbacks)
    keys = set(AuditCheckpoint.objects.values_list("key_id", flat=True))
    assert keys == {old_key, keyring().signing.id}
    assert verify_chain().ok


def test_a_missing_file_copy_is_a_warning_not_a_failure(chain: int) -> None:
    checkpoint_file().unlink()
    result = verify_chain()
    assert result.ok
    assert "4 checkpoint(s) in the database have no copy" in result.warnings[0]


def test_entries_appended_during_a_walk_are_not_mistaken_for_tampering(chain: int) -> None:
    appended: list[int] = []

    def append_while_walking(done: int, total: int) -> None:
        if not appended:
            appended.append(record("test.late", actor="system").seq)

    import haven.audit.verify as verify_module

    every = verify_module._PROGRESS_EVERY
    verify_module._PROGRESS_EVERY = 1
    try:
        result = verify_chain(progress=append_while_walking)
    finally:
        verify_module._PROGRESS_EVERY = every
    assert result.ok, result.summary()


def test_the_command_exits_0_with_a_summary_when_intact(chain: int) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "verify", stdout=out, stderr=err)
    assert out.getvalue().startswith("audit chain intact: 22 entries")
    assert err.getvalue() == ""


def test_the_command_exits_1_naming_the_first_bad_entry(chain: int) -> None:
    raw_sql("UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 9")
    raw_sql("DELETE FROM audit_auditentry WHERE seq = 17")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    assert "BROKEN at seq 9 (edited)" in err.getvalue()
    assert out.getvalue() == ""


def test_the_checkpoint_command_signs_the_head_and_is_audited(
    node: Path, django_capture_on_commit_callbacks: Capture
) -> None:
    append_entries(2, django_capture_on_commit_callbacks)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit", "checkpoint", stdout=out)
    assert "signed checkpoint at seq 3" in out.getvalue()
    assert AuditEntry.objects.get(seq=3).action == "audit.checkpoint"
    assert AuditCheckpoint.objects.filter(seq=3).exists()
    assert json.loads(checkpoint_file().read_text().splitlines()[-1])["seq"] == 3


def _haven(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(
        HAVEN_DATA_DIR=str(data_dir),
        HAVEN_DATABASE_URL=f"sqlite:///{data_dir / 'haven.sqlite3'}",
        HAVEN_AUDIT_CHECKPOINT_EVERY="2",
        HAVEN_SECURE_COOKIES="false",
    )
    haven = Path(sys.executable).with_name("haven")
    return subprocess.run(
        [str(haven), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_haven_audit_verify_exit_codes_on_a_real_node(tmp_path: Path) -> None:
    data = tmp_path / "node"
    assert _haven(data, "migrate", "-v0").returncode == 0
    for _ in range(3):
        assert _haven(data, "audit", "checkpoint").returncode == 0
    intact = _haven(data, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit chain intact: 3 entries")

    with sqlite3.connect(data / "haven.sqlite3") as db:
        db.execute("DROP TRIGGER haven_audit_auditentry_no_update")
        db.execute("UPDATE audit_auditentry SET actor_label = 'someone else' WHERE seq = 2")
    broken = _haven(data, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at seq 2 (edited)" in broken.stderr
    assert "Traceback" not in broken.stderr

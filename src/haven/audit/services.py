"""Appending to the audit log. One writer at a time extends the chain, inside the caller's
transaction when there is one, so an audited change and its entry commit together.

Every `settings.HAVEN.audit_checkpoint_every` entries the append also signs a checkpoint of
the new head with the node's signing key: the row joins the same transaction, and its copy
goes to the checkpoint file once that transaction commits (a rolled-back entry's seq is
reused by the next one, so a checkpoint of it must never reach the file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.permissions import Principal, principal_of
from haven.audit.chain import GENESIS, HASHED_FIELDS, entry_digest
from haven.audit.checkpoints import (
    SignedCheckpoint,
    append_checkpoint,
    checkpoint_message,
    timestamp,
)
from haven.audit.models import AuditCheckpoint, AuditEntry, AuditHead

__all__ = [
    "AuditEvent",
    "EmptyLogError",
    "checkpoint",
    "checkpoint_file",
    "client_ip",
    "record",
    "record_many",
]


class EmptyLogError(ValueError):
    """A checkpoint was asked for before anything was audited."""


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def checkpoint_file() -> Path:
    """The file copy of every checkpoint, outside the database."""
    return Path(settings.HAVEN.data_dir) / "audit" / "checkpoints.jsonl"


def _write_file_copy(signed: SignedCheckpoint) -> None:
    append_checkpoint(checkpoint_file(), signed)


def _sign_head(seq: int, entry_hash: str) -> AuditCheckpoint:
    """Sign the head at `seq` and store it; the caller holds the head lock."""
    from haven.web.node import keyring

    moment = timezone.now()
    signed_at = timestamp(moment)
    key_id, signature = keyring().sign(checkpoint_message(seq, entry_hash, signed_at))
    row = AuditCheckpoint.objects.create(
        seq=seq,
        entry_hash=entry_hash,
        signed_at=moment,
        key_id=key_id,
        signature=signature.hex(),
    )
    signed = SignedCheckpoint(seq, entry_hash, signed_at, key_id, signature.hex())
    # robust: a full disk must not turn the caller's committed request into an error page;
    # the database row stands, and `haven audit verify` reports the missing file copy.
    transaction.on_commit(partial(_write_file_copy, signed), robust=True)
    return row


def _locked_head() -> AuditHead:
    # The head row is the chain's lock: concurrent writers queue on it (PostgreSQL row
    # lock; SQLite's IMMEDIATE transactions already admit one writer at a time).
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "entry_hash": GENESIS}
    )
    return head


# The append runs with the chain locked (and, on SQLite, the whole database), so it is
# written as three plain statements rather than through the ORM's query building: lock and
# read the head, insert the entries (one statement for a batch), move the head. The rows
# are the same as the ORM's.


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry to append, as `record`'s arguments (for `record_many`)."""

    action: str
    request: HttpRequest | None = None
    principal: Principal | None = None
    actor: str | None = None
    actor_label: str = ""
    target_type: str = ""
    target_id: object = ""
    outcome: str = "ok"
    detail: dict[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        request = self.request
        who = self.principal or (principal_of(request) if request is not None else None)
        return {
            "actor": (self.actor or (who.actor if who else "anonymous"))[:64],
            "actor_label": (self.actor_label or (who.label if who else ""))[:150],
            "action": self.action[:64],
            "target_type": self.target_type[:64],
            "target_id": str(self.target_id)[:64],
            "ip": client_ip(request),
            "user_agent": str(request.META.get("HTTP_USER_AGENT", ""))[:200] if request else "",
            "outcome": self.outcome[:16],
            "detail": self.detail or {},
        }


def _entry_field(name: str) -> models.Field[Any, Any]:
    field = AuditEntry._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


_ENTRY_COLUMNS = (*HASHED_FIELDS, "prev_hash", "entry_hash")


@cache
def _append_sql(vendor: str, for_update: bool, rows: int) -> tuple[str, str, str]:
    """(read and lock the head, insert `rows` entries returning id and seq, move the head)."""
    quote = connection.ops.quote_name
    head = quote(AuditHead._meta.db_table)
    head_id = quote(AuditHead._meta.pk.column)
    entries = quote(AuditEntry._meta.db_table)
    columns = ", ".join(quote(_entry_field(name).column) for name in _ENTRY_COLUMNS)
    row = f"({', '.join(['%s'] * len(_ENTRY_COLUMNS))})"
    lock = " FOR UPDATE" if for_update else ""
    return (
        f"SELECT {quote('seq')}, {quote('entry_hash')} FROM {head} WHERE {head_id} = 1{lock}",
        f"INSERT INTO {entries} ({columns}) VALUES {', '.join([row] * rows)} "
        f"RETURNING {quote(AuditEntry._meta.pk.column)}, {quote('seq')}",
        f"UPDATE {head} SET {quote('seq')} = %s, {quote('entry_hash')} = %s WHERE {head_id} = 1",
    )


def _append(batch: list[dict[str, Any]]) -> list[AuditEntry]:
    """Extend the chain by the entries, in order; the caller holds a transaction."""
    features = connection.features
    if not features.can_return_columns_from_insert:  # pragma: no cover - SQLite < 3.35
        return [_append_orm(fields) for fields in batch]
    read_head, insert, move_head = _append_sql(
        connection.vendor, features.has_select_for_update, len(batch)
    )
    with connection.cursor() as cursor:
        cursor.execute(read_head)
        row = cursor.fetchone()
        if row is None:  # the very first entry: create the head row
            head = _locked_head()
            row = (head.seq, head.entry_hash)
        seq, digest = int(row[0]), str(row[1])
        moment = timezone.now()
        at = timestamp(moment)
        rows: list[dict[str, Any]] = []
        for fields in batch:
            seq += 1
            fields["seq"], fields["at"] = seq, at
            prev_hash, digest = digest, entry_digest(fields, digest)
            rows.append({**fields, "at": moment, "prev_hash": prev_hash, "entry_hash": digest})
        cursor.execute(
            insert,
            [
                _entry_field(name).get_db_prep_save(values[name], connection)
                for values in rows
                for name in _ENTRY_COLUMNS
            ],
        )
        ids = {int(s): int(pk) for pk, s in cursor.fetchall()}
        cursor.execute(move_head, [seq, digest])
    entries = []
    every = settings.HAVEN.audit_checkpoint_every
    for values in rows:
        entry = AuditEntry(id=ids[values["seq"]], **values)
        entry._state.adding = False
        entry._state.db = connection.alias
        entries.append(entry)
        if values["seq"] % every == 0:
            _sign_head(values["seq"], values["entry_hash"])
    return entries


def _append_orm(fields: dict[str, Any]) -> AuditEntry:
    head = _locked_head()
    seq = head.seq + 1
    prev_hash = head.entry_hash
    moment = timezone.now()
    fields["seq"] = seq
    fields["at"] = timestamp(moment)
    digest = entry_digest(fields, prev_hash)
    entry = AuditEntry.objects.create(
        **{k: v for k, v in fields.items() if k != "at"},
        at=moment,
        prev_hash=prev_hash,
        entry_hash=digest,
    )
    AuditHead.objects.filter(pk=1).update(seq=seq, entry_hash=digest)
    if seq % settings.HAVEN.audit_checkpoint_every == 0:
        _sign_head(seq, digest)
    return entry


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    principal: Principal | None = None,
    actor: str | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: object = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Name records by id only: never put a child's personal data here."""
    event = AuditEvent(
        action, request, principal, actor, actor_label, target_type, target_id, outcome, detail
    )
    with transaction.atomic():  # a savepoint inside the caller's transaction, as always
        return record_many([event])[0]


def record_many(events: Sequence[AuditEvent]) -> list[AuditEntry]:
    """Append the entries in order, at one turn at the chain's lock (a batch of reports).

    Inside the caller's transaction, like `record`, so they commit with the caller's
    changes; but with no savepoint of their own: if the append fails, the caller's whole
    transaction is rolled back, never committed without its entries.
    """
    if not events:
        return []
    batch = [event.fields() for event in events]
    with transaction.atomic(savepoint=False):
        return _append(batch)


def checkpoint() -> AuditCheckpoint:
    """Sign the current head now (`haven audit checkpoint`); the existing one if it has one."""
    with transaction.atomic():
        head = _locked_head()
        if head.seq == 0:
            raise EmptyLogError("the audit log is empty: nothing to checkpoint yet")
        existing = AuditCheckpoint.objects.filter(seq=head.seq).first()
        if existing is not None:
            return existing
        return _sign_head(head.seq, head.entry_hash)

"""Database triggers that make the audit tables append-only, for SQLite and PostgreSQL.

The triggers refuse UPDATE and DELETE on audit entries and checkpoints from any client, not
only from Haven's code (and TRUNCATE on PostgreSQL, which skips row triggers). They stop
mistakes and an intruder who holds only the application's database role; a database
administrator can drop them, which is why the chain and its signed checkpoints exist.

Both backends raise an integrity error (SQLite's RAISE(ABORT), PostgreSQL's
`restrict_violation`), so callers see `django.db.IntegrityError` either way.

`suspended()` drops the triggers for the length of one transaction and restores them at its
end; only `haven flush` (which wipes the whole database on purpose, as the test runner does
between transactional tests) uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["GUARDED_TABLES", "install", "installed", "suspended", "uninstall"]

GUARDED_TABLES = ("audit_auditentry", "audit_auditcheckpoint")
_MESSAGE = "audit log is append-only"


def _sqlite_install() -> list[str]:
    statements = []
    for table in GUARDED_TABLES:
        for operation in ("UPDATE", "DELETE"):
            name = f"haven_{table}_no_{operation.lower()}"
            statements.append(f'DROP TRIGGER IF EXISTS "{name}"')
            statements.append(
                f'CREATE TRIGGER "{name}" BEFORE {operation} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: {operation} on {table} refused'); END"
            )
    return statements


def _sqlite_uninstall() -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS "haven_{table}_no_{operation}"'
        for table in GUARDED_TABLES
        for operation in ("update", "delete")
    ]


_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION haven_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def _postgresql_install() -> list[str]:
    statements = [_PG_FUNCTION]
    for table in GUARDED_TABLES:
        statements += [
            f'DROP TRIGGER IF EXISTS "haven_{table}_no_change" ON "{table}"',
            f'CREATE TRIGGER "haven_{table}_no_change" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION haven_audit_append_only()",
            f'DROP TRIGGER IF EXISTS "haven_{table}_no_truncate" ON "{table}"',
            f'CREATE TRIGGER "haven_{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION haven_audit_append_only()",
        ]
    return statements


def _postgresql_uninstall() -> list[str]:
    statements = []
    for table in GUARDED_TABLES:
        statements += [
            f'DROP TRIGGER IF EXISTS "haven_{table}_no_change" ON "{table}"',
            f'DROP TRIGGER IF EXISTS "haven_{table}_no_truncate" ON "{table}"',
        ]
    return [*statements, "DROP FUNCTION IF EXISTS haven_audit_append_only()"]


def _statements(connection: BaseDatabaseWrapper, install: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return _sqlite_install() if install else _sqlite_uninstall()
    if connection.vendor == "postgresql":
        return _postgresql_install() if install else _postgresql_uninstall()
    raise NotImplementedError(f"append-only triggers for {connection.vendor} are not written")


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the triggers; idempotent."""
    _run(connection, _statements(connection, install=True))


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _statements(connection, install=False))


def installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether every guard trigger exists (a check for `haven check` and the tests)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["haven_audit_%"],
            )
            expected = 2 * len(GUARDED_TABLES)
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgname LIKE %s",
                ["haven_audit_%"],
            )
            expected = 2 * len(GUARDED_TABLES)
        else:
            return False
        row = cursor.fetchone()
    return row is not None and int(row[0]) == expected


@contextmanager
def suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Run the body without the triggers, inside one transaction that restores them.

    Whatever happens in the body, the triggers are back when the block ends: DDL is
    transactional on both backends, so a failure in the body rolls the drop back too.
    """
    with transaction.atomic(using=connection.alias):
        present = set(GUARDED_TABLES) <= set(connection.introspection.table_names())
        if present:
            uninstall(connection)
        yield
        if present:
            install(connection)

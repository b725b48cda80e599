"""Django's `flush`, which also empties the append-only audit tables.

Flushing wipes every table on purpose (the test runner does it between transactional
tests); the audit tables' triggers would refuse it, so they are suspended for the flush and
restored in the same transaction (`haven.audit.dbguard.suspended`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from haven.audit import dbguard

__all__ = ["Command"]


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with dbguard.suspended(connection):
            super().handle(**options)

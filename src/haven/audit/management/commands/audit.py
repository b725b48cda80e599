"""`haven audit verify` and `haven audit checkpoint`.

`verify` exits 0 with a one-line summary on stdout when the chain is intact, and 1 with the
first bad entry (its seq and what is wrong) on stderr when it is not; other tools script
this. The work is done by `haven.audit.verify`; this command only reports it.
"""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from haven.audit.services import checkpoint, record
from haven.audit.verify import verify_chain

__all__ = ["Command"]


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, only for a person watching (stderr is a terminal)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("verifying the audit chain", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


class Command(BaseCommand):
    help = "Verify the audit chain, or sign a checkpoint of its head."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "verify",
            help="check every entry, link and signed checkpoint; exit 1 naming the first bad one",
        )
        actions.add_parser("checkpoint", help="sign a checkpoint of the chain head now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify()
        else:
            self._checkpoint()

    def _verify(self) -> None:
        with _progress_bar(self.stderr.isatty()) as progress:
            result = verify_chain(progress=progress)
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if not result.ok:
            self.stderr.write(result.summary())
            raise SystemExit(1)
        self.stdout.write(result.summary())

    def _checkpoint(self) -> None:
        who = f"haven audit checkpoint (run by {_os_user()})"
        # The request is itself audited, so the checkpoint covers its own entry.
        with transaction.atomic():
            record("audit.checkpoint", actor="system", actor_label=who)
            signed = checkpoint()
        self.stdout.write(
            f"signed checkpoint at seq {signed.seq} (head {signed.entry_hash[:16]}, "
            f"key {signed.key_id})"
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"

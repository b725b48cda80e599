"""`haven detection rematch|hook|deliver-hooks`: retroactive matching and removal webhooks.

`rematch` and `deliver-hooks` are what a scheduler runs. Each `rematch` run applies the bank
entries added, enabled or disabled since the last one to every stored upload's hashes: new
matches hold past uploads, disabled entries lift the holds they alone caused (the audit log
names the actor `system:retro`). `hook` sets an agency's removal webhook; `deliver-hooks`
sends the pending removal requests, signed, with retries.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts.management.commands._common import USAGE, agency_named, clear_errors
from haven.accounts.permissions import system_principal
from haven.detection import removal
from haven.detection.retro import follow

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Retroactive matching: hold past uploads that new bank entries match."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        rematch = actions.add_parser("rematch", help="apply the bank changes since the last run")
        rematch.add_argument("--loop", action="store_true", help="keep following until stopped")
        rematch.add_argument(
            "--every", type=float, default=30.0, metavar="S", help="seconds between runs (30)"
        )
        hook = actions.add_parser("hook", help="set the removal webhook of an agency")
        hook.add_argument("url", metavar="URL")
        hook.add_argument("--secret-file", type=Path, required=True, metavar="FILE")
        hook.add_argument("--agency", metavar="AGENCY", help="whose hook (default: the node)")
        deliver = actions.add_parser("deliver-hooks", help="send pending removal requests")
        deliver.add_argument("--loop", action="store_true", help="keep delivering until stopped")
        deliver.add_argument(
            "--every", type=float, default=10.0, metavar="S", help="seconds between runs (10)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"detection {action}"):
            if action == "hook":
                self._hook(options)
                return
            while True:
                if action == "rematch":
                    run = follow()
                    self.stdout.write(
                        f"{run.entries} new entries; held {len(run.held)} past upload(s), "
                        f"lifted {len(run.lifted)} hold(s)"
                    )
                else:
                    sent = removal.deliver_hooks()
                    self.stdout.write(
                        f"delivered {sent.delivered}, to retry {sent.retried}, "
                        f"given up {sent.failed}"
                    )
                if not options["loop"]:
                    return
                time.sleep(max(1.0, float(options["every"])))

    def _hook(self, options: dict[str, Any]) -> None:
        try:
            secret = options["secret_file"].read_text().strip()
        except OSError as exc:
            raise CommandError(f"cannot read the secret file: {exc}", returncode=USAGE) from None
        agency = agency_named(options.get("agency"))
        try:
            found = removal.add_hook(system_principal(agency.pk), options["url"], secret)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE) from None
        self.stdout.write(f"removal hook {found.pk} set for {agency.name}")

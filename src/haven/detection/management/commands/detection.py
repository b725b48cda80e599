"""`haven detection rematch [--loop]`: retroactive matching, run by a scheduler.

Each run applies the bank entries added, enabled or disabled since the last one to every
stored upload's hashes: new matches hold past uploads, disabled entries lift the holds they
alone caused. The audit log names the actor `system:retro`.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from haven.accounts.management.commands._common import clear_errors
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

    def handle(self, *args: Any, **options: Any) -> None:
        with clear_errors("detection rematch"):
            while True:
                run = follow()
                self.stdout.write(
                    f"{run.entries} new entries; held {len(run.held)} past upload(s), "
                    f"lifted {len(run.lifted)} hold(s)"
                )
                if not options["loop"]:
                    return
                time.sleep(max(1.0, float(options["every"])))

"""`haven worker [--once] [--only JOB]`: the node's periodic jobs in one process.

Deliveries to authorities and NCMEC, removal webhooks, retroactive matching and the
evidence purge each run on their own interval (see haven.web.jobs). A failing job is
reported and retried at its next turn; it never stops the others.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haven.accounts.management.commands._common import USAGE
from haven.web.jobs import JOBS, Schedule, due_jobs

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Run the node's periodic jobs: deliveries, webhooks, rematching, evidence purge."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")
        parser.add_argument(
            "--only",
            action="append",
            metavar="JOB",
            help=f"run only this job ({', '.join(j.name for j in JOBS)}); repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = {job.name for job in JOBS}
        only = set(options.get("only") or names)
        if only - names:
            raise CommandError(
                f"unknown job {', '.join(sorted(only - names))} (jobs: {', '.join(sorted(names))})",
                returncode=USAGE,
            )
        schedule = Schedule()
        while True:
            now = timezone.now()
            for job in due_jobs(schedule, now):
                if job.name not in only:
                    continue
                schedule.last[job.name] = now
                try:
                    summary = job.run()
                except Exception as exc:  # one job's failure must not stop the others
                    self.stderr.write(f"{job.name}: failed: {type(exc).__name__}: {exc}")
                    continue
                self.stdout.write(f"{job.name}: {summary}")
            if options["once"]:
                return
            time.sleep(1.0)

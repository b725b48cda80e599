"""`haven reports destination|queue|deliver|outbox`: reports from the command line.

`deliver` is what a scheduler runs (every minute, or `--loop`): it sends every due outbox
message once and exits. The command acts as the system principal of the chosen agency; the
audit log names it `system:cli` (queueing) and `system:outbox` (deliveries).
"""

from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts.management.commands._common import USAGE, agency_named, clear_errors
from haven.accounts.permissions import system_principal
from haven.reports import outbox, services
from haven.reports.format import ReportFormatError, parse_report
from haven.reports.models import Destination, OutboxMessage

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Add report destinations, queue reports and deliver the outbox."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        dest = actions.add_parser("destination", help="add a destination (an authority's intake)")
        dest.add_argument("name", metavar="NAME")
        dest.add_argument("url", metavar="URL", help="the intake node's base URL")
        dest.add_argument(
            "--token-file",
            type=Path,
            required=True,
            metavar="FILE",
            help="file holding the token the intake issued (kept encrypted)",
        )
        dest.add_argument(
            "--recipient",
            metavar="KEY_ID",
            help="key id of the authority node's pinned key, which files are sealed to",
        )
        dest.add_argument("--agency", metavar="AGENCY", help="whose destination (default: node)")

        queue = actions.add_parser("queue", help="queue a report (JSON, Haven's format)")
        queue.add_argument("file", type=Path, metavar="FILE")
        queue.add_argument("--destination", required=True, metavar="NAME")
        queue.add_argument("--agency", metavar="AGENCY", help="the sending agency (default: node)")

        deliver = actions.add_parser("deliver", help="send every due outbox message")
        deliver.add_argument("--loop", action="store_true", help="keep delivering until stopped")
        deliver.add_argument(
            "--every", type=float, default=10.0, metavar="S", help="seconds between runs (10)"
        )

        status = actions.add_parser("outbox", help="list outbox messages and their state")
        status.add_argument("--json", action="store_true", help="print JSON instead of lines")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"reports {action}"):
            try:
                getattr(self, f"_{action}")(options)
            except services.ReportError as exc:
                raise CommandError(str(exc), returncode=1) from None

    def _destination(self, options: dict[str, Any]) -> None:
        agency = agency_named(options.get("agency"))
        try:
            token = options["token_file"].read_text().strip()
        except OSError as exc:
            raise CommandError(f"cannot read the token file: {exc}", returncode=USAGE) from None
        found = services.add_destination(
            system_principal(agency.pk),
            name=options["name"],
            url=options["url"],
            token=token,
            recipient_key_id=options.get("recipient"),
        )
        sealed = f", files sealed to {found.recipient.key_id}" if found.recipient else ""
        self.stdout.write(f"destination {found.pk} ({found.name}) added for {agency.name}{sealed}")

    def _queue(self, options: dict[str, Any]) -> None:
        agency = agency_named(options.get("agency"))
        try:
            report = parse_report(json.loads(options["file"].read_bytes()))
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}", returncode=USAGE) from None
        except ValueError as exc:  # not JSON, or ReportFormatError (a ValueError)
            message = str(exc) if isinstance(exc, ReportFormatError) else "the file is not JSON"
            raise CommandError(f"{options['file']}: {message}", returncode=1) from None
        destination = Destination.objects.filter(agency=agency, name=options["destination"]).first()
        if destination is None:
            raise CommandError(f"no destination {options['destination']!r}", returncode=1)
        queued = services.queue_report(system_principal(agency.pk), report, destination)
        self.stdout.write(f"report {queued.report_id} queued for {destination.name}")

    def _deliver(self, options: dict[str, Any]) -> None:
        while True:
            run = outbox.deliver_due()
            if run.delivered or run.retried or run.failed or not options["loop"]:
                self.stdout.write(
                    f"delivered {run.delivered}, to retry {run.retried}, given up {run.failed}"
                )
            for error in run.errors:
                self.stderr.write(error)
            if not options["loop"]:
                return
            time.sleep(max(0.5, float(options["every"])))

    def _outbox(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "report_id": m.report.report_id,
                "destination": m.report.destination.name,
                "state": m.state,
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at.isoformat(),
                "receipt_id": m.receipt.get("receipt_id"),
                "last_error": m.last_error,
            }
            for m in OutboxMessage.objects.select_related("report__destination").order_by("pk")
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            self.stdout.write(
                f"{row['report_id']}  {row['destination']}  {row['state']}  "
                f"attempts {row['attempts']}"
                + (f"  receipt {row['receipt_id']}" if row["receipt_id"] else "")
            )
        if not rows:
            print("the outbox is empty", file=sys.stderr)

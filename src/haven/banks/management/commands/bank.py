"""`haven bank list|create|import|export`: hash banks from the command line.

The command acts as the system principal (every permission, every agency; the audit log
names it `system:cli`) and goes through the same services as the web pages and the API,
so validation, the change log the matchers follow and the audit trail are the same.
Results go to stdout (a table, JSON, or the exported list); notes and the import
progress bar go to stderr, so `haven bank export 3 > list.csv` stays clean.
"""

from __future__ import annotations

import io
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from haven.accounts.management.commands._common import USAGE, agency_named, clear_errors
from haven.banks import services
from haven.banks.models import Bank, BankEntry
from haven.banks.services import BankError
from haven.index.formats import FORMATS

__all__ = ["Command"]

# The command line runs on the node itself, so it may import lists larger than an upload.
CLI_MAX_BYTES = 1 << 30


def _threshold(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(
            f"--threshold must be a number 0..64, not {text!r}", returncode=USAGE
        ) from None
    if not 0 <= value <= 64:
        raise CommandError(f"--threshold must be 0..64, got {value}", returncode=USAGE)
    return value


def find_bank(key: str) -> Bank:
    """A bank by id or by name (a name in two agencies must be given as an id)."""
    text = key.strip()
    if text.isdigit():
        found = Bank.objects.filter(pk=int(text)).first()
        if found is not None:
            return found
    named = list(Bank.objects.filter(name=text).select_related("agency"))
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(f"{b.pk} ({b.agency.name})" for b in named)
        raise CommandError(
            f"{len(named)} banks are named {text!r}: give the id ({ids})", returncode=1
        )
    raise CommandError(f"no bank with id or name {text!r} (see `haven bank list`)", returncode=1)


class Command(BaseCommand):
    help = "List, create, import into and export hash banks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        listing = actions.add_parser("list", help="list every bank")
        listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

        create = actions.add_parser("create", help="create a bank; prints its id")
        create.add_argument("name", metavar="NAME")
        create.add_argument(
            "--agency", metavar="AGENCY", help="owning agency (created if missing; default: node)"
        )
        create.add_argument(
            "--threshold", type=_threshold, default=31, metavar="N", help="PDQ distance (31)"
        )
        create.add_argument(
            "--allow-list",
            action="store_true",
            help="a match in this bank suppresses matches in the others",
        )
        create.add_argument("--source", default="", metavar="S", help="who supplied the list")
        create.add_argument("--description", default="", metavar="TEXT")
        create.add_argument(
            "--scheme",
            default="categories",
            choices=sorted(services.CLASSIFICATIONS_BY_SCHEME),
            help="classification scheme (default: categories A1/A2/B1/B2)",
        )

        imports = actions.add_parser("import", help="import hash lists into a bank")
        imports.add_argument("bank", metavar="BANK", help="the bank's id or name")
        imports.add_argument("files", metavar="FILE", nargs="+", type=Path)
        imports.add_argument(
            "--format", choices=FORMATS, help="the lists' format (default: guessed per file)"
        )
        imports.add_argument(
            "--classification", default="", metavar="C", help="for entries without their own"
        )
        imports.add_argument(
            "--signal-type",
            default="pdq",
            choices=["pdq", "md5", "sha256", "vpdq"],
            help="what plain and CSV lists hold (default pdq)",
        )
        imports.add_argument(
            "--max-bytes",
            type=int,
            default=CLI_MAX_BYTES,
            metavar="N",
            help=f"largest list accepted (default {CLI_MAX_BYTES:,})",
        )
        imports.add_argument("--no-progress", action="store_true", help="no progress bar")

        export = actions.add_parser("export", help="export a bank as a hash list")
        export.add_argument("bank", metavar="BANK", help="the bank's id or name")
        export.add_argument("--format", choices=FORMATS, default="csv")
        export.add_argument("--out", type=Path, metavar="FILE", help="write here, not stdout")
        export.add_argument("--entry", type=int, metavar="ID", help="the vPDQ video to export")
        export.add_argument("--include-disabled", action="store_true", help="disabled entries too")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"bank {action}"):
            try:
                getattr(self, f"_{action}")(options)
            except BankError as exc:
                raise CommandError(str(exc), returncode=1) from None

    # -- list -------------------------------------------------------------------------
    def _list(self, options: dict[str, Any]) -> None:
        banks = list(Bank.objects.select_related("agency").order_by("pk"))
        counts: dict[int, dict[str, int]] = {}
        grouped = BankEntry.objects.order_by().values_list("bank_id", "signal_type")
        for bank_id, signal, n in grouped.annotate(n=Count("pk")):
            counts.setdefault(bank_id, {})[signal] = n
        rows = [
            {
                "id": b.pk,
                "name": b.name,
                "agency": b.agency.name,
                "entries": sum(counts.get(b.pk, {}).values()),
                "by_signal": dict(sorted(counts.get(b.pk, {}).items())),
                "threshold": b.threshold,
                "allow_list": b.is_allow_list,
                "enabled": b.enabled,
                "source": b.source,
            }
            for b in banks
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stderr.write("no banks (create one with `haven bank create NAME`)")
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("id", "name", "agency", "entries", "threshold", "allow-list", "enabled")
        for r in rows:
            by_signal = r["by_signal"]
            assert isinstance(by_signal, dict)
            table.add_row(
                str(r["id"]),
                str(r["name"]),
                str(r["agency"]),
                ", ".join(f"{n:,} {s}" for s, n in by_signal.items()) or "0",
                str(r["threshold"]),
                "yes" if r["allow_list"] else "",
                "yes" if r["enabled"] else "no",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    # -- create -----------------------------------------------------------------------
    def _create(self, options: dict[str, Any]) -> None:
        agency = agency_named(options.get("agency"), self.stderr.write)
        bank = services.create_bank(
            services.system_principal(agency.pk),
            name=options["name"],
            description=options["description"],
            source=options["source"],
            classification_scheme=options["scheme"],
            threshold=options["threshold"],
            is_allow_list=options["allow_list"],
        )
        self.stdout.write(str(bank.pk))
        kind = "allow-list bank" if bank.is_allow_list else "bank"
        self.stderr.write(
            f"created {kind} {bank.name!r} (id {bank.pk}) in {agency.name!r}, "
            f"threshold {bank.threshold}"
        )

    # -- import -----------------------------------------------------------------------
    def _import(self, options: dict[str, Any]) -> None:
        bank = find_bank(options["bank"])
        principal = services.system_principal(bank.agency_id)
        limit = int(options["max_bytes"])
        texts = []
        for path in options["files"]:  # read every file first: a bad one stops before any
            try:
                if path.stat().st_size > limit:
                    raise CommandError(
                        f"{path}: larger than {limit:,} bytes (--max-bytes); split it", 1
                    )
                texts.append((path, path.read_text(encoding="utf-8-sig")))
            except UnicodeDecodeError:
                raise CommandError(f"{path}: not a UTF-8 text file", returncode=1) from None
            except OSError as exc:
                raise CommandError(
                    f"{path}: cannot read: {exc.strerror or exc}", returncode=1
                ) from None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        console = Console(file=sys.stderr)
        show = not options["no_progress"]
        added = duplicates = 0
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
            transient=False,
        ) as progress:
            for path, text in texts:
                task = progress.add_task(f"{path.name}: reading", total=None)

                def advance(done: int, total: int, task: Any = task, name: str = path.name) -> None:
                    progress.update(task, completed=done, total=total, description=name)

                try:
                    result = services.import_hash_list(
                        principal,
                        bank,
                        text,
                        path.name,
                        format=options.get("format"),
                        signal_type=options["signal_type"],
                        classification=options["classification"],
                        progress=advance,
                        max_bytes=limit,
                    )
                except BankError as exc:
                    raise CommandError(
                        f"{exc} (nothing imported from {path.name})", returncode=1
                    ) from None
                added += result.added
                duplicates += result.duplicates
                self.stdout.write(
                    f"{path.name}: added {result.added:,}, duplicates {result.duplicates:,} "
                    f"(of {result.total:,}) into bank {bank.pk} ({bank.name})"
                )
                for note in result.errors:
                    self.stderr.write(f"{path.name}: {note}")
        if len(texts) > 1:
            self.stderr.write(f"in all: added {added:,}, duplicates {duplicates:,}")

    # -- export -----------------------------------------------------------------------
    def _export(self, options: dict[str, Any]) -> None:
        bank = find_bank(options["bank"])
        text = services.export_bank(
            services.system_principal(bank.agency_id),
            bank,
            format=options["format"],
            include_disabled=options["include_disabled"],
            entry_id=options.get("entry"),
        )
        out: Path | None = options.get("out")
        if out is None:
            self.stdout.write(text, ending="")
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"{out}: cannot write: {exc.strerror or exc}", returncode=1
            ) from None
        lines = text.count("\n") - (1 if options["format"] == "csv" else 0)
        self.stderr.write(f"wrote {max(lines, 0):,} entries of bank {bank.pk} to {out}")

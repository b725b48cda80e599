"""`haven text ingest FILE` and `haven text relink`: ads into the node, clusters out.

The command acts as the system principal of the chosen agency (the audit log names it
`system:cli`) and goes through `haven.ads.services`, like the pages. Ingest reads JSON
Lines or CSV row by row with a progress bar on stderr, refuses bad rows with their line
number and keeps the good ones, then relinks the agency's ads; the summary goes to stdout.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import IO, Any, Literal, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.management.commands._common import USAGE, agency_named, clear_errors
from haven.accounts.permissions import system_principal
from haven.ads import services
from haven.ads.reader import FORMATS, ReadError, guess_format, read_ads
from haven.ads.scanning import ScanInputError, check_region

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Ingest ads from JSON Lines or CSV and link them into clusters."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        ingest = actions.add_parser("ingest", help="read ads from a file, then relink")
        ingest.add_argument("file", metavar="FILE", type=Path, help="a .jsonl or .csv file")
        ingest.add_argument("--format", choices=FORMATS, help="default: from the file's name")
        ingest.add_argument(
            "--agency", metavar="AGENCY", help="the agency the ads belong to (default: node)"
        )
        ingest.add_argument(
            "--region",
            metavar="CC",
            help="country for numbers without a country code in rows without a region "
            "(default: HAVEN_PHONE_REGION)",
        )
        ingest.add_argument("--no-link", action="store_true", help="store only; relink later")
        ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
        ingest.add_argument("--no-progress", action="store_true", help="no progress bar")

        relink = actions.add_parser("relink", help="link an agency's ads into clusters again")
        relink.add_argument(
            "--agency", metavar="AGENCY", help="whose ads (default: the node's agency)"
        )
        relink.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"text {action}"):
            getattr(self, f"_{action}")(options)

    def _emit(self, options: dict[str, Any], summary: dict[str, Any], line: str) -> None:
        self.stdout.write(json.dumps(summary) if options["json"] else line)

    def _relink(self, options: dict[str, Any]) -> None:
        agency = agency_named(options.get("agency"))
        report = services.relink(system_principal(agency.pk))
        summary = {"ads": report.ads, "clusters": report.clusters, "kept_ids": report.kept_ids}
        self._emit(
            options,
            {**summary, "seconds": report.seconds},
            f"linked {report.ads:,} ads of {agency.name} into {report.clusters:,} clusters "
            f"({report.kept_ids:,} kept their ids) in {report.seconds:.1f} s",
        )

    def _ingest(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        try:
            fmt = cast(Literal["jsonl", "csv"], options["format"] or guess_format(path))
            region = check_region(options["region"], "--region", settings.HAVEN.phone_region)
        except ReadError as exc:
            raise CommandError(str(exc), returncode=USAGE) from None
        except ScanInputError as exc:
            raise CommandError(str(exc), returncode=USAGE) from None
        try:
            handle: IO[bytes] = path.open("rb")
        except OSError as exc:
            raise CommandError(
                f"{path}: cannot read: {exc.strerror or exc}", returncode=1
            ) from None
        agency = agency_named(options.get("agency"))
        with handle:
            report = self._ingest_from(handle, path, fmt, region, agency.pk, options)
        summary = {
            "run": report.run_id,
            "rows": report.rows_read,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": report.refused,
            "clusters": report.relinked.clusters if report.relinked else None,
            "problems": report.problems,
        }
        linked = (
            f"; {report.relinked.clusters:,} clusters in {report.relinked.seconds:.1f} s"
            if report.relinked
            else "; not linked (run `haven text relink`)"
        )
        self._emit(
            options,
            summary,
            f"{path.name}: {report.rows_read:,} rows, added {report.added:,}, updated "
            f"{report.updated:,}, unchanged {report.unchanged:,}, refused {report.refused:,}"
            f"{linked}",
        )
        if not options["json"]:
            for problem in report.problems:
                self.stderr.write(f"{path.name}: {problem}")
            if report.refused > len(report.problems):
                self.stderr.write(
                    f"{path.name}: ... and {report.refused - len(report.problems):,} more"
                )

    def _ingest_from(
        self,
        handle: IO[bytes],
        path: Path,
        fmt: Literal["jsonl", "csv"],
        region: str,
        agency_id: int,
        options: dict[str, Any],
    ) -> services.IngestReport:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        size = path.stat().st_size
        try:
            rows = read_ads(handle, fmt, default_region=region, tsv=path.suffix.lower() == ".tsv")
        except ReadError as exc:
            raise CommandError(f"{path.name}: {exc}", returncode=1) from None
        with Progress(
            SpinnerColumn(),
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            disable=options["no_progress"],
        ) as progress:
            reading = progress.add_task(f"{path.name}: reading and scanning", total=size)

            def tracked() -> Any:
                for outcome in rows:
                    progress.update(reading, completed=handle.tell())
                    yield outcome
                progress.update(reading, completed=size)

            def linking(ads: int) -> None:
                progress.add_task(f"linking {ads:,} ads", total=None)

            try:
                return services.ingest_ads(
                    system_principal(agency_id),
                    cast("Any", tracked()),
                    source_name=path.name,
                    link=not options["no_link"],
                    on_linking=linking,
                )
            except ReadError as exc:
                raise CommandError(f"{path.name}: {exc}", returncode=1) from None

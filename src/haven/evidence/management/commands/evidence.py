"""`haven evidence list|purge|export|unpack`: the vault from the command line.

`purge` is what a scheduler runs daily: it destroys every item whose retention and hold
have ended and says which, each recorded in the item's custody log and the audit log. The
command acts as the system principal; the audit log names it `system:cli`.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts.management.commands._common import USAGE, clear_errors
from haven.accounts.permissions import system_principal
from haven.evidence import services
from haven.evidence.models import EvidenceItem
from haven.evidence.package import PackageError, open_package
from haven.web.config import write_private_file

__all__ = ["Command"]


def _passphrase(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CommandError(f"cannot read the passphrase file: {exc}", returncode=USAGE) from None


class Command(BaseCommand):
    help = "List, purge and export preserved evidence; open an export package."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        listing = actions.add_parser("list", help="list evidence items (never their content)")
        listing.add_argument("--json", action="store_true", help="print JSON instead of lines")
        purge = actions.add_parser("purge", help="destroy items whose retention has ended")
        purge.add_argument("--json", action="store_true", help="print JSON instead of a line")
        export = actions.add_parser("export", help="an encrypted package for law enforcement")
        export.add_argument("ids", metavar="ID", nargs="+", type=int)
        export.add_argument("--out", type=Path, required=True, metavar="FILE")
        export.add_argument("--passphrase-file", type=Path, required=True, metavar="FILE")
        export.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")
        export.add_argument(
            "--reference", required=True, metavar="REF", help="the requesting authority's case"
        )
        unpack = actions.add_parser("unpack", help="open a package and check every hash")
        unpack.add_argument("package", type=Path, metavar="PACKAGE")
        unpack.add_argument("--passphrase-file", type=Path, required=True, metavar="FILE")
        unpack.add_argument("--out", type=Path, required=True, metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"evidence {action}"):
            try:
                getattr(self, f"_{action}")(options)
            except (services.EvidenceError, PackageError) as exc:
                raise CommandError(str(exc), returncode=1) from None

    def _list(self, options: dict[str, Any]) -> None:
        rows: list[dict[str, Any]] = [
            {
                "id": item.pk,
                "sha256": item.sha256,
                "size": item.size,
                "created_at": item.created_at.isoformat(),
                "retain_until": item.retain_until.isoformat(),
                "hold_until": item.hold_until.isoformat() if item.hold_until else None,
                "purged_at": item.purged_at.isoformat() if item.purged_at else None,
            }
            for item in EvidenceItem.objects.order_by("pk")
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            state = f"purged {row['purged_at'][:10]}" if row["purged_at"] else "kept"
            self.stdout.write(
                f"{row['id']}  {row['sha256'][:16]}  {row['size']:,} bytes  {state}  "
                f"until {str(row['hold_until'] or row['retain_until'])[:10]}"
            )

    def _purge(self, options: dict[str, Any]) -> None:
        run = services.purge_expired(system_principal(0))
        summary = {
            "purged": run.purged,
            "kept_by_hold": run.kept_by_hold,
            "missing_blobs": run.missing_blobs,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                f"purged {len(run.purged)} item(s); {run.kept_by_hold} kept by a legal hold"
            )
        for pk in run.missing_blobs:
            self.stderr.write(f"evidence {pk}: its blob was already missing from the vault")

    def _export(self, options: dict[str, Any]) -> None:
        package = services.export_package(
            system_principal(0),
            options["ids"],
            passphrase=_passphrase(options["passphrase_file"]),
            reason=options["reason"],
            reference=options["reference"],
        )
        write_private_file(options["out"], package)
        self.stdout.write(f"wrote {options['out']} ({len(package):,} bytes)")

    def _unpack(self, options: dict[str, Any]) -> None:
        try:
            data = options["package"].read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read the package: {exc}", returncode=USAGE) from None
        opened = open_package(data, _passphrase(options["passphrase_file"]))
        out: Path = options["out"]
        for digest, content in opened.files.items():
            write_private_file(out / "files" / digest, content)
        write_private_file(out / "manifest.json", json.dumps(opened.manifest, indent=2).encode())
        write_private_file(out / "custody.json", json.dumps(opened.custody, indent=2).encode())
        self.stdout.write(f"{len(opened.files)} file(s), hashes checked, in {out}")

"""The `haven` command.

The engine subcommands (`hash`, `index`, `match`, `scan`) import no Django, so they start
fast and run anywhere; each prints JSON lines on stdout for other tools to script, and
progress and summaries on stderr. The platform subcommands (`PLATFORM_COMMANDS`) are
Django management commands, run with Haven's settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

__all__ = ["PLATFORM_COMMANDS", "main"]

# Platform subcommands: Django management commands (ours and Django's), with what they do.
PLATFORM_COMMANDS: dict[str, str] = {
    "migrate": "create or upgrade the database; create the node's keys on first run",
    "check": "check the configuration and the deployment for problems",
    "createuser": "create a user with a role",
    "token": "create, list and revoke API tokens for machine clients",
    "serve": "run the web UI and API with a production server",
    "audit": "verify the audit chain; sign a checkpoint of its head",
    "keys": "show the node's keys; rotate them",
    "bank": "list banks; import and export hash lists",
    "text": "ingest ads from JSON Lines or CSV; link them into clusters",
    "reports": "add report destinations, queue reports, deliver the outbox",
    "evidence": "list and purge preserved evidence; export and unpack packages",
    "detection": "retroactive matching: hold past uploads that new bank entries match",
    "worker": "run the periodic jobs: deliveries, webhooks, rematching, evidence purge",
    "demo": "set up demo users and benign banks (used by make demo)",
}


def _emit(record: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(record, separators=(", ", ": ")) + "\n")


def _cmd_hash(args: argparse.Namespace) -> int:
    from haven.scan.batch import ScanOptions, hash_file

    options = ScanOptions(dihedral=args.dihedral, frames_per_second=args.fps)
    failed = False
    for path in args.files:
        record = hash_file(path, options)
        for key in ("pipeline", "matchable"):
            record.pop(key, None)
        if not args.dihedral:
            record.pop("unletterboxed_dihedral", None)
        failed |= "error" in record
        _emit(record, sys.stdout)
    return 1 if failed else 0


def _cmd_index_build(args: argparse.Namespace) -> int:
    from haven.index.bank import BankIndex
    from haven.index.formats import HashListError, HashRecord, read_hash_list

    records: list[HashRecord] = []
    try:
        for source in args.sources:
            records += read_hash_list(source, format=args.format)
    except HashListError as exc:
        print(f"haven index build: {exc}", file=sys.stderr)
        return 2
    bank = BankIndex(records)
    bank.save(args.out)
    counts = ", ".join(f"{n} {k}" for k, n in bank.counts().items() if n)
    print(f"haven index build: wrote {args.out} ({counts or 'empty'})", file=sys.stderr)
    return 0


def _load_bank(path: str) -> Any:
    from haven.index.bank import BankIndex
    from haven.index.mih import IndexFileError

    try:
        return BankIndex.load(path)
    except (IndexFileError, OSError) as exc:
        raise SystemExit(f"haven: cannot open index: {exc}") from None


def _hash_arguments(values: Sequence[str]) -> Iterable[str]:
    for value in values:
        if value == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield value


def _cmd_match(args: argparse.Namespace) -> int:
    from haven.media.signals import PDQ, MalformedHash

    bank = _load_bank(args.index)
    status = 0
    queries = list(_hash_arguments(args.hashes))
    for start in range(0, len(queries), 4096):
        chunk = queries[start : start + 4096]
        parsed: list[bytes | None] = []
        for text in chunk:
            try:
                parsed.append(PDQ.parse(text))
            except MalformedHash:
                parsed.append(None)
        good = [h for h in parsed if h is not None]
        results = iter(bank.match_pdq(good, args.radius))
        for text, digest in zip(chunk, parsed, strict=True):
            if digest is None:
                _emit({"query": text, "error": f"malformed PDQ hash: {text!r}"}, sys.stdout)
                status = 1
                continue
            matches = [{"id": m.id, "distance": m.distance} for m in next(results)]
            _emit({"query": text, "matches": matches}, sys.stdout)
    return status


def _cmd_scan(args: argparse.Namespace) -> int:
    from haven.scan.runner import run_scan

    bank = _load_bank(args.index)
    return run_scan(
        args.directory,
        bank,
        workers=args.workers,
        radius=args.radius,
        dihedral=not args.no_dihedral,
        fps=args.fps,
        out=sys.stdout,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haven",
        description="Haven: detect known material, report, remove, protect children.",
    )
    parser.epilog = "platform commands (each has --help): " + ", ".join(PLATFORM_COMMANDS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    hash_cmd = commands.add_parser("hash", help="hash image and video files (JSON lines)")
    hash_cmd.add_argument("files", nargs="+", metavar="FILE")
    hash_cmd.add_argument("--dihedral", action="store_true", help="add the 8 rotation/flip hashes")
    hash_cmd.add_argument("--fps", type=float, default=1.0, help="video frames sampled per second")
    hash_cmd.set_defaults(run=_cmd_hash)

    index_cmd = commands.add_parser("index", help="build hash indexes")
    index_sub = index_cmd.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = index_sub.add_parser("build", help="build an index file from hash lists")
    build.add_argument("out", metavar="OUT")
    build.add_argument("sources", nargs="+", metavar="SRC")
    build.add_argument(
        "--format",
        choices=["plain", "csv", "local_file", "vpdq"],
        help="force the lists' format (default: detect from name and content)",
    )
    build.set_defaults(run=_cmd_index_build)

    match = commands.add_parser("match", help="look PDQ hashes up in an index (JSON lines)")
    match.add_argument("index", metavar="INDEX")
    match.add_argument("hashes", nargs="+", metavar="HASH", help="hex PDQ hashes, or - for stdin")
    match.add_argument("--radius", type=_radius, default=31)
    match.set_defaults(run=_cmd_match)

    scan = commands.add_parser("scan", help="hash every file under a folder and match it")
    scan.add_argument("directory", metavar="DIR")
    scan.add_argument("--index", required=True, metavar="INDEX")
    scan.add_argument("--workers", type=int, default=None, help="hashing processes (default: CPUs)")
    scan.add_argument("--radius", type=_radius, default=31)
    scan.add_argument("--no-dihedral", action="store_true", help="skip rotation/flip lookups")
    scan.add_argument("--fps", type=float, default=1.0, help="video frames sampled per second")
    scan.set_defaults(run=_cmd_scan)
    return parser


def _radius(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"radius must be an integer, got {text!r}") from None
    if not 0 <= value <= 256:
        raise argparse.ArgumentTypeError(f"radius must be 0..256, got {value}")
    return value


def _run_platform(argv: list[str]) -> int:
    """Run a Django management command with Haven's settings; its exit status is ours."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.web.settings")
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        execute_from_command_line(["haven", *argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # configuration errors: a clear line, never a traceback
        from haven.web.config import ConfigError

        if isinstance(exc, ConfigError):
            print(f"haven {argv[0]}: {exc}", file=sys.stderr)
            return 2
        raise
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in PLATFORM_COMMANDS:
        return _run_platform(arguments)
    args = build_parser().parse_args(arguments)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""`haven scan`: hash a folder in parallel, match each file, report as it goes.

Hashing runs in worker processes (PDQ holds the GIL); matching runs here, since the bank
is in this process's memory and a lookup costs microseconds.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from haven.scan.batch import Record, ScanOptions, hash_batch, iter_files, match_record

__all__ = ["run_scan"]

_CHUNK = 8


def _chunks(paths: list[Path], size: int) -> list[list[Path]]:
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def run_scan(
    directory: str | Path,
    bank: Any,
    *,
    workers: int | None = None,
    radius: int = 31,
    dihedral: bool = True,
    fps: float = 1.0,
    out: TextIO = sys.stdout,
    err: TextIO | None = None,
) -> int:
    """Scan `directory` against `bank`; one JSON line per file on `out`. Exit status 1 if
    any file could not be hashed, else 0."""
    console = Console(file=err or sys.stderr, emoji=False)
    paths = list(iter_files(directory))
    workers = max(1, workers or os.cpu_count() or 1)
    options = ScanOptions(
        dihedral=dihedral, frames_per_second=fps, video_threads=1 if workers > 1 else 0
    )
    tally: Counter[str] = Counter()
    matched_ids: Counter[str] = Counter()

    def report(record: Record) -> None:
        matches = match_record(record, bank, radius)
        record["matches"] = matches
        tally["files"] += 1
        tally["errors" if "error" in record else record["type"] + "s"] += 1
        if matches:
            tally["matched"] += 1
            matched_ids.update(m["id"] for m in matches)
        out.write(json.dumps(record) + "\n")

    with Progress(
        TextColumn("[bold]scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("scan", total=len(paths))
        if workers == 1 or len(paths) <= _CHUNK:
            for path in paths:
                for record in hash_batch([path], options):
                    report(record)
                progress.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending: list[Future[list[Record]]] = [
                    pool.submit(partial(hash_batch, chunk, options))
                    for chunk in _chunks(paths, _CHUNK)
                ]
                for future in pending:  # in order, so output order is stable
                    for record in future.result():
                        report(record)
                        progress.advance(task)

    summary = Table(title="haven scan", show_header=True)
    summary.add_column("files", justify="right")
    summary.add_column("images", justify="right")
    summary.add_column("videos", justify="right")
    summary.add_column("failed", justify="right")
    summary.add_column("matched", justify="right")
    summary.add_row(*(str(tally[k]) for k in ("files", "images", "videos", "errors", "matched")))
    console.print(summary)
    if matched_ids:
        top = Table(title="most matched bank entries")
        top.add_column("entry")
        top.add_column("files", justify="right")
        for entry, count in matched_ids.most_common(10):
            top.add_row(escape(entry), str(count))
        console.print(top)
    return 1 if tally["errors"] else 0

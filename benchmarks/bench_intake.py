"""Authority intake: POST /api/v1/intake/reports through the real HTTP server.

    python -m benchmarks.bench_intake [--seconds 20] [--warmup 3] [--connections 8]
        [--workers 2] [--threads 4] [--resend 300] [--core N] [--postgres | --no-postgres]
        [--database-url URL] [--no-sqlite] [--keep] [--quick] [--out benchmarks/results/intake.md]

Why: an intake's 201 is a promise that the report is stored (issue 4: "intake ≥ 300
reports/s with zero loss, on SQLite and on PostgreSQL"). So the benchmark measures the rate
*and* counts what the database holds afterwards against what the server acknowledged.

One run per database (SQLite, then PostgreSQL), each on a fresh node in a temporary
HAVEN_DATA_DIR:

1. `haven migrate`; `haven token create bench-intake --scope reports:submit --agency ...`
   (the sending provider's agency); `haven serve --access-log off --workers W --threads T`
   on a free loopback port (helpers from benchmarks/bench_api.py), HAVEN_API_RATE=1000000
   so the per-token rate limit does not cap the run. The benchmark waits for /healthz and a
   first 201.
2. Load: this process pinned to ONE core, C keep-alive `http.client` connections (one thread
   each, closed loop). Every request is a distinct synthetic report (unique report_id; 0–3
   files with MD5/SHA-1/PDQ, 0–3 ads with fictional phone numbers, one reported account with
   documentation-range IPs; at least one file or ad), built from its sequence number so that
   it can be rebuilt byte for byte. After a warm-up it measures a fixed window: reports/s,
   p50/p90/p99/max latency, server CPU per report (utime + stime of gunicorn's master and
   workers from /proc/<pid>/stat; on a throwaway PostgreSQL cluster also the postgres
   processes'), the load generator's CPU and the machine's busy share.
3. Resend: a sample of acknowledged reports sent again, byte for byte; each answer must be
   200 with the original receipt and `duplicate: true`.
4. Zero loss, after the server has stopped: the rows of reports_receivedreport (sqlite3 on
   the node's file, psycopg on PostgreSQL) must equal the number of 201 answers of the whole
   run (probe, warm-up, window), and every 201's receipt_id must be in the table with its
   report_id.

PostgreSQL: `--postgres` starts a throwaway cluster (initdb -U haven --auth=trust in a
temporary folder, pg_ctl on a free port, as the `postgres` user when run as root), creates
an empty database, and stops and deletes the cluster at the end; the default is to do so when
`initdb` is found. `--database-url` uses an existing EMPTY database instead. Both databases
keep their durable defaults (SQLite WAL with synchronous=FULL, PostgreSQL fsync and
synchronous_commit on).

Results go to the console and, as Markdown, to benchmarks/results/intake.md (with --quick to
benchmarks/.data/intake-quick.md, so a smoke run never replaces the real report); the raw
numbers go to benchmarks/.data/<report name>-results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import os
import random
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.bench_api import (
    Node,
    Server,
    free_port,
    haven_command,
    headers_for,
    loadavg,
    log_tail,
    machine,
    machine_jiffies,
    process_cpu,
    process_tree,
    start_server,
    stop_server,
)
from benchmarks.bench_index import DATA_DIR, _version

__all__ = ["main", "report_body"]

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "intake.md"
INTAKE_PATH = "/api/v1/intake/reports"
TABLE = "reports_receivedreport"
TARGET_REPORTS_S = 300.0
SEED = 20261204
SENDER_AGENCY = "Bench provider (synthetic)"
CLASSES = ("A1", "A2", "B1", "B2")
BASE_TIME = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
PG_BIN = Path("/usr/local/bin")


# --- synthetic reports ---------------------------------------------------------------------


def _hex(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _phone(rng: random.Random) -> str:
    """A fictional number: US 202 555 01xx or Australian mobile 0491 570 xxx."""
    if rng.random() < 0.5:
        return f"+120255501{rng.randrange(100):02d}"
    return f"+61491570{rng.randrange(1000):03d}"


def report_doc(run: str, n: int) -> dict[str, Any]:
    """Report number `n` of run `run`: deterministic, synthetic, benign values."""
    rng = random.Random(SEED * 1_000_003 + n)
    at = BASE_TIME + dt.timedelta(seconds=n)
    stamp = at.isoformat()
    n_files = rng.choice((0, 1, 1, 2, 3))
    n_ads = rng.choice((0, 1, 1, 2, 3)) or (0 if n_files else 1)
    files = [
        {
            "file_id": f"f{i}",
            "name": f"synthetic-{n}-{i}.jpg",
            "size": rng.randrange(20_000, 2_000_000),
            "md5": _hex(rng, 128),
            "sha1": _hex(rng, 160),
            "pdq": _hex(rng, 256),
            "uploaded_from": {
                "ip": f"198.51.100.{rng.randrange(1, 255)}",
                "at": stamp,
                "kind": "upload",
            },
            "viewed_by_provider": rng.random() < 0.5,
            "exif_viewed_by_provider": False,
            "relevance": "reported",
            "classification": rng.choice(CLASSES),
        }
        for i in range(n_files)
    ]
    ads = []
    for i in range(n_ads):
        phone = _phone(rng)
        ads.append(
            {
                "ad_id": f"ad-{i}",
                "url": f"https://ads.example.org/synthetic/{n}-{i}",
                "text": f"Synthetic benchmark ad {n}-{i}. Call {phone}",
                "posted_at": stamp,
                "phones": [phone],
                "cluster_id": f"cluster-{n % 97}",
            }
        )
    return {
        "schema_version": "1",
        "report_id": f"bench-{run}-{n:07d}",
        "created_at": stamp,
        "synthetic": True,
        "incident": {"type": "child_sex_trafficking", "occurred_at": stamp},
        "reporter": {
            "provider": "Example Ads (synthetic)",
            "contact": {"name": "Safety Team", "email": "safety@example.org"},
        },
        "reported_accounts": [
            {
                "screen_names": [f"synthetic_user_{n % 997}"],
                "ip_events": [
                    {"ip": f"203.0.113.{rng.randrange(1, 255)}", "at": stamp, "kind": "login"}
                ],
            }
        ],
        "files": files,
        "ads": ads,
        "additional_info": "Synthetic report from benchmarks/bench_intake.py; not real.",
    }


def report_body(run: str, n: int) -> bytes:
    return json.dumps(report_doc(run, n), separators=(",", ":")).encode()


# --- PostgreSQL ----------------------------------------------------------------------------


@dataclass
class Postgres:
    """A throwaway cluster in a temporary folder (or an existing database: `url` only)."""

    url: str
    folder: Path | None = None
    port: int = 0
    version: str = ""

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    def postmaster(self) -> int | None:
        if self.folder is None:
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise SystemExit("running as root and no runuser: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--"]


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def start_postgres(console: Console) -> Postgres:
    folder = Path(tempfile.mkdtemp(prefix="haven-bench-pg-"))
    prefix = _as_postgres_user()
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    cluster = Postgres("", folder, port)
    steps = [
        [str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "haven", "--auth=trust"],
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(cluster.data),
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "-l",
            str(folder / "postgres.log"),
            "-w",
            "start",
        ],
    ]
    for step in steps:
        done = subprocess.run([*prefix, *step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            stop_postgres(cluster)
            raise SystemExit(f"{Path(step[0]).name} failed:\n{done.stdout}\n{done.stderr}")
    import psycopg

    with psycopg.connect(
        f"postgresql://haven@127.0.0.1:{port}/postgres", autocommit=True
    ) as connection:
        connection.execute("CREATE DATABASE haven_bench")
        row = connection.execute("SHOW server_version").fetchone()
        cluster.version = str(row[0]) if row else ""
    cluster.url = f"postgresql://haven@127.0.0.1:{port}/haven_bench"
    console.log(f"PostgreSQL {cluster.version} on port {port} in {folder}")
    return cluster


def stop_postgres(cluster: Postgres) -> None:
    if cluster.folder is None:
        return
    if (cluster.data / "postmaster.pid").exists():
        stop = [str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "fast", "-w", "stop"]
        subprocess.run(
            [*_as_postgres_user(), *stop],
            capture_output=True,
            check=False,
        )
    shutil.rmtree(cluster.folder, ignore_errors=True)


# --- the node ------------------------------------------------------------------------------


def make_node(database_url: str | None) -> Node:
    """A migrated node in a temporary folder and a reports:submit token for the sender."""
    data_dir = Path(tempfile.mkdtemp(prefix="haven-bench-intake-"))
    env = dict(os.environ)
    env.update(
        HAVEN_DATA_DIR=str(data_dir),
        HAVEN_API_RATE="1000000",
        DJANGO_SETTINGS_MODULE="haven.web.settings",
    )
    env.pop("HAVEN_CONFIG", None)
    env.pop("HAVEN_DATABASE_URL", None)
    if database_url:
        env["HAVEN_DATABASE_URL"] = database_url
    node = Node(data_dir, env, "PostgreSQL" if database_url else "SQLite")
    started = time.perf_counter()
    for arguments in (
        ("migrate", "--verbosity", "0"),
        ("token", "create", "bench-intake", "--scope", "reports:submit", "--agency", SENDER_AGENCY),
    ):
        done = subprocess.run(
            haven_command(*arguments), env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"haven {arguments[0]} failed:\n{done.stdout}\n{done.stderr}")
        node.timings[f"{arguments[0]}_s"] = time.perf_counter() - started
        started = time.perf_counter()
    node.token = done.stdout.strip()
    if not node.token.startswith("hvn_"):
        raise SystemExit(f"haven token create printed {node.token[:40]!r}, not a token")
    return node


def stored_receipts(node: Node) -> dict[str, str]:
    """receipt_id → sender_report_id of every row the node's database holds."""
    query = f"SELECT receipt_id, sender_report_id FROM {TABLE}"
    url = node.env.get("HAVEN_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as postgres:
            return {str(r): str(s) for r, s in postgres.execute(query).fetchall()}
    lite = sqlite3.connect(node.data_dir / "haven.sqlite3")
    try:
        return {str(r): str(s) for r, s in lite.execute(query).fetchall()}
    finally:
        lite.close()


# --- requests ------------------------------------------------------------------------------


def post_once(port: int, body: bytes, token: str) -> tuple[int, bytes]:
    """One request on a fresh connection (bench_api's `_request` is private there)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", INTAKE_PATH, body=body, headers=headers_for(token))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(server: Server, node: Node, run: str, timeout: float) -> dict[str, Any]:
    """/healthz, then a first 201 (report 0 of the run, counted with the others)."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise SystemExit(f"haven serve exited:\n{log_tail(server)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"haven serve not healthy in time:\n{log_tail(server)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                break
            connection.close()
        time.sleep(0.2)
    healthz = time.perf_counter() - started
    code, payload = post_once(server.port, report_body(run, 0), node.token)
    if code != 201:
        raise SystemExit(f"POST {INTAKE_PATH} answered {code}: {payload[:500]!r}")
    receipt = json.loads(payload)
    return {"healthz_s": healthz, "first_201_s": time.perf_counter() - started, "probe": receipt}


@dataclass
class Answer:
    number: int
    status: int  # 0: no answer (connection error)
    receipt: str
    report_id: str
    duplicate: bool
    sent: float
    end: float


@dataclass
class Load:
    connections: int
    window: tuple[float, float]
    answers: list[Answer]
    errors: dict[str, int]
    server_cpu_s: float
    database_cpu_s: float | None
    loadgen_cpu_s: float
    machine_busy_share: float
    machine_busy_core_s: float
    affinity: list[int]
    others: list[tuple[str, float]]  # the busiest other processes: (command, CPU s)


def _cpu(pids: set[int]) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in pids}


def _all_cpu() -> dict[int, float]:
    """utime + stime of every process on the machine (to name what else was busy)."""
    return {
        int(entry.name): process_cpu(int(entry.name))
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
    }


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:80] or f"pid {pid}"


def _tree_cpu_delta(roots: Callable[[], set[int]], before: dict[int, float]) -> float:
    """CPU spent since `before` by the trees' processes (new ones count from zero)."""
    now = _cpu(roots() | set(before))
    return sum(max(0.0, now[pid] - before.get(pid, 0.0)) for pid in now)


def run_load(
    server: Server,
    node: Node,
    run: str,
    numbers: Iterator[int],
    connections: int,
    warmup: float,
    seconds: float,
    postmaster: int | None,
) -> Load:
    """Closed loop: each connection sends its next distinct report once it read the last."""
    stop = threading.Event()
    lock = threading.Lock()
    headers = headers_for(node.token)
    records: list[list[Answer]] = [[] for _ in range(connections)]
    errors: dict[str, int] = {}
    affinity: list[int] = []

    def fail(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def worker(me: int) -> None:
        if me == 0:
            affinity.extend(sorted(os.sched_getaffinity(0)))
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        mine = records[me]
        while not stop.is_set():
            with lock:
                number = next(numbers)
            body = report_body(run, number)
            sent = time.perf_counter()
            try:
                connection.request("POST", INTAKE_PATH, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                fail(type(exc).__name__)
                mine.append(Answer(number, 0, "", "", False, sent, time.perf_counter()))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                continue
            ended = time.perf_counter()
            receipt, report_id, duplicate = "", "", False
            if response.status in (200, 201):
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    data = json.loads(payload)
                    receipt, report_id = str(data["receipt_id"]), str(data["report_id"])
                    duplicate = bool(data["duplicate"])
            if response.status != 201:
                fail(f"HTTP {response.status}")
            mine.append(Answer(number, response.status, receipt, report_id, duplicate, sent, ended))
        connection.close()

    def server_roots() -> set[int]:
        return set(process_tree(server.master))

    def database_roots() -> set[int]:
        return set(process_tree(postmaster)) if postmaster else set()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, begun + warmup - time.perf_counter()))
    server0, database0 = _cpu(server_roots()), _cpu(database_roots())
    every0 = _all_cpu()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = machine_jiffies()
    w0 = time.perf_counter()
    time.sleep(seconds)
    w1 = time.perf_counter()
    every1 = _all_cpu()
    ours = server_roots() | database_roots() | set(server0) | set(database0) | {os.getpid()}
    busiest = sorted(
        ((every1[pid] - every0.get(pid, 0.0), pid) for pid in every1 if pid not in ours),
        reverse=True,
    )
    others = [(_command_line(pid), spent) for spent, pid in busiest[:3] if spent >= 0.2]
    server_cpu = _tree_cpu_delta(server_roots, server0)
    database_cpu = _tree_cpu_delta(database_roots, database0) if postmaster else None
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    busy1, total1 = machine_jiffies()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    cores = os.cpu_count() or 1
    share = (busy1 - busy0) / max(1, total1 - total0)
    return Load(
        connections=connections,
        window=(w0, w1),
        answers=[a for per in records for a in per],
        errors=errors,
        server_cpu_s=server_cpu,
        database_cpu_s=database_cpu,
        loadgen_cpu_s=(self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime),
        machine_busy_share=share,
        machine_busy_core_s=share * cores * (w1 - w0),
        affinity=affinity,
        others=others,
    )


def summarise(load: Load) -> dict[str, Any]:
    w0, w1 = load.window
    window_s = w1 - w0
    inside = [a for a in load.answers if w0 <= a.end <= w1 and a.status == 201]
    latencies = np.array([a.end - a.sent for a in inside]) * 1000.0
    reports = len(inside)
    out: dict[str, Any] = {
        "connections": load.connections,
        "window_s": window_s,
        "reports": reports,
        "reports_per_s": reports / window_s,
        "errors": dict(load.errors),
        "server_cpu_s": load.server_cpu_s,
        "server_cores": load.server_cpu_s / window_s,
        "server_cpu_us_per_report": load.server_cpu_s / max(1, reports) * 1e6,
        "database_cpu_us_per_report": (
            None if load.database_cpu_s is None else load.database_cpu_s / max(1, reports) * 1e6
        ),
        "loadgen_cpu_s": load.loadgen_cpu_s,
        "loadgen_core_share": load.loadgen_cpu_s / window_s,
        "machine_busy_share": load.machine_busy_share,
        "other_cores": max(
            0.0,
            load.machine_busy_core_s
            - load.server_cpu_s
            - (load.database_cpu_s or 0.0)
            - load.loadgen_cpu_s,
        )
        / window_s,
        "affinity": load.affinity,
        "others": [f"{command} ({spent / window_s:.2f} cores)" for command, spent in load.others],
        "sent_total": len(load.answers),
    }
    if reports:
        for q in (50, 90, 99):
            out[f"p{q}_ms"] = float(np.percentile(latencies, q))
        out["max_ms"] = float(latencies.max())
    return out


def resend(
    server: Server, node: Node, run: str, acked: dict[int, str], count: int
) -> dict[str, Any]:
    """Send a sample of acknowledged reports again: 200, the same receipt, duplicate."""
    sample = random.Random(SEED).sample(sorted(acked), min(count, len(acked)))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = headers_for(node.token)
    problems: list[str] = []
    times: list[float] = []
    ok = 0
    for number in sample:
        started = time.perf_counter()
        try:
            connection.request("POST", INTAKE_PATH, body=report_body(run, number), headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            problems.append(f"report {number}: {type(exc).__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            continue
        times.append(time.perf_counter() - started)
        try:
            data = json.loads(payload)
            same = (
                response.status == 200
                and data["receipt_id"] == acked[number]
                and data["duplicate"] is True
            )
        except (ValueError, KeyError, TypeError):
            same = False
        if same:
            ok += 1
        else:
            problems.append(f"report {number}: HTTP {response.status} {payload[:120]!r}")
    connection.close()
    ms = np.array(times) * 1000.0
    return {
        "sent": len(sample),
        "same_receipt": ok,
        "problems": problems[:20],
        "p50_ms": float(np.percentile(ms, 50)) if times else None,
        "p99_ms": float(np.percentile(ms, 99)) if times else None,
        "ok": ok == len(sample) and len(sample) > 0,
    }


def loss_check(answers: list[Answer], stored: dict[str, str], run: str) -> dict[str, Any]:
    """Every 201 in the table with its report id, and nothing in the table without a 201."""
    created = [a for a in answers if a.status == 201]
    receipts = {a.receipt for a in created}
    missing = [a for a in created if a.receipt not in stored]
    wrong = [a for a in created if a.receipt in stored and stored[a.receipt] != a.report_id]
    misnamed = [a for a in created if a.report_id != f"bench-{run}-{a.number:07d}"]
    extra = [receipt for receipt in stored if receipt not in receipts]
    unanswered = sum(1 for a in answers if a.status == 0)
    return {
        "created_answers": len(created),
        "distinct_receipts": len(receipts),
        "rows": len(stored),
        "missing": len(missing),
        "wrong_report_id": len(wrong) + len(misnamed),
        "extra_rows": len(extra),
        "unanswered": unanswered,
        "examples": [f"receipt {a.receipt} of report {a.report_id} not stored" for a in missing][
            :10
        ],
        "ok": (
            len(stored) == len(created) == len(receipts)
            and not missing
            and not wrong
            and not misnamed
        ),
    }


# --- one database --------------------------------------------------------------------------


def bench_database(
    args: argparse.Namespace, database_url: str | None, cluster: Postgres | None, console: Console
) -> dict[str, Any]:
    load_start = loadavg()
    node = make_node(database_url)
    run = f"{node.database.lower()[:2]}{dt.datetime.now(dt.UTC):%H%M%S}"
    console.log(
        f"{node.database} node in {node.data_dir}: migrate {node.timings['migrate_s']:.1f} s"
    )
    numbers = itertools.count(1)
    server: Server | None = None
    try:
        server = start_server(args, node)
        ready = wait_ready(server, node, run, args.ready_timeout)
        probe = Answer(
            0, 201, ready["probe"]["receipt_id"], ready["probe"]["report_id"], False, 0.0, 0.0
        )
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.core})  # threads started from here on inherit it
        try:
            console.log(
                f"{node.database}: {args.connections} connections on core {args.core}, "
                f"warm-up {args.warmup:.0f} s + {args.seconds:.0f} s"
            )
            load = run_load(
                server,
                node,
                run,
                numbers,
                args.connections,
                args.warmup,
                args.seconds,
                cluster.postmaster() if cluster else None,
            )
        finally:
            os.sched_setaffinity(0, set(cores))
        summary = summarise(load)
        console.log(
            f"{node.database}: {summary['reports_per_s']:,.0f} reports/s, "
            f"p99 {_ms(summary.get('p99_ms'))} ms, "
            f"{summary['server_cpu_us_per_report']:,.0f} µs server CPU per report"
            + (f"; also busy: {', '.join(summary['others'])}" if summary["others"] else "")
        )
        answers = [probe, *load.answers]
        acked = {a.number: a.receipt for a in answers if a.status == 201}
        resent = resend(server, node, run, acked, args.resend)
    finally:
        if server is not None:
            stop_server(server)
    stored = stored_receipts(node)  # after the server stopped: what is on disk
    loss = loss_check(answers, stored, run)
    duplicates_answered = sum(1 for a in answers if a.status == 200)
    loss["first_send_answered_200"] = duplicates_answered
    console.log(
        f"{node.database}: {loss['rows']:,} rows for {loss['created_answers']:,} 201 answers, "
        f"{loss['missing']} missing; resend {resent['same_receipt']}/{resent['sent']} same receipt"
    )
    if args.keep:
        console.log(f"kept {node.data_dir}")
    else:
        shutil.rmtree(node.data_dir, ignore_errors=True)
    return {
        "database": node.database,
        "database_version": ((cluster.version or "unknown") if cluster else sqlite3.sqlite_version),
        "throwaway_cluster": bool(cluster and cluster.folder),
        "load_start": load_start,
        "load_end": loadavg(),
        "setup": {**node.timings, **{k: v for k, v in ready.items() if k != "probe"}},
        "loaded": summary,
        "resend": resent,
        "loss": loss,
    }


# --- report --------------------------------------------------------------------------------


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def verdicts(result: dict[str, Any]) -> list[str]:
    lines = []
    runs = {r["database"]: r for r in result["runs"]}
    for database in ("SQLite", "PostgreSQL"):
        r = runs.get(database)
        if r is None:
            why = result["skipped"].get(database, "not run")
            lines.append(f"NOT RUN intake ≥ {TARGET_REPORTS_S:.0f} reports/s ({database}): {why}")
            continue
        s = r["loaded"]
        ok = s["reports_per_s"] >= TARGET_REPORTS_S
        lines.append(
            f"{'PASS' if ok else 'MISS'} intake ≥ {TARGET_REPORTS_S:.0f} reports/s ({database}): "
            f"{s['reports_per_s']:,.0f} reports/s, p50 {_ms(s.get('p50_ms'))} ms, "
            f"p99 {_ms(s.get('p99_ms'))} ms, {s['connections']} connections"
        )
    if result["runs"]:
        ok = all(r["loss"]["ok"] and r["resend"]["ok"] for r in result["runs"])
        parts = [
            f"{r['database']} {r['loss']['rows']:,} rows = {r['loss']['created_answers']:,} "
            f"201 answers, {r['loss']['missing']} missing, resend "
            f"{r['resend']['same_receipt']}/{r['resend']['sent']} same receipt"
            for r in result["runs"]
        ]
        lines.append(f"{'PASS' if ok else 'MISS'} zero loss: " + "; ".join(parts))
    return lines


def report_tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    runs = result["runs"]
    throughput = [
        [
            r["database"],
            f"{r['loaded']['connections']}",
            f"{r['loaded']['window_s']:.1f}",
            f"{r['loaded']['reports']:,}",
            f"{r['loaded']['reports_per_s']:,.0f}",
            _ms(r["loaded"].get("p50_ms")),
            _ms(r["loaded"].get("p90_ms")),
            _ms(r["loaded"].get("p99_ms")),
            _ms(r["loaded"].get("max_ms")),
            str(sum(r["loaded"]["errors"].values())),
        ]
        for r in runs
    ]
    cpu = [
        [
            r["database"],
            f"{r['loaded']['server_cpu_us_per_report']:,.0f}",
            "–"
            if r["loaded"]["database_cpu_us_per_report"] is None
            else f"{r['loaded']['database_cpu_us_per_report']:,.0f}",
            f"{r['loaded']['server_cores']:.2f}",
            f"{100 * r['loaded']['loadgen_core_share']:.0f}%",
            f"{100 * r['loaded']['machine_busy_share']:.0f}%",
            f"{r['loaded']['other_cores']:.2f}",
            f"{r['load_start']} → {r['load_end']}",
        ]
        for r in runs
    ]
    loss = [
        [
            r["database"],
            f"{r['loss']['created_answers']:,}",
            f"{r['loss']['rows']:,}",
            str(r["loss"]["missing"]),
            str(r["loss"]["extra_rows"]),
            str(r["loss"]["wrong_report_id"]),
            str(r["loss"]["unanswered"]),
            f"{r['resend']['same_receipt']}/{r['resend']['sent']}",
            f"{_ms(r['resend']['p50_ms'])} / {_ms(r['resend']['p99_ms'])}",
            "yes" if r["loss"]["ok"] and r["resend"]["ok"] else "NO",
        ]
        for r in runs
    ]
    return [
        (
            f"POST {INTAKE_PATH}: distinct reports, closed loop (latency per report)",
            [
                "database",
                "connections",
                "window s",
                "201s in window",
                "reports/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "errors",
            ],
            throughput,
        ),
        (
            "CPU per report (server = gunicorn master + workers; database = postgres processes "
            "of the throwaway cluster; utime + stime from /proc/<pid>/stat over the window)",
            [
                "database",
                "server CPU µs/report",
                "database CPU µs/report",
                "server cores busy",
                "load generator (its one core)",
                "machine busy (all cores)",
                "other processes, cores",
                "load average start → end",
            ],
            cpu,
        ),
        (
            "Zero loss (rows counted after the server stopped) and resend",
            [
                "database",
                "201 answers (whole run)",
                "rows in table",
                "201s not stored",
                "rows without a 201",
                "wrong report id",
                "no answer",
                "resend: 200 + same receipt",
                "resend p50 / p99 ms",
                "zero loss",
            ],
            loss,
        ),
    ]


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Authority intake: POST /api/v1/intake/reports through the real server",
        "",
        f"Generated by `benchmarks/bench_intake.py` on {result['date']}.",
        "",
        f"- Command: `{result['command']}` — wall {result['wall_s']:.0f} s",
        f"- Machine: nproc = {m['nproc']}, CPU: {m['cpu']}, RAM {m['ram']}, "
        f"Linux {m['kernel']}; Python {m['python']}, {m['versions']}",
        f"- Load average {result['load_start']} at start, {result['load_end']} at end (per "
        "run in the CPU table). The machine may be shared: *other processes* is the whole "
        "machine's busy core-seconds not spent by the server, the database or the load "
        "generator, per second of the window.",
        f"- Server: `haven serve --access-log off --workers {result['workers']} --threads "
        f"{result['threads']}`, not pinned; HAVEN_API_RATE=1000000; each database fresh and "
        "with its durable defaults (SQLite WAL + synchronous=FULL; PostgreSQL fsync and "
        "synchronous_commit on). " + "; ".join(result["database_notes"]) + ".",
        f"- Load generator: this process, pinned to core {result['core']}, "
        f"{result['connections']} keep-alive `http.client` connections, one thread each, closed "
        f"loop; warm-up {result['warmup_s']:.0f} s, then a {result['seconds']:.0f} s window. "
        "Latency runs from sending the request to having read the whole answer.",
        "- Reports: every request a distinct synthetic report (unique report_id), built from "
        "its sequence number: 0–3 files (MD5, SHA-1, PDQ, upload IP), 0–3 ads with fictional "
        "phone numbers (+1 202 555 01xx, +61 491 570 xxx), one reported account with "
        f"documentation-range IPs; about {result['body_bytes']:,} bytes of JSON on average.",
        f"- Resend: {result['resend']} acknowledged reports sent again byte for byte; each "
        "must answer 200 with its original receipt and `duplicate: true`.",
        "- Zero loss: after the server stopped, the rows of reports_receivedreport must equal "
        "the 201 answers of the whole run (probe, warm-up and window), each 201's receipt_id "
        "stored with its report id.",
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in verdicts(result)],
        "",
    ]
    for title, headers, rows in report_tables(result):
        lines += [f"### {title}", "", "| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    problems = [
        f"{r['database']}: {p}"
        for r in result["runs"]
        for p in r["loss"]["examples"] + r["resend"]["problems"]
    ]
    errors = [
        f"{r['database']}: {kind}: {count}"
        for r in result["runs"]
        for kind, count in r["loaded"]["errors"].items()
    ]
    busy = [f"{r['database']}: {', '.join(r['loaded']['others'])}" for r in result["runs"]]
    busy = [line for line in busy if not line.endswith(": ")]
    if busy:
        lines += ["### Other busy processes during the window", "", *[f"- {b}" for b in busy], ""]
    if problems or errors:
        lines += ["### Problems", "", *[f"- {p}" for p in errors + problems], ""]
    return "\n".join(lines).rstrip() + "\n"


def print_report(result: dict[str, Any], console: Console) -> None:
    for title, headers, rows in report_tables(result):
        table = Table(title=title)
        for i, header in enumerate(headers):
            table.add_column(header, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for line in verdicts(result):
        style = "green" if line.startswith("PASS") else "red"
        console.print(f"[{style}]{line}")


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_intake", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, help="measured window (default 20)")
    parser.add_argument("--warmup", type=float, help="seconds of load before it (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--resend", type=int, help="acknowledged reports resent (default 300)")
    parser.add_argument("--core", type=int, help="the load generator's core (default: the last)")
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run on a throwaway PostgreSQL cluster (default: when initdb is found)",
    )
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database instead")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folders")
    parser.add_argument("--quick", action="store_true", help="5 s window: a smoke run")
    parser.add_argument("--out", type=Path, help="Markdown report (default results/intake.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (5.0 if quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 3.0)
    args.resend = args.resend if args.resend is not None else (50 if quick else 300)
    args.out = args.out or (DATA_DIR / "intake-quick.md" if quick else RESULTS)
    args.py_spy = None  # bench_api.start_server reads it
    if min(args.workers, args.threads, args.connections) < 1 or args.resend < 0:
        parser.error("--workers, --threads and --connections must be at least 1")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    if args.database_url and args.postgres:
        parser.error("--postgres starts its own cluster; --database-url uses yours: pick one")
    if args.postgres and not postgres_available():
        parser.error(f"--postgres needs {PG_BIN}/initdb and pg_ctl")
    cores = sorted(os.sched_getaffinity(0))
    args.core = cores[-1] if args.core is None else args.core
    if args.core not in cores:
        parser.error(f"--core {args.core} is not one of this process's cores {cores}")

    console = Console(width=None if sys.stdout.isatty() else 200)
    started = time.perf_counter()
    command = "cd /work/main && .venv/bin/python -m benchmarks.bench_intake " + shlex.join(argv)
    load_start = loadavg()
    runs: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    notes: list[str] = []
    if args.no_sqlite:
        skipped["SQLite"] = "skipped (--no-sqlite)"
    else:
        runs.append(bench_database(args, None, None, console))
        notes.append(f"SQLite {sqlite3.sqlite_version} file in the temporary HAVEN_DATA_DIR")
    if args.database_url:
        runs.append(bench_database(args, args.database_url, Postgres(args.database_url), console))
        notes.append("PostgreSQL: the empty database of --database-url (its CPU not measured)")
    elif args.postgres is False or (args.postgres is None and not postgres_available()):
        skipped["PostgreSQL"] = (
            "skipped (--no-postgres)" if args.postgres is False else f"no {PG_BIN}/initdb here"
        )
    else:
        cluster = start_postgres(console)
        try:
            runs.append(bench_database(args, cluster.url, cluster, console))
        finally:
            stop_postgres(cluster)
        notes.append(
            f"PostgreSQL {cluster.version}: a throwaway cluster (initdb --auth=trust, default "
            "postgresql.conf) on a loopback TCP port, deleted afterwards"
        )
    bodies = [len(report_body("x", n)) for n in range(1, 501)]
    m = machine()
    m["versions"] += f", psycopg {_version('psycopg')}"
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command.strip(),
        "machine": m,
        "load_start": load_start,
        "load_end": loadavg(),
        "wall_s": time.perf_counter() - started,
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "core": args.core,
        "warmup_s": args.warmup,
        "seconds": args.seconds,
        "resend": args.resend,
        "body_bytes": round(sum(bodies) / len(bodies)),
        "database_notes": notes,
        "skipped": skipped,
        "runs": runs,
    }
    print_report(result, console)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / f"{args.out.stem}-results.json").write_text(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(result))
    console.log(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    ok = all(r["loss"]["ok"] and r["resend"]["ok"] for r in runs) and bool(runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

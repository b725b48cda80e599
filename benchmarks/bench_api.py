"""Matching API: POST /api/v1/match through the real HTTP server, batches of 100 hashes.

    python -m benchmarks.bench_api [--entries 1000000] [--dataset realistic|uniform]
        [--seconds 20] [--warmup 5] [--workers 2] [--threads 4] [--connections 8]
        [--batch 100] [--near-share 0.1] [--core N] [--database-url URL] [--quick]
        [--latency-seconds 5] [--verify-batches 5] [--keep] [--py-spy DIR]
        [--out benchmarks/results/api.md]

One run, end to end, on a fresh node in a temporary data folder:

1. `haven migrate` (SQLite under the temporary HAVEN_DATA_DIR, or the empty PostgreSQL
   database of `--database-url`); an agency, one PDQ bank (threshold 31) and N entries
   inserted in big transactions (executemany on SQLite, COPY on PostgreSQL; one BankChange
   for the bank, as an import writes); an API token with scope "match".
2. `haven serve --access-log off --workers W --threads T` on a free loopback port, as a
   subprocess; the benchmark waits for /healthz, a first successful match, and every worker
   being idle (each worker builds the matcher's index before it accepts requests).
3. The load generator, pinned to ONE core with os.sched_setaffinity (the server is not
   pinned), keeps C keep-alive connections busy (one thread each, closed loop) with
   pre-built request bodies of B hashes: a share of near-neighbours of banked entries
   (an entry with j ~ U{0..31} bits flipped, so its source must match at distance j) and
   random hashes (drawn like the bank, so they land in the same dense buckets). Seeded.
   After a warm-up it measures a fixed window; then a short single-connection window gives
   the latency without queueing.
4. Reported: lookups/s, requests/s, p50/p90/p99/max latency per batch, server CPU time per
   lookup (utime + stime of gunicorn's master and every worker from /proc/<pid>/stat, delta
   over the window, divided by the lookups), load-generator CPU, the whole machine's busy
   share (other tenants of a shared machine show up there), match rate, insert time,
   server start-up, RSS per worker; correctness on every response (each near-neighbour's
   source entry is among its matches) and, on a sample, the exact match set of each hash
   against a numpy brute-force oracle.

Datasets (benign only; generated and cached by benchmarks/bench_index.py): "realistic"
(default) grows N hashes from real PDQ hashes of benign images (noisy copies and chunk-wise
mosaics, see bench_index.REALISTIC_METHOD): lumpy buckets and thin near-duplicate clusters,
as real lists have; "uniform" is independent random hashes.

The server gets HAVEN_API_RATE=1000000 so that the per-token rate limit (200 requests/s per
process by default) measures nothing but itself; everything else is the node's defaults.
`--py-spy DIR` starts the server under `py-spy record --subprocesses` (install py-spy into
.venv first) and writes the collapsed stacks of every server process (flamegraph.pl input)
to DIR/server-stacks.txt: the figures of such a run are perturbed by the sampling, so use
it to see where the time goes, not for the table.

Results go to the console and, as Markdown, to benchmarks/results/api.md (with --quick to
benchmarks/.data/api-quick.md, so a smoke run never replaces the real report); the raw
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
import platform
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from benchmarks.bench_index import (
    DATA_DIR,
    _version,
    dataset,
    seed_hashes,
    synthetic_hashes,
    uniform_hashes,
)
from benchmarks.bench_index import machine as index_machine

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "api.md"
MATCH_PATH = "/api/v1/match"
HASH_BYTES = 32
RADIUS = 31  # the bank's threshold (the model's default)
SEED = 20261129
CLASSES = ("A1", "A2", "B1", "B2")
INSERT_CHUNK = 100_000
TARGET_LOOKUPS_S = 10_000.0
TARGET_P99_MS = 50.0
HMA_FIELD = (
    "HMA's field report: about 450–500 hash+match requests/s on 10 worker pods "
    "(one upload hashed and matched per request, so about 45–50 lookups/s per pod)"
)


# --- machine and processes -----------------------------------------------------------------


def machine() -> dict[str, str]:
    """The index benchmark's reading of the machine, plus what serves the API."""
    shared = index_machine()
    return {
        **{key: shared[key] for key in ("nproc", "cpu", "ram", "python")},
        "kernel": platform.release(),
        "versions": ", ".join(
            f"{name} {_version(name)}" for name in ("django", "django-ninja", "gunicorn", "numpy")
        ),
    }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat split after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def process_cpu(pid: int) -> float:
    """utime + stime of one process in seconds (0 when it is gone)."""
    fields = _stat_fields(pid)
    # After the name: state(0) ppid(1) ... utime(11) stime(12).
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def process_tree(pid: int) -> list[int]:
    """The process and all of its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children_of(current)
    return tree


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- data ----------------------------------------------------------------------------------


def bank_hashes(name: str, n: int, console: Console) -> tuple[NDArray[np.uint8], dict[str, Any]]:
    db, info = dataset(name, n, console)
    return np.ascontiguousarray(db), info


@dataclass
class Pool:
    """Pre-built request bodies, and what each near-neighbour query must find."""

    bodies: list[bytes]
    hashes: NDArray[np.uint8]  # (batches * batch, 32)
    near: NDArray[np.bool_]  # per hash: a near-neighbour of an entry
    source: NDArray[np.int64]  # near: the entry's slot; random: -1
    flips: NDArray[np.int64]  # near: the exact bits flipped; random: -1
    expected: list[list[tuple[int, str]]]  # per batch: (position, external id) that must match
    batch: int

    @property
    def near_count(self) -> int:
        return int(self.near.sum())


def external_id(slot: int) -> str:
    return f"e{slot:07d}"


def classification(slot: int) -> str:
    return CLASSES[slot % len(CLASSES)]


def make_pool(
    name: str, db: NDArray[np.uint8], batches: int, batch: int, near_share: float, console: Console
) -> Pool:
    """`batches` bodies of `batch` hashes, round(near_share * batch) near-neighbours in each."""
    rng = np.random.default_rng([SEED, db.shape[0], batches, batch])
    per_batch = round(near_share * batch)
    order = np.argsort(rng.random((batches, batch)), axis=1)
    near = (order < per_batch).reshape(-1)
    total = batches * batch
    n_near = int(near.sum())
    source = rng.integers(0, db.shape[0], n_near)
    flips = rng.integers(0, RADIUS + 1, n_near)
    mask = np.zeros((n_near, 256), np.bool_)
    positions = np.argsort(rng.random((n_near, 256), dtype=np.float32), axis=1)
    np.put_along_axis(mask, positions, np.arange(256)[None, :] < flips[:, None], axis=1)
    hashes = np.empty((total, HASH_BYTES), np.uint8)
    hashes[near] = db[source] ^ np.packbits(mask, axis=1)
    if name == "realistic":
        seeds, _ = seed_hashes(console)
        hashes[~near] = synthetic_hashes(seeds, total - n_near, rng)
    else:
        hashes[~near] = uniform_hashes(total - n_near, rng)
    src = np.full(total, -1, np.int64)
    src[near] = source
    flp = np.full(total, -1, np.int64)
    flp[near] = flips
    hexes = [bytes(row).hex() for row in hashes]
    bodies, expected = [], []
    for b in range(batches):
        lo = b * batch
        bodies.append(json.dumps({"hashes": hexes[lo : lo + batch]}).encode())
        expected.append([(i, external_id(int(src[lo + i]))) for i in range(batch) if near[lo + i]])
    return Pool(bodies, hashes, near, src, flp, expected, batch)


# --- the node ------------------------------------------------------------------------------


@dataclass
class Node:
    data_dir: Path
    env: dict[str, str]
    database: str
    token: str = ""
    bank_id: int = 0
    bank_name: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def haven_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "haven.cli", *arguments]


def make_node(args: argparse.Namespace, db: NDArray[np.uint8], console: Console) -> Node:
    """Migrate a fresh node and fill it: agency, bank, N entries, one change, a token."""
    data_dir = Path(tempfile.mkdtemp(prefix="haven-bench-api-"))
    env = dict(os.environ)
    env["HAVEN_DATA_DIR"] = str(data_dir)
    env["HAVEN_API_RATE"] = "1000000"
    env["DJANGO_SETTINGS_MODULE"] = "haven.web.settings"
    env.pop("HAVEN_CONFIG", None)
    if args.database_url:
        env["HAVEN_DATABASE_URL"] = args.database_url
    else:
        env.pop("HAVEN_DATABASE_URL", None)
    node = Node(data_dir, env, "PostgreSQL" if args.database_url else "SQLite")

    started = time.perf_counter()
    done = subprocess.run(
        haven_command("migrate", "--verbosity", "0"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"haven migrate failed:\n{done.stdout}\n{done.stderr}")
    node.timings["migrate_s"] = time.perf_counter() - started

    # The rest runs in this process with the node's settings (Django reads them on import).
    os.environ.update({k: env[k] for k in ("HAVEN_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    os.environ.pop("HAVEN_CONFIG", None)
    if args.database_url:
        os.environ["HAVEN_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("HAVEN_DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection, transaction

    from haven.accounts.models import Agency, ApiToken
    from haven.banks.models import Bank, BankChange, BankEntry

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    agency = Agency.objects.create(name=f"Benchmark agency {stamp}")
    bank = Bank.objects.create(
        agency=agency,
        name=f"bench-api {stamp}",
        source="synthetic (benchmarks/bench_api.py)",
        classification_scheme="categories",
        threshold=RADIUS,
    )
    node.bank_id, node.bank_name = int(bank.pk), bank.name

    fields = [f for f in BankEntry._meta.concrete_fields if not f.primary_key]
    varying = ("bank", "hash", "external_id", "classification")
    given: dict[str, Any] = {
        "signal_type": "pdq",
        "source_list": "bench-api synthetic",
        "added_at": dt.datetime.now(dt.UTC),
        "enabled": True,
    }
    constant = {
        f.name: f.get_db_prep_save(given.get(f.name, f.get_default()), connection)
        for f in fields
        if f.name not in varying
    }
    columns = [f.column for f in fields]
    table = connection.ops.quote_name(BankEntry._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    names = [f.name for f in fields]

    def rows(lo: int, hi: int) -> list[tuple[Any, ...]]:
        block = db[lo:hi].tobytes()
        out = []
        for slot in range(lo, hi):
            offset = (slot - lo) * HASH_BYTES
            values = {
                "bank": bank.pk,
                "hash": block[offset : offset + HASH_BYTES],
                "external_id": external_id(slot),
                "classification": classification(slot),
            }
            out.append(tuple(values[n] if n in values else constant[n] for n in names))
        return out

    n = db.shape[0]
    started = time.perf_counter()
    with console.status(f"inserting {n:,} entries") as status:
        for lo in range(0, n, INSERT_CHUNK):
            hi = min(n, lo + INSERT_CHUNK)
            chunk = rows(lo, hi)
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    raw = cursor.cursor  # psycopg 3: COPY is the fast path
                    with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({column_list}) VALUES ({marks})", chunk
                    )
            status.update(f"inserting entries: {hi:,} of {n:,}")
        BankChange.objects.create(bank=bank)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {table}")
    node.timings["insert_s"] = time.perf_counter() - started
    node.timings["database_mib"] = database_bytes(node) / 2**20
    stored = BankEntry.objects.filter(bank=bank).count()
    if stored != n:
        raise SystemExit(f"inserted {stored:,} entries, expected {n:,}")

    connection.close()
    made = subprocess.run(
        haven_command("token", "create", "bench-api", "--scope", "match", "--agency", agency.name),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = made.stdout.strip()
    if made.returncode == 0 and text.startswith("hvn_") and len(text.split()) == 1:
        node.token, how = text, "`haven token create bench-api --scope match --agency ...`"
    else:  # the command missing or changed: the model's own way, same scope and agency
        _row, node.token = ApiToken.issue("bench-api", ["match"], agency)
        connection.close()
        how = f"ApiToken.issue (haven token create failed: {made.stderr.strip()[:120]!r})"
    node.notes.append(
        f"token made with {how}, scope match, in the bank's agency; entries inserted with raw "
        f"SQL in transactions of {INSERT_CHUNK:,} rows "
        f"({'COPY' if args.database_url else 'executemany'}), then one BankChange for the bank"
    )
    return node


def database_bytes(node: Node) -> int:
    if node.database != "SQLite":
        return 0
    return sum(p.stat().st_size for p in node.data_dir.glob("*.sqlite3*"))


# --- the server ----------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    master: int
    workers: list[int] = field(default_factory=list)
    ready: dict[str, float] = field(default_factory=dict)
    profiler: bool = False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, node: Node) -> Server:
    port = free_port()
    command = haven_command(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-log",
        "off",
    )
    if args.py_spy:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        args.py_spy.mkdir(parents=True, exist_ok=True)
        command = [
            spy,
            "record",
            "--subprocesses",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(args.py_spy / "server-stacks.txt"),
            "--",
            *command,
        ]
    log = node.data_dir / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=node.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log, process.pid, profiler=bool(args.py_spy))
    if server.profiler:  # the master is py-spy's child
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (kids := children_of(process.pid)):
            time.sleep(0.1)
        server.master = kids[0] if kids else process.pid
    return server


def log_tail(server: Server, lines: int = 30) -> str:
    try:
        return "\n".join(server.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(server: Server) -> None:
    if server.process.poll() is not None:
        raise SystemExit(
            f"haven serve exited with {server.process.returncode}:\n{log_tail(server)}"
        )


def _request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def headers_for(token: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {token}",
    }


def wait_ready(
    args: argparse.Namespace, server: Server, node: Node, body: bytes, console: Console
) -> None:
    """/healthz, then a first 200 from POST /match, then every worker present and idle."""
    started = time.perf_counter()
    deadline = time.monotonic() + args.ready_timeout
    with console.status("waiting for haven serve") as status:
        while True:
            _alive(server)
            if time.monotonic() > deadline:
                raise SystemExit(f"haven serve not healthy in time:\n{log_tail(server)}")
            try:
                code, _ = _request(server.port, "GET", "/healthz", None, {})
                if code == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        server.ready["healthz_s"] = time.perf_counter() - started
        status.update("waiting for a first successful match")
        while True:
            _alive(server)
            if time.monotonic() > deadline:
                raise SystemExit(f"no successful match in time:\n{log_tail(server)}")
            try:
                code, data = _request(
                    server.port, "POST", MATCH_PATH, body, headers_for(node.token)
                )
            except OSError:
                code, data = 0, b""
            if code == 200:
                break
            if code in (401, 403, 404, 405, 422) or (400 <= code < 500 and code != 429):
                raise SystemExit(f"POST {MATCH_PATH} answered {code}: {data[:500]!r}")
            time.sleep(0.2)
        server.ready["first_match_s"] = time.perf_counter() - started
        status.update("waiting for every worker to finish building its index")
        previous: dict[int, float] = {}
        quiet = 0
        while quiet < 2:
            _alive(server)
            if time.monotonic() > deadline:
                raise SystemExit(f"workers did not settle in time:\n{log_tail(server)}")
            workers = children_of(server.master)
            now = {pid: process_cpu(pid) for pid in workers}
            settled = len(workers) >= args.workers and all(
                pid in previous and now[pid] - previous[pid] < 0.05 for pid in workers
            )
            quiet = quiet + 1 if settled else 0
            previous = now
            time.sleep(0.5)
        server.workers = children_of(server.master)
    server.ready["all_idle_s"] = time.perf_counter() - started - 1.0  # minus the quiet check
    server.ready["worker_cpu_at_ready_s"] = max(process_cpu(pid) for pid in server.workers)
    server.ready["master_rss_mib"] = rss_mib(server.master)
    server.ready["worker_rss_mib"] = max(rss_mib(pid) for pid in server.workers)


def stop_server(server: Server) -> None:
    """SIGTERM to the processes this benchmark started (gunicorn stops its workers)."""
    tree = process_tree(server.process.pid)
    # Under py-spy too: gunicorn's master stops, then py-spy writes its profile and exits.
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.master, signal.SIGTERM)
    try:
        server.process.wait(timeout=60 if server.profiler else 30)
    except subprocess.TimeoutExpired:
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.process.wait(timeout=10)


# --- load ----------------------------------------------------------------------------------


@dataclass
class Done:
    start: float  # when the request was due (paced) or sent (closed loop)
    sent: float
    end: float
    matched: int  # hashes of the batch with at least one match
    matches: int  # match records in the batch
    missed: int  # near-neighbour sources not among their hash's matches


@dataclass
class Load:
    connections: int
    rate: float | None
    window_s: float
    done: list[Done]
    errors: dict[str, int]
    server_cpu_s: float
    loadgen_cpu_s: float
    machine_busy_share: float  # of all cores
    machine_busy_core_s: float
    affinity: list[int]


def _check(payload: bytes, expected: list[tuple[int, str]], batch: int) -> tuple[int, int, int]:
    results = json.loads(payload)["results"]
    if len(results) != batch:
        raise ValueError(f"{len(results)} results for {batch} hashes")
    matched = sum(1 for r in results if r["matches"])
    matches = sum(len(r["matches"]) for r in results)
    missed = sum(
        1
        for position, wanted in expected
        if not any(m["external_id"] == wanted for m in results[position]["matches"])
    )
    return matched, matches, missed


def run_load(
    server: Server,
    node: Node,
    pool: Pool,
    connections: int,
    warmup: float,
    seconds: float,
    max_requests: int,
    rate: float | None = None,
) -> Load:
    """`connections` threads, each one keep-alive connection, on this process's core.

    Closed loop by default: each connection sends its next batch once it has read the last
    answer. With `rate` (requests/s) the batches are due on a fixed schedule instead and
    latency counts from the due time, so a server (or client) that falls behind shows up as
    latency rather than as fewer requests (no coordinated omission).
    """
    stop = threading.Event()
    ticket = itertools.count()
    headers = headers_for(node.token)
    records: list[list[Done]] = [[] for _ in range(connections)]
    errors: dict[str, int] = {}
    lock = threading.Lock()
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
            number = next(ticket)
            if number >= max_requests:
                break
            b = number % len(pool.bodies)
            if rate is None:
                started = time.perf_counter()
            else:
                started = begun + number / rate
                delay = started - time.perf_counter()
                if delay > 0 and stop.wait(delay):
                    break
            sent = time.perf_counter()
            try:
                connection.request("POST", MATCH_PATH, body=pool.bodies[b], headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                fail(type(exc).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                continue
            ended = time.perf_counter()
            if response.status != 200:
                fail(f"HTTP {response.status}")
                continue
            try:
                matched, matches, missed = _check(payload, pool.expected[b], pool.batch)
            except (ValueError, KeyError, TypeError) as exc:
                fail(f"bad body: {exc}"[:80])
                continue
            mine.append(Done(started, sent, ended, matched, matches, missed))
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    begun = time.perf_counter() + 0.05
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, begun + warmup - time.perf_counter()))
    tree = process_tree(server.master)
    cpu0 = sum(process_cpu(pid) for pid in tree)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = machine_jiffies()
    w0 = time.perf_counter()
    time.sleep(seconds)
    w1 = time.perf_counter()
    cpu1 = sum(process_cpu(pid) for pid in tree)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    busy1, total1 = machine_jiffies()
    stop.set()
    for thread in threads:
        thread.join(timeout=40)
    done = [d for per in records for d in per if w0 <= d.end <= w1]
    cores = os.cpu_count() or 1
    return Load(
        connections=connections,
        rate=rate,
        window_s=w1 - w0,
        done=done,
        errors=errors,
        server_cpu_s=cpu1 - cpu0,
        loadgen_cpu_s=(self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime),
        machine_busy_share=(busy1 - busy0) / max(1, total1 - total0),
        machine_busy_core_s=(busy1 - busy0) / max(1, total1 - total0) * cores * (w1 - w0),
        affinity=affinity,
    )


def summarise(load: Load, batch: int) -> dict[str, Any]:
    latencies = np.array([d.end - d.start for d in load.done]) * 1000.0
    requests = len(load.done)
    lookups = requests * batch
    out: dict[str, Any] = {
        "connections": load.connections,
        "rate_target": load.rate,
        "window_s": load.window_s,
        "requests": requests,
        "lookups": lookups,
        "requests_per_s": requests / load.window_s,
        "lookups_per_s": lookups / load.window_s,
        "errors": dict(load.errors),
        "server_cpu_s": load.server_cpu_s,
        "server_cores": load.server_cpu_s / load.window_s,
        "server_cpu_us_per_lookup": load.server_cpu_s / max(1, lookups) * 1e6,
        "server_cpu_ms_per_request": load.server_cpu_s / max(1, requests) * 1e3,
        "loadgen_cpu_s": load.loadgen_cpu_s,
        "loadgen_core_share": load.loadgen_cpu_s / load.window_s,
        "machine_busy_share": load.machine_busy_share,
        "other_cpu_s": max(0.0, load.machine_busy_core_s - load.server_cpu_s - load.loadgen_cpu_s),
        "affinity": load.affinity,
        "matched_share": sum(d.matched for d in load.done) / max(1, lookups),
        "matches_per_lookup": sum(d.matches for d in load.done) / max(1, lookups),
        "near_missed": sum(d.missed for d in load.done),
    }
    if requests:
        for q in (50, 90, 99):
            out[f"p{q}_ms"] = float(np.percentile(latencies, q))
        out["max_ms"] = float(latencies.max())
        out["mean_ms"] = float(latencies.mean())
        lag = np.array([d.sent - d.start for d in load.done]) * 1000.0
        out["send_lag_p99_ms"] = float(np.percentile(lag, 99))
    return out


# --- correctness on a sample ---------------------------------------------------------------


def verify_sample(
    server: Server, node: Node, pool: Pool, db: NDArray[np.uint8], batches: int
) -> dict[str, Any]:
    """Every hash of the first `batches` bodies: the exact match set against brute force."""
    words = db.view(np.uint64)
    problems: list[str] = []
    checked = oracle_matches = near_checked = 0
    for b in range(min(batches, len(pool.bodies))):
        code, payload = _request(
            server.port, "POST", MATCH_PATH, pool.bodies[b], headers_for(node.token)
        )
        if code != 200:
            problems.append(f"batch {b}: HTTP {code}")
            continue
        results = json.loads(payload)["results"]
        for i, result in enumerate(results):
            q = b * pool.batch + i
            query = pool.hashes[q]
            if result.get("hash") != bytes(query).hex():
                problems.append(f"batch {b} #{i}: hash echoed as {result.get('hash')!r}")
            distances = np.bitwise_count(words ^ query.view(np.uint64)).sum(axis=1)
            slots = np.flatnonzero(distances <= RADIUS)
            want = {(external_id(int(s)), int(distances[s])) for s in slots}
            got = {(m.get("external_id"), m.get("distance")) for m in result.get("matches", [])}
            oracle_matches += len(want)
            if got != want:
                problems.append(
                    f"batch {b} #{i}: {len(got - want)} extra, {len(want - got)} missing"
                )
            for m in result.get("matches", []):
                ext = str(m.get("external_id", ""))
                slot = int(ext[1:]) if ext[1:].isdigit() else -1
                if (
                    m.get("bank") != node.bank_name
                    or m.get("bank_id") != node.bank_id
                    or (slot >= 0 and m.get("classification") != classification(slot))
                ):
                    problems.append(f"batch {b} #{i}: wrong bank or classification in {m}")
                    break
            if result.get("suppressed"):
                problems.append(f"batch {b} #{i}: suppressed matches without an allow-list")
            if pool.near[q]:
                near_checked += 1
                source = (external_id(int(pool.source[q])), int(pool.flips[q]))
                if source not in got:
                    problems.append(f"batch {b} #{i}: near-neighbour source {source} missing")
            checked += 1
    return {
        "hashes": checked,
        "near": near_checked,
        "oracle_matches": oracle_matches,
        "problems": problems[:20],
        "problem_count": len(problems),
        "ok": not problems and checked > 0,
    }


# --- the engine alone ----------------------------------------------------------------------


FLOOR_BATCHES = 300


def engine_floor(db: NDArray[np.uint8], pool: Pool) -> dict[str, Any]:
    """The pool's first batches through MultiIndexHash in this process, on one core.

    This is what the server's search costs without HTTP, Django or the matcher around it.
    It runs just before the server starts and again just after it stops, because on a
    shared virtual machine the cost of this memory-bound search drifts over minutes.
    """
    from haven.index.mih import MultiIndexHash
    from haven.web.config import load_config

    started = time.perf_counter()
    # The plan the server's matcher makes: the same memory budget per hash.
    index = MultiIndexHash(db, bytes_per_hash=load_config().index_bytes_per_hash)
    build_s = time.perf_counter() - started
    batches = [
        pool.hashes[lo : lo + pool.batch]
        for lo in range(0, min(len(pool.hashes), FLOOR_BATCHES * pool.batch), pool.batch)
    ]
    index.search(batches[-1], RADIUS)  # warm-up
    times = []
    cpu0 = time.process_time()
    for batch in batches:
        t0 = time.perf_counter()
        index.search(batch, RADIUS).grouped(batch.shape[0])
        times.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    lookups = len(batches) * pool.batch
    ms = np.array(times) * 1000.0
    return {
        "build_s": build_s,
        "batches": len(batches),
        "us_per_lookup": float(ms.sum()) * 1000.0 / lookups,
        "cpu_us_per_lookup": cpu * 1e6 / lookups,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "memory_mib": sum(index.memory_bytes().values()) / 2**20,
        "plan": f"{len(index.plan)} tables of {'/'.join(sorted({str(b) for _, b in index.plan}))}"
        "-bit keys",
    }


# --- where the server's time goes (py-spy) ------------------------------------------------

# (part, frame substrings): a request-handling stack counts for the first part one of whose
# substrings occurs in any of its frames. Order matters: specific before general.
PROFILE_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("index search (MultiIndexHash.search, C)", ("MultiIndexHash.search",)),
    (
        "database connection opened and closed per request",
        (
            "get_new_connection",
            "init_connection_state",
            "DatabaseWrapper.connect",
            "BaseDatabaseWrapper.close",
            "DatabaseWrapper.close",
        ),
    ),
    ("auth: token query, last-used update, rate limit", ("TokenAuth.authenticate",)),
    ("banks in reach: query (_search_banks)", ("_search_banks",)),
    ("matcher: change-log poll (sync)", ("_maybe_sync", "_sync_locked", "Matcher.sync")),
    ("matcher: matched entries' details query", ("_entry_details",)),
    ("matcher: hits post-processing", ("_search_pdq",)),
    ("matcher: results and counters", ("Matcher.match", "Matcher._count", "flush_counts")),
    ("hash parsing (parse_hashes)", ("parse_hashes",)),
    ("response: dicts and json.dumps", ("_result (", "_hit (", "_json (")),
    ("view: the rest of match()", ("match (haven/banks/api.py",)),
    ("django-ninja: body JSON + pydantic validation, dispatch", ("ninja/",)),
    ("Django: handler, middleware, signals", ("WSGIHandler.__call__", "django/")),
    ("gunicorn: HTTP parsing, socket writes, dispatch", ("",)),
)


def profile_parts(path: Path) -> dict[str, Any]:
    """Samples per part of request handling, from py-spy's collapsed stacks."""
    parts = dict.fromkeys((name for name, _ in PROFILE_PARTS), 0)
    startup = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any("init_process" in f or "_warm_worker" in f for f in frames):
            startup += int(count)
            continue
        if not any("ThreadWorker.handle" in f for f in frames):
            idle += int(count)  # the master, and pool threads waiting for work
            continue
        for name, needles in PROFILE_PARTS:
            if any(needle in f for f in frames for needle in needles):
                parts[name] += int(count)
                break
    return {"parts": parts, "startup": startup, "other": idle}


# --- report --------------------------------------------------------------------------------

PHASES = (
    ("loaded", "saturated (closed loop)"),
    ("paced", "at the target rate (paced)"),
    ("single", "single connection"),
)


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _int(x: float) -> str:
    return f"{x:,.0f}"


def _phases(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(label, result[key]) for key, label in PHASES if result.get(key)]


def report_tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    loaded = result["loaded"]
    setup, ready, floor = result["setup"], result["ready"], result["engine"]
    n = result["entries"]
    tables = []

    def latency_row(name: str, s: dict[str, Any]) -> list[str]:
        offered = (
            f"{s['rate_target'] * result['batch']:,.0f}/s paced" if s["rate_target"] else "closed"
        )
        return [
            name,
            f"{s['connections']}, {offered}",
            f"{s['window_s']:.1f}",
            _int(s["requests"]),
            _int(s["lookups_per_s"]),
            f"{s['requests_per_s']:,.1f}",
            _ms(s.get("p50_ms")),
            _ms(s.get("p90_ms")),
            _ms(s.get("p99_ms")),
            _ms(s.get("max_ms")),
            str(sum(s["errors"].values())),
        ]

    tables.append(
        (
            f"POST {MATCH_PATH}, batches of {result['batch']}, {n:,} entries: latency per batch",
            [
                "phase",
                "connections, load",
                "window s",
                "requests",
                "lookups/s",
                "requests/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "errors",
            ],
            [latency_row(name, s) for name, s in _phases(result)],
        )
    )

    def cpu_row(name: str, s: dict[str, Any]) -> list[str]:
        return [
            name,
            f"{s['server_cpu_us_per_lookup']:.1f}",
            f"{s['server_cpu_ms_per_request']:.2f}",
            f"{s['server_cores']:.2f}",
            f"{100 * s['loadgen_core_share']:.0f}%",
            f"{100 * s['machine_busy_share']:.0f}%",
            f"{s['other_cpu_s'] / s['window_s']:.2f}",
        ]

    tables.append(
        (
            "CPU (server = gunicorn master + workers, utime + stime from /proc/<pid>/stat)",
            [
                "phase",
                "server CPU µs/lookup",
                "server CPU ms/request",
                "server cores busy",
                "load generator (its one core)",
                "machine busy (all cores)",
                "other processes, cores",
            ],
            [cpu_row(name, s) for name, s in _phases(result)],
        )
    )
    server_us = loaded["server_cpu_us_per_lookup"]
    before, after = result["engine_before"]["cpu_us_per_lookup"], floor["cpu_us_per_lookup"]
    index_us = (before + after) / 2
    tables.append(
        (
            "Where the server's CPU goes, per lookup (saturated phase)",
            ["part", "µs/lookup", "share"],
            [
                [
                    f"index search alone ({floor['plan']}; MultiIndexHash.search + grouped on "
                    f"the first {floor['batches']} batches, in this process, one core): mean of "
                    f"{before:.1f} just before the server started and {after:.1f} just after "
                    "it stopped",
                    f"{index_us:.1f}",
                    f"{100 * index_us / server_us:.0f}%",
                ],
                [
                    "everything else (HTTP, Django, auth, JSON, hash parsing, matcher glue)",
                    f"{server_us - index_us:.1f}",
                    f"{100 * (1 - index_us / server_us):.0f}%",
                ],
                ["server total", f"{server_us:.1f}", "100%"],
            ],
        )
    )
    if result.get("profile"):
        parts = result["profile"]["parts"]
        total = max(1, sum(parts.values()))
        per_request = loaded["server_cpu_ms_per_request"]
        rows = [
            [name, _int(count), f"{100 * count / total:.1f}%", f"{per_request * count / total:.2f}"]
            for name, count in sorted(parts.items(), key=lambda item: -item[1])
        ]
        rows.append(["request handling, total", _int(total), "100%", f"{per_request:.2f}"])
        tables.append(
            (
                "Where a request's time goes (py-spy samples of the server's request threads; "
                "ms = share × the saturated phase's server CPU per request)",
                ["part", "samples", "share", "ms/request"],
                rows,
            )
        )
    check = result["verify"]
    tables.append(
        (
            "Matches and correctness",
            ["measure", "value"],
            [
                ["hashes with ≥ 1 match (saturated)", f"{100 * loaded['matched_share']:.1f}%"],
                ["match records per hash (saturated)", f"{loaded['matches_per_lookup']:.3f}"],
                [
                    "near-neighbour sources missing, every response of every phase",
                    f"{sum(s['near_missed'] for _, s in _phases(result))} of "
                    + _int(
                        sum(s["requests"] for _, s in _phases(result)) * result["near_per_batch"]
                    ),
                ],
                [
                    "sample against the brute-force oracle",
                    f"{check['hashes']:,} hashes ({check['near']} near-neighbours, "
                    f"{check['oracle_matches']:,} oracle matches): "
                    + ("exact" if check["ok"] else f"{check['problem_count']} problems"),
                ],
            ],
        )
    )
    database = f"{setup['database_mib']:.0f} MiB" if setup["database_mib"] else "–"
    rows = [
        ["database", setup["database"]],
        ["migrate", f"{setup['migrate_s']:.1f} s"],
        [
            f"insert {n:,} entries",
            f"{setup['insert_s']:.1f} s ({n / setup['insert_s']:,.0f} rows/s)",
        ],
        ["database on disk", database],
        ["serve → /healthz", f"{ready['healthz_s']:.1f} s"],
        ["serve → first match (a worker has built its index)", f"{ready['first_match_s']:.1f} s"],
        ["serve → every worker idle", f"{ready['all_idle_s']:.1f} s"],
        [
            "worker CPU at ready (Django start-up + index build from the database)",
            f"{ready['worker_cpu_at_ready_s']:.1f} s",
        ],
        [
            "MultiIndexHash build from an in-memory array, for comparison",
            f"{floor['build_s']:.2f} s ({floor['memory_mib']:.0f} MiB)",
        ],
    ]
    if result.get("index_log"):
        rows.append(["index build (server log)", result["index_log"]])
    rows += [
        [
            "RSS per worker: ready / after the run",
            f"{ready['worker_rss_mib']:.0f} / {result['worker_rss_end_mib']:.0f} MiB",
        ],
        ["RSS of the master", f"{ready['master_rss_mib']:.0f} MiB"],
    ]
    tables.append(("Set-up and server", ["step", "value"], rows))
    return tables


def verdicts(result: dict[str, Any]) -> list[str]:
    loaded, paced = result["loaded"], result.get("paced")
    lines = []
    ok = loaded["lookups_per_s"] >= TARGET_LOOKUPS_S
    lines.append(
        f"{'PASS' if ok else 'MISS'} throughput (saturated): {loaded['lookups_per_s']:,.0f} "
        f"lookups/s (target ≥ {TARGET_LOOKUPS_S:,.0f})"
    )
    if paced:
        p99 = paced.get("p99_ms")
        ok = (
            p99 is not None
            and p99 < TARGET_P99_MS
            and paced["lookups_per_s"] >= 0.98 * TARGET_LOOKUPS_S
        )
        lines.append(
            f"{'PASS' if ok else 'MISS'} p99 per batch of {result['batch']} at "
            f"{paced['lookups_per_s']:,.0f} lookups/s (paced at {TARGET_LOOKUPS_S:,.0f}): "
            f"{_ms(p99)} ms (target < {TARGET_P99_MS:.0f} ms)"
        )
    p99 = loaded.get("p99_ms")
    lines.append(
        f"{'PASS' if p99 is not None and p99 < TARGET_P99_MS else 'MISS'} p99 per batch when "
        f"saturated ({loaded['connections']} connections, closed loop): {_ms(p99)} ms "
        "(queueing: latency = connections ÷ throughput)"
    )
    check = result["verify"]
    missed = sum(s["near_missed"] for _, s in _phases(result))
    failed = sum(sum(s["errors"].values()) for _, s in _phases(result))
    ok = check["ok"] and missed == 0 and failed == 0
    lines.append(
        f"{'PASS' if ok else 'FAIL'} correctness: sample exact against brute force "
        f"({check['hashes']:,} hashes), {missed} near-neighbour sources missing, "
        f"{failed} failed requests"
    )
    return lines


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    loaded = result["loaded"]
    lines = [
        "# Matching API: POST /api/v1/match through the real server",
        "",
        f"Generated by `benchmarks/bench_api.py` on {result['date']}.",
        "",
        f"- Command: `{result['command']}` — wall {result['wall_s']:.0f} s",
        f"- Machine: nproc = {m['nproc']}, CPU: {m['cpu']}, RAM {m['ram']}, "
        f"Linux {m['kernel']}; Python {m['python']}, {m['versions']}",
        f"- Load average {result['load_start']} at start, {result['load_end']} at end. The "
        "machine is shared with other work: the CPU table's *other processes* column is the "
        "whole machine's busy core-seconds not spent by the server or the load generator, per "
        "second of the window.",
        f"- Server: `haven serve --access-log off --workers {result['workers']} --threads "
        f"{result['threads']}` (gunicorn {'gthread' if result['threads'] > 1 else 'sync'}), "
        "not pinned; HAVEN_API_RATE=1000000 so that the per-token limit does not cap the run; "
        f"database {result['setup']['database']}.",
        f"- Load generator: this process, pinned to core {loaded['affinity']} with "
        "`os.sched_setaffinity`, keep-alive `http.client` connections, one thread each. "
        "*Saturated*: closed loop (a connection sends its next batch once it has read and "
        f"parsed the last answer), {loaded['connections']} connections, warm-up "
        f"{result['warmup_s']:.0f} s, then a {loaded['window_s']:.0f} s window. *Paced*: "
        "batches due on a fixed schedule at the target rate, latency counted from the due "
        "time (no coordinated omission). *Single connection*: closed loop, no queueing. "
        "Latency runs from sending the request to having read the whole answer.",
        f"- Bank: {result['entries']:,} PDQ entries, dataset *{result['dataset']}* (see "
        "benchmarks/results/index.md: real PDQ hashes of benign images grown by noisy copies "
        "and chunk-wise mosaics, so buckets are lumpy and thin near-duplicate clusters "
        "exist), threshold 31.",
        f"- Queries: {result['pool_note']}.",
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in verdicts(result)],
        f"- CPU ceiling: {m['nproc']} cores ÷ {loaded['server_cpu_us_per_lookup']:.0f} µs of "
        "server CPU per lookup = "
        f"{int(m['nproc']) / loaded['server_cpu_us_per_lookup'] * 1e6:,.0f} lookups/s even if "
        f"the load generator took nothing; the target needs at most "
        f"{int(m['nproc']) / TARGET_LOOKUPS_S * 1e6:.0f} µs per lookup on {m['nproc']} cores.",
        f"- Context: {HMA_FIELD}. Not like for like (HMA's requests also hash the upload, and "
        "its pods are not these cores); no baseline runs here (HMA is not installable "
        f"offline). This node answered {loaded['requests_per_s']:,.0f} requests of "
        f"{result['batch']} hashes per second, {loaded['lookups_per_s']:,.0f} lookups/s, on "
        f"{m['nproc']} shared cores, one of which also ran the load generator.",
        "",
    ]
    for title, headers, rows in report_tables(result):
        lines += [f"### {title}", "", "| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    if result["verify"]["problems"]:
        lines += ["### Correctness problems (first 20)", ""]
        lines += [f"- {p}" for p in result["verify"]["problems"]]
        lines.append("")
    errors: dict[str, int] = {}
    for _, s in _phases(result):
        for kind, count in s["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    if errors:
        lines += ["### Failed requests", ""]
        lines += [f"- {kind}: {count}" for kind, count in errors.items()]
        lines.append("")
    if result["notes"]:
        lines += ["### Notes", ""]
        lines += [f"- {note}" for note in result["notes"]]
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
    for problem in result["verify"]["problems"]:
        console.print(f"[red]  {problem}")


def index_log_line(server: Server) -> str:
    """Whatever the server logged about building its index (the matcher may log it)."""
    try:
        lines = server.log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    hits = [line.strip() for line in lines if "built" in line.lower()]
    return "; ".join(hits[:4])[:300]


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_api", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--entries", type=int, help="bank size (default 1,000,000)")
    parser.add_argument("--dataset", choices=("realistic", "uniform"), default="realistic")
    parser.add_argument("--seconds", type=float, help="each measured window (default 20)")
    parser.add_argument("--warmup", type=float, help="seconds of load before it (default 5)")
    parser.add_argument(
        "--latency-seconds", type=float, help="single-connection window (default 5)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_LOOKUPS_S,
        help="lookups/s of the paced phase (default the target, 10000; 0 skips it)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument(
        "--connections", type=int, default=8, help="connections when saturating (default 8)"
    )
    parser.add_argument(
        "--paced-connections", type=int, default=16, help="connections when paced (default 16)"
    )
    parser.add_argument("--batch", type=int, default=100, help="hashes per request")
    parser.add_argument(
        "--near-share", type=float, default=0.1, help="near-neighbour share of each batch"
    )
    parser.add_argument("--pool", type=int, help="distinct request bodies, cycled (default 2000)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="upper bound per phase")
    parser.add_argument("--core", type=int, help="the load generator's core (default: the last)")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default SQLite)")
    parser.add_argument("--verify-batches", type=int, help="bodies checked exactly (default 5)")
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--py-spy", type=Path, help="profile the server with py-spy into DIR")
    parser.add_argument(
        "--quick", action="store_true", help="100k entries, 5 s windows: a smoke run"
    )
    parser.add_argument("--out", type=Path, help="Markdown report (default results/api.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.entries = args.entries or (100_000 if quick else 1_000_000)
    args.seconds = args.seconds or (5.0 if quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (2.0 if quick else 5.0)
    args.latency_seconds = args.latency_seconds or (2.0 if quick else 5.0)
    args.pool = args.pool or (300 if quick else 2000)
    args.verify_batches = args.verify_batches if args.verify_batches is not None else 5
    args.out = args.out or (DATA_DIR / "api-quick.md" if quick else RESULTS)
    if min(args.workers, args.threads, args.connections, args.paced_connections, args.batch) < 1:
        parser.error("--workers, --threads, --connections and --batch must be at least 1")
    if args.entries < 1 or args.pool < 1 or args.rate < 0:
        parser.error("--entries and --pool must be at least 1, --rate at least 0")
    if not 0.0 <= args.near_share <= 1.0:
        parser.error("--near-share must be within 0..1")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    cores = sorted(os.sched_getaffinity(0))
    core = cores[-1] if args.core is None else args.core
    if core not in cores:
        parser.error(f"--core {core} is not one of this process's cores {cores}")

    console = Console(width=None if sys.stdout.isatty() else 200)
    started = time.perf_counter()
    command = "cd /work/main && .venv/bin/python -m benchmarks.bench_api " + shlex.join(argv)
    load_start = loadavg()

    db, data_info = bank_hashes(args.dataset, args.entries, console)
    pool = make_pool(args.dataset, db, args.pool, args.batch, args.near_share, console)
    console.log(
        f"bank: {args.entries:,} {args.dataset} hashes; {len(pool.bodies):,} request bodies "
        f"of {args.batch} ({pool.near_count:,} near-neighbours)"
    )
    node = make_node(args, db, console)
    with console.status("timing the index alone on the same batches"):
        os.sched_setaffinity(0, {core})
        floor_before = engine_floor(db, pool)
        os.sched_setaffinity(0, set(cores))
    console.log(
        f"node in {node.data_dir} ({node.database}): migrate {node.timings['migrate_s']:.1f} s, "
        f"insert {node.timings['insert_s']:.1f} s"
    )
    server: Server | None = None
    phases: dict[str, dict[str, Any]] = {}
    try:
        server = start_server(args, node)
        wait_ready(args, server, node, pool.bodies[-1], console)
        console.log(
            f"server ready on port {server.port}: {len(server.workers)} workers, "
            f"first match {server.ready['first_match_s']:.1f} s, "
            f"all idle {server.ready['all_idle_s']:.1f} s"
        )
        os.sched_setaffinity(0, {core})  # threads started from here on inherit it
        plan: list[tuple[str, int, float, float, float | None]] = [
            ("loaded", args.connections, args.warmup, args.seconds, None)
        ]
        if args.rate:
            rate = args.rate / args.batch
            plan.append(("paced", args.paced_connections, args.warmup, args.seconds, rate))
        plan.append(("single", 1, 1.0, args.latency_seconds, None))
        for key, connections, warmup, seconds, rate in plan:
            console.log(
                f"{key}: {connections} connections on core {core}, warm-up {warmup:.0f} s "
                f"+ {seconds:.0f} s" + (f", {rate * args.batch:,.0f} lookups/s" if rate else "")
            )
            load = run_load(
                server, node, pool, connections, warmup, seconds, args.max_requests, rate
            )
            phases[key] = summarise(load, args.batch)
            console.log(
                f"{key}: {phases[key]['lookups_per_s']:,.0f} lookups/s, "
                f"p99 {_ms(phases[key].get('p99_ms'))} ms"
            )
        worker_rss_end = max((rss_mib(pid) for pid in server.workers), default=0.0)
        os.sched_setaffinity(0, set(cores))
        with console.status("checking a sample against brute force"):
            check = verify_sample(server, node, pool, db, args.verify_batches)
        index_log = index_log_line(server)
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            console.log(f"kept {node.data_dir}")
        else:
            shutil.rmtree(node.data_dir, ignore_errors=True)
    profile = None
    if args.py_spy and (args.py_spy / "server-stacks.txt").exists():
        profile = profile_parts(args.py_spy / "server-stacks.txt")
    with console.status("timing the index alone on the same batches"):
        os.sched_setaffinity(0, {core})
        floor = engine_floor(db, pool)
        os.sched_setaffinity(0, set(cores))

    per_batch = round(args.near_share * args.batch)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command.strip(),
        "machine": machine(),
        "load_start": load_start,
        "load_end": loadavg(),
        "wall_s": time.perf_counter() - started,
        "entries": args.entries,
        "dataset": args.dataset,
        "data": {k: v for k, v in data_info.items() if k != "seeds"},
        "batch": args.batch,
        "near_per_batch": per_batch,
        "workers": args.workers,
        "threads": args.threads,
        "warmup_s": args.warmup,
        "pool_note": (
            f"{len(pool.bodies):,} pre-built bodies of {args.batch} hashes, cycled; in each, "
            f"{per_batch} near-neighbours (a banked entry with j ~ U{{0..31}} bits flipped, so "
            f"its source must match at distance j) and {args.batch - per_batch} random hashes "
            f"drawn like the bank (*{args.dataset}*, not in it); seed {SEED}"
        ),
        "setup": {
            "database": node.database,
            "migrate_s": node.timings["migrate_s"],
            "insert_s": node.timings["insert_s"],
            "database_mib": node.timings["database_mib"],
        },
        "ready": server.ready,
        "index_log": index_log,
        "worker_rss_end_mib": worker_rss_end,
        **phases,
        "engine_before": floor_before,
        "engine": floor,
        "profile": profile,
        "verify": check,
        "notes": [
            *node.notes,
            *(
                ["py-spy was sampling the server: these figures are perturbed"]
                if args.py_spy
                else []
            ),
        ],
    }
    print_report(result, console)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / f"{args.out.stem}-results.json").write_text(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(result))
    console.log(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    failed = sum(sum(s["errors"].values()) + s["near_missed"] for s in phases.values())
    return 0 if check["ok"] and failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Provider scans: POST /api/v1/scan and /api/v1/scan/batch through the real HTTP server.

    python -m benchmarks.bench_scan [--entries 100000] [--md5-entries 10000] [--seconds 10]
        [--warmup 2] [--connections 8] [--upload-connections 4] [--upload-rate 40]
        [--workers 2] [--threads 4] [--core N] [--postgres | --no-postgres]
        [--database-url URL] [--no-sqlite] [--py-spy DIR] [--keep] [--quick]
        [--out benchmarks/results/scan.md]

Why: a provider calls the scan API on every upload and waits for its decision before it
publishes (issue 4: "≥ 2,000 hash scans/s in batches of 100 and ≥ 500/s as single requests;
≥ 40 uploads/s of 1-MP JPEGs (hash + match + decision), p99 ≤ 100 ms", on 2 cores). So the
benchmark drives the real server, counts every decision, and charges the server's CPU to
each operation.

One run per database (SQLite, then PostgreSQL), each on a fresh node in a temporary
HAVEN_DATA_DIR, built through the command line only:

1. `haven hash` of 5 "banked" generated images; then, in ONE process through Django's
   call_command (exactly the code `haven ...` runs; each `haven` process pays ~10 s of
   start-up here): `migrate`, `bank create` (threshold 31) in the provider's agency,
   `bank import` of a plain list of N random PDQ hashes (+ the images' PDQ) and one of M
   random MD5s (+ the images' MD5), `bank list --json` (the count is checked) and `token
   create --scope scan`. Then `haven serve --access-log off --workers W --threads T` on a
   free loopback port with HAVEN_API_RATE=1000000 (helpers from benchmarks/bench_api.py
   and benchmarks/bench_intake.py); it waits for /healthz, a first scan, the workers idle.
2. Loads, each after a warm-up and over a fixed window, from this process pinned to ONE core
   with keep-alive `http.client` connections (one thread each):
   a) *single*: POST /api/v1/scan, JSON {content, hashes: {pdq, md5}}, closed loop;
   b) *batch*: POST /api/v1/scan/batch with 100 such items, closed loop;
   c) *upload*: multipart POST /api/v1/scan with a 1-MP JPEG (`file`) and `content`,
      closed loop (throughput), then *upload paced*: the same at the target rate on a fixed
      schedule, latency counted from the due time (no coordinated omission).
   Every item has a unique content id, so nothing is answered from the idempotency store.
   Hash items: 95 % random PDQ + random MD5 (allow), 5 % a bank entry with 1–16 bits
   flipped (must be held). Uploads: 95 % one of 50 generated images that are not banked
   (allow), 5 % a copy or an edit (re-encoded + brighter, cropped 3 %, rotated 90°) of a
   banked image (must be held).
3. Reported per load: operations/s (scans, requests, uploads), p50/p90/p99/max latency,
   server CPU per operation (utime + stime of gunicorn's master and workers from
   /proc/<pid>/stat; on a throwaway PostgreSQL cluster the postgres processes' too), the
   load generator's CPU, the machine's busy share, and the decisions (tally, and items whose
   decision was not the expected one).

Images are generated in code (gradients, shapes, noise: ~215 KB JPEGs at quality 88), cached
in benchmarks/.data/scan-images-v1/; no photographs. `--py-spy DIR` runs each load on its
own server under `py-spy record --subprocesses` and writes DIR/<database>-<load>.txt
(collapsed stacks) and a table of where the server's samples go; such figures are
perturbed by the sampling.

Results go to the console and, as Markdown, to benchmarks/results/scan.md (with --quick to
benchmarks/.data/scan-quick.md); the raw numbers to benchmarks/.data/<report name>-results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import io
import itertools
import json
import os
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from benchmarks.bench_api import (
    Node,
    Server,
    _alive,
    _request,
    children_of,
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
from benchmarks.bench_intake import (
    PG_BIN,
    Postgres,
    _all_cpu,
    _command_line,
    _cpu,
    _tree_cpu_delta,
    postgres_available,
    start_postgres,
    stop_postgres,
)

__all__ = ["main", "synthetic_jpeg"]

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "scan.md"
SCAN_PATH = "/api/v1/scan"
BATCH_PATH = "/api/v1/scan/batch"
SEED = 20261205
AGENCY = "Bench provider (synthetic)"
BATCH = 100
NEAR_SHARE = 0.05
MAX_FLIPS = 16
IMAGE_SIDE = 1000
POOL_IMAGES = 50
BANKED_IMAGES = 5
IMAGE_CACHE = DATA_DIR / "scan-images-v1"
TARGETS = {"single": 500.0, "batch": 2000.0, "upload": 40.0}
TARGET_UPLOAD_P99_MS = 100.0
LOADS = ("single", "batch", "upload", "upload_paced")


# --- synthetic data ------------------------------------------------------------------------


def synthetic_jpeg(k: int, side: int = IMAGE_SIDE, quality: int = 88) -> bytes:
    """Image number k: a tilted colour gradient, a sine ripple, 6–13 flat shapes, slight blur
    and sensor-like noise, as a JPEG. Deterministic; nothing in it is a photograph."""
    from PIL import Image, ImageDraw, ImageFilter

    r = np.random.default_rng([SEED, k])
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    c0, c1 = r.uniform(0, 255, (2, 3))
    angle = r.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * x + np.sin(angle) * y)[..., None]
    base = c0 * (1 - t) + c1 * t
    base += 30 * np.sin(2 * np.pi * (r.uniform(1, 4) * x + r.uniform(1, 4) * y))[..., None]
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(r.integers(6, 14))):
        x0, y0 = (int(v) for v in r.integers(0, side - 100, 2))
        w, h = (int(v) for v in r.integers(side // 25, side * 2 // 5, 2))
        colour = tuple(int(v) for v in r.integers(0, 256, 3))
        kind = int(r.integers(3))
        if kind == 0:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        elif kind == 1:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
        else:
            points = [tuple(int(v) for v in r.integers(0, side, 2)) for _ in range(5)]
            draw.polygon(points, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(image, np.float32) + r.normal(0, 5, (side, side, 1)).astype(np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _variants(original: bytes) -> list[bytes]:
    """Edits of a banked image that must still be held: a copy, re-encoded and brighter,
    cropped 3 % and scaled back, rotated 90° (found by the dihedral lookups)."""
    from PIL import Image, ImageEnhance

    image = Image.open(io.BytesIO(original)).convert("RGB")
    side = image.width
    edits = [
        ImageEnhance.Brightness(image).enhance(1.08),
        image.crop((15, 15, side - 15, side - 15)).resize((side, side)),
        image.rotate(90),
    ]
    out = [original]
    for edit, quality in zip(edits, (75, 85, 88), strict=True):
        buffer = io.BytesIO()
        edit.save(buffer, "JPEG", quality=quality)
        out.append(buffer.getvalue())
    return out


@dataclass
class Images:
    pool: list[bytes]  # not banked: allow
    banked: list[bytes]  # originals whose PDQ and MD5 go into the bank
    variants: list[bytes]  # copies and edits of the banked ones: hold

    @property
    def mean_kb(self) -> float:
        return float(np.mean([len(b) for b in self.pool])) / 1000


def images(console: Console, pool: int = POOL_IMAGES) -> Images:
    """The generated JPEGs, from the cache when it holds them."""
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    made = 0

    def one(name: str, build: Callable[[], bytes]) -> bytes:
        nonlocal made
        path = IMAGE_CACHE / name
        if path.exists():
            return path.read_bytes()
        data = build()
        path.write_bytes(data)
        made += 1
        return data

    banked = [one(f"banked-{k}.jpg", lambda k=k: synthetic_jpeg(10_000 + k)) for k in range(5)]
    out = Images(
        pool=[one(f"pool-{k}.jpg", lambda k=k: synthetic_jpeg(k)) for k in range(pool)],
        banked=banked,
        variants=[],
    )
    for k, original in enumerate(banked):
        names = [f"banked-{k}-v{v}.jpg" for v in range(4)]
        if all((IMAGE_CACHE / n).exists() for n in names):
            out.variants += [(IMAGE_CACHE / n).read_bytes() for n in names]
        else:
            for name, data in zip(names, _variants(original), strict=True):
                (IMAGE_CACHE / name).write_bytes(data)
                out.variants.append(data)
    if made:
        console.log(f"generated {made} JPEGs in {time.perf_counter() - started:.1f} s")
    return out


@dataclass
class Hashes:
    """The bank's random entries and the queries drawn against them."""

    bank_pdq: NDArray[np.uint8]  # (N, 32)
    bank_md5: NDArray[np.uint8]  # (M, 16)
    rng_seed: int = SEED

    def item(self, run: str, n: int) -> tuple[dict[str, Any], bool]:
        """Hashed item n of a run: its JSON and whether it must be held."""
        r = np.random.default_rng([self.rng_seed, n])
        near = r.random() < NEAR_SHARE
        if near:
            row = self.bank_pdq[int(r.integers(self.bank_pdq.shape[0]))].copy()
            bits = r.choice(256, int(r.integers(1, MAX_FLIPS + 1)), replace=False)
            np.bitwise_xor.at(row, bits // 8, (1 << (7 - bits % 8)).astype(np.uint8))
            pdq = row.tobytes().hex()
        else:
            pdq = r.bytes(32).hex()
        item = {
            "content": {
                "content_id": f"{run}-{n}",
                "uploader_account": f"synthetic-account-{n % 9973}",
                "surface": "public_post",
            },
            "hashes": {"pdq": pdq, "md5": r.bytes(16).hex()},
        }
        return item, near


def bank_hashes(entries: int, md5_entries: int) -> Hashes:
    r = np.random.default_rng([SEED, entries, md5_entries])
    return Hashes(
        r.integers(0, 256, (entries, 32), dtype=np.uint8),
        r.integers(0, 256, (md5_entries, 16), dtype=np.uint8),
    )


# --- the node ------------------------------------------------------------------------------


# The node's commands, run in ONE process (Django's call_command, exactly what `haven ...`
# runs): each `haven` process pays Django's start-up (~10 s here), the setup has seven steps.
SETUP_SCRIPT = r"""
import io, json, sys, time
import django
django.setup()
from django.core.management import call_command
out = {}
for name, arguments in json.load(sys.stdin):
    started = time.perf_counter()
    buffer, errors = io.StringIO(), io.StringIO()
    try:
        call_command(*arguments, stdout=buffer, stderr=errors)
    except BaseException as exc:
        print(json.dumps({"failed": name, "error": repr(exc), "stderr": errors.getvalue()}))
        sys.exit(1)
    out[name] = {"stdout": buffer.getvalue(), "s": time.perf_counter() - started}
print(json.dumps(out))
"""


def _commands(node: Node, steps: list[tuple[str, list[str]]]) -> dict[str, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT],
        input=json.dumps(steps),
        env=node.env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"node setup failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, dict[str, Any]] = json.loads(lines[-1])
    return result


def make_node(database_url: str | None, hashes: Hashes, pictures: Images) -> Node:
    """Migrated node with the provider's bank imported and a `scan` token, via the node's
    commands (`migrate`, `hash`, `bank create|import|list`, `token create`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="haven-bench-scan-"))
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
    folder = data_dir / "lists"
    folder.mkdir()
    files = []
    for k, data in enumerate(pictures.banked):
        files.append(str(folder / f"banked-{k}.jpg"))
        Path(files[-1]).write_bytes(data)
    hashed_at = time.perf_counter()
    done = subprocess.run(  # `haven hash` imports no Django: its own process is cheap
        haven_command("hash", *files), env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"haven hash failed:\n{done.stdout}\n{done.stderr}")
    node.timings["hash_s"] = time.perf_counter() - hashed_at
    hashed = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    pdq_lines = [bytes(row).hex() for row in hashes.bank_pdq] + [h["pdq"] for h in hashed]
    md5_lines = [bytes(row).hex() for row in hashes.bank_md5] + [h["md5"] for h in hashed]
    (folder / "bench-pdq.txt").write_text("\n".join(pdq_lines) + "\n")
    (folder / "bench-md5.txt").write_text("\n".join(md5_lines) + "\n")
    bank = f"bench-scan synthetic {data_dir.name}"
    steps = [
        ("migrate", ["migrate", "--verbosity", "0"]),
        (
            "bank_create",
            [
                *("bank", "create", bank, "--agency", AGENCY, "--threshold", "31"),
                *("--source", "synthetic (benchmarks/bench_scan.py)"),
            ],
        ),
    ]
    for signal in ("pdq", "md5"):
        path = str(folder / f"bench-{signal}.txt")
        steps.append(
            (
                f"import_{signal}",
                [
                    *("bank", "import", bank, path, "--signal-type", signal),
                    *("--classification", "B2", "--no-progress"),
                ],
            )
        )
    steps += [
        ("bank_list", ["bank", "list", "--json"]),
        ("token", ["token", "create", "bench-scan", "--scope", "scan", "--agency", AGENCY]),
    ]
    second = _commands(node, steps)
    node.bank_id = int(second["bank_create"]["stdout"].strip().split()[-1])
    for name, step in second.items():
        node.timings[f"{name}_s"] = float(step["s"])
    node.timings["setup_wall_s"] = time.perf_counter() - started
    listing = json.loads(second["bank_list"]["stdout"])
    mine = next(b for b in listing if b["id"] == node.bank_id)
    node.notes.append(
        f"bank {node.bank_id}: {mine['entries']:,} entries ({mine['by_signal']}), threshold 31"
    )
    expected = len(pdq_lines) + len(md5_lines)
    if mine["entries"] != expected:
        raise SystemExit(f"bank holds {mine['entries']:,} entries, expected {expected:,}")
    token = second["token"]["stdout"].strip()
    if not token.startswith("hvn_"):
        raise SystemExit(f"haven token create printed {token[:40]!r}, not a token")
    node.token = token
    return node


def wait_ready(server: Server, node: Node, workers: int, timeout: float) -> dict[str, float]:
    """/healthz, a first scan answered 200, then every worker present and idle."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    body = json.dumps({"content": {"content_id": "probe-0"}, "hashes": {"md5": "00" * 16}}).encode()
    ready: dict[str, float] = {}
    while True:
        _alive(server)
        if time.monotonic() > deadline:
            raise SystemExit(f"haven serve not ready in time:\n{log_tail(server)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _request(server.port, "GET", "/healthz", None, {})[0] == 200:
                break
        time.sleep(0.2)
    ready["healthz_s"] = time.perf_counter() - started
    code, data = _request(server.port, "POST", SCAN_PATH, body, headers_for(node.token))
    if code != 200:
        raise SystemExit(f"POST {SCAN_PATH} answered {code}: {data[:500]!r}")
    ready["first_scan_s"] = time.perf_counter() - started
    previous: dict[int, float] = {}
    quiet = 0
    while quiet < 2:
        _alive(server)
        if time.monotonic() > deadline:
            raise SystemExit(f"workers did not settle in time:\n{log_tail(server)}")
        pids = children_of(server.master)
        now = {pid: process_cpu(pid) for pid in pids}
        settled = len(pids) >= workers and all(
            pid in previous and now[pid] - previous[pid] < 0.05 for pid in pids
        )
        quiet = quiet + 1 if settled else 0
        previous = now
        time.sleep(0.5)
    server.workers = children_of(server.master)
    ready["all_idle_s"] = time.perf_counter() - started - 1.0
    return ready


# --- requests ------------------------------------------------------------------------------

BOUNDARY = "haven-bench-scan-7d1f0c"


def multipart(content: dict[str, Any], data: bytes, name: str) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="content"\r\n'
        "Content-Type: application/json\r\n\r\n"
        f"{json.dumps(content)}\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Request:
    path: str
    body: bytes
    content_type: str
    held: list[bool]  # per item: must be held


Builder = Callable[[int], Request]


def builders(run: str, hashes: Hashes, pictures: Images) -> dict[str, Builder]:
    def single(n: int) -> Request:
        item, near = hashes.item(f"{run}-s", n)
        return Request(SCAN_PATH, json.dumps(item).encode(), "application/json", [near])

    def batch(n: int) -> Request:
        pairs = [hashes.item(f"{run}-b", n * BATCH + i) for i in range(BATCH)]
        body = json.dumps({"items": [p[0] for p in pairs]}).encode()
        return Request(BATCH_PATH, body, "application/json", [p[1] for p in pairs])

    def upload(n: int, kind: str = "u") -> Request:
        r = np.random.default_rng([SEED, 7, n])
        near = r.random() < NEAR_SHARE
        choices = pictures.variants if near else pictures.pool
        k = int(r.integers(len(choices)))
        content = {
            "content_id": f"{run}-{kind}{n}",
            "uploader_account": f"synthetic-account-{n % 9973}",
            "surface": "public_post",
            "ip": f"198.51.100.{n % 254 + 1}",
        }
        body = multipart(content, choices[k], f"synthetic-{k}.jpg")
        return Request(SCAN_PATH, body, f"multipart/form-data; boundary={BOUNDARY}", [near])

    def paced(n: int) -> Request:
        return upload(n, "p")

    return {"single": single, "batch": batch, "upload": upload, "upload_paced": paced}


@dataclass
class Done:
    due: float
    sent: float
    end: float
    items: int
    held: int
    wrong: int  # items whose decision was not the expected one
    decisions: Counter[str]


@dataclass
class Load:
    name: str
    connections: int
    rate: float | None
    window: tuple[float, float]
    done: list[Done]
    errors: dict[str, int]
    server_cpu_s: float
    database_cpu_s: float | None
    loadgen_cpu_s: float
    machine_busy_share: float
    machine_busy_core_s: float
    affinity: list[int]
    others: list[tuple[str, float]]
    build_s: float = 0.0  # load generator time spent building bodies (inside its CPU)


def _check(payload: bytes, request: Request) -> tuple[int, int, Counter[str]]:
    data = json.loads(payload)
    results = data["results"] if request.path == BATCH_PATH else [data]
    if len(results) != len(request.held):
        raise ValueError(f"{len(results)} results for {len(request.held)} items")
    decisions: Counter[str] = Counter(str(r["decision"]) for r in results)
    held = sum(1 for r in results if r["decision"] != "allow")
    wrong = sum(
        1
        for r, must in zip(results, request.held, strict=True)
        if (r["decision"] != "allow") != must or r.get("duplicate")
    )
    return held, wrong, decisions


def run_load(
    name: str,
    server: Server,
    node: Node,
    build: Builder,
    connections: int,
    warmup: float,
    seconds: float,
    postmaster: int | None,
    rate: float | None = None,
) -> Load:
    """`connections` threads with one keep-alive connection each, closed loop, or with
    `rate` (requests/s) on a fixed schedule with latency counted from the due time."""
    stop = threading.Event()
    ticket = itertools.count()
    lock = threading.Lock()
    records: list[list[Done]] = [[] for _ in range(connections)]
    errors: dict[str, int] = {}
    affinity: list[int] = []
    building = [0.0] * connections

    def fail(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def worker(me: int) -> None:
        if me == 0:
            affinity.extend(sorted(os.sched_getaffinity(0)))
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        mine = records[me]
        while not stop.is_set():
            number = next(ticket)
            t0 = time.perf_counter()
            request = build(number)
            building[me] += time.perf_counter() - t0
            headers = headers_for(node.token)
            headers["Content-Type"] = request.content_type
            if rate is None:
                due = time.perf_counter()
            else:
                due = begun + number / rate
                delay = due - time.perf_counter()
                if delay > 0 and stop.wait(delay):
                    break
            sent = time.perf_counter()
            try:
                connection.request("POST", request.path, body=request.body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                fail(type(exc).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                continue
            ended = time.perf_counter()
            if response.status != 200:
                fail(f"HTTP {response.status}: {payload[:100]!r}")
                continue
            try:
                held, wrong, decisions = _check(payload, request)
            except (ValueError, KeyError, TypeError) as exc:
                fail(f"bad body: {exc}"[:80])
                continue
            mine.append(Done(due, sent, ended, len(request.held), held, wrong, decisions))
        connection.close()

    def server_roots() -> set[int]:
        return set(process_tree(server.master))

    def database_roots() -> set[int]:
        return set(process_tree(postmaster)) if postmaster else set()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    begun = time.perf_counter() + 0.05
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, begun + warmup - time.perf_counter()))
    server0, database0 = _cpu(server_roots()), _cpu(database_roots())
    every0 = _all_cpu()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = machine_jiffies()
    build0 = sum(building)
    w0 = time.perf_counter()
    time.sleep(seconds)
    w1 = time.perf_counter()
    build1 = sum(building)
    every1 = _all_cpu()
    server_cpu = _tree_cpu_delta(server_roots, server0)
    database_cpu = _tree_cpu_delta(database_roots, database0) if postmaster else None
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    busy1, total1 = machine_jiffies()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    ours = server_roots() | database_roots() | set(server0) | set(database0) | {os.getpid()}
    busiest = sorted(
        ((every1[pid] - every0.get(pid, 0.0), pid) for pid in every1 if pid not in ours),
        reverse=True,
    )
    others = [(_command_line(pid), spent) for spent, pid in busiest[:3] if spent >= 0.2]
    share = (busy1 - busy0) / max(1, total1 - total0)
    return Load(
        name=name,
        connections=connections,
        rate=rate,
        window=(w0, w1),
        done=[d for per in records for d in per if w0 <= d.end <= w1],
        errors=errors,
        server_cpu_s=server_cpu,
        database_cpu_s=database_cpu,
        loadgen_cpu_s=(self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime),
        machine_busy_share=share,
        machine_busy_core_s=share * (os.cpu_count() or 1) * (w1 - w0),
        affinity=affinity,
        others=others,
        build_s=build1 - build0,
    )


def summarise(load: Load) -> dict[str, Any]:
    w0, w1 = load.window
    window_s = w1 - w0
    latencies = np.array([d.end - d.due for d in load.done]) * 1000.0
    requests = len(load.done)
    items = sum(d.items for d in load.done)
    decisions: Counter[str] = Counter()
    for d in load.done:
        decisions.update(d.decisions)
    out: dict[str, Any] = {
        "load": load.name,
        "connections": load.connections,
        "rate_target": load.rate,
        "window_s": window_s,
        "requests": requests,
        "items": items,
        "requests_per_s": requests / window_s,
        "items_per_s": items / window_s,
        "errors": dict(load.errors),
        "server_cpu_s": load.server_cpu_s,
        "server_cores": load.server_cpu_s / window_s,
        "server_cpu_ms_per_item": load.server_cpu_s / max(1, items) * 1e3,
        "server_cpu_ms_per_request": load.server_cpu_s / max(1, requests) * 1e3,
        "database_cpu_ms_per_item": (
            None if load.database_cpu_s is None else load.database_cpu_s / max(1, items) * 1e3
        ),
        "loadgen_cpu_s": load.loadgen_cpu_s,
        "loadgen_core_share": load.loadgen_cpu_s / window_s,
        "loadgen_build_share": load.build_s / window_s,
        "machine_busy_share": load.machine_busy_share,
        "other_cores": max(
            0.0,
            load.machine_busy_core_s
            - load.server_cpu_s
            - (load.database_cpu_s or 0.0)
            - load.loadgen_cpu_s,
        )
        / window_s,
        "others": [f"{command} ({spent / window_s:.2f} cores)" for command, spent in load.others],
        "affinity": load.affinity,
        "decisions": dict(sorted(decisions.items())),
        "held": sum(d.held for d in load.done),
        "wrong": sum(d.wrong for d in load.done),
    }
    if requests:
        for q in (50, 90, 99):
            out[f"p{q}_ms"] = float(np.percentile(latencies, q))
        out["max_ms"] = float(latencies.max())
        lag = np.array([d.sent - d.due for d in load.done]) * 1000.0
        out["send_lag_p99_ms"] = float(np.percentile(lag, 99))
    return out


# --- profile -------------------------------------------------------------------------------

PROFILE_PARTS = (
    ("upload: decode + PDQ (hash_image)", ("hash_image",)),
    ("upload: MD5/SHA-256 of the file", ("exact_hashes_of_file",)),
    ("upload: multipart parsing + temp file", ("MultiPartParser", "_get_files", "chunks")),
    ("matcher lookups (match_upload)", ("match_upload",)),
    ("idempotency query (existing content id)", ("QuerySet.first",)),
    ("banks in reach (visible)", ("visible (",)),
    ("store: ScannedContent + ScanHash + commit", ("create (", "bulk_create", "atomic", "Atomic")),
    ("hash record checks (_record, parse_hashes)", ("_record (", "parse_hashes")),
    ("auth (principal_of, TokenAuth)", ("principal_of", "authenticate")),
    ("django-ninja / pydantic validation", ("ninja/", "model_validate")),
    ("response json.dumps", ("dumps",)),
    ("Django handler, middleware", ("WSGIHandler.__call__", "django/")),
    ("gunicorn: HTTP parsing, socket I/O", ("",)),
)


def profile_parts(path: Path) -> dict[str, Any]:
    """Request-handling samples per part (first part a stack touches), and the top leaves."""
    parts = dict.fromkeys((name for name, _ in PROFILE_PARTS), 0)
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("ThreadWorker.handle" in f for f in frames):
            continue  # the master, start-up, idle pool threads
        n = int(count)
        total += n
        leaves[frames[-1].strip()[:110]] += n
        for name, needles in PROFILE_PARTS:
            if any(needle in f for f in frames for needle in needles):
                parts[name] += n
                break
    return {"samples": total, "parts": parts, "leaves": leaves.most_common(12)}


# --- one database --------------------------------------------------------------------------


def _windows(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    return {
        "single": {"connections": args.connections, "rate": None},
        "batch": {"connections": args.connections, "rate": None},
        "upload": {"connections": args.upload_connections, "rate": None},
        "upload_paced": {"connections": max(8, args.upload_connections), "rate": args.upload_rate},
    }


def bench_database(
    args: argparse.Namespace,
    database_url: str | None,
    cluster: Postgres | None,
    hashes: Hashes,
    pictures: Images,
    console: Console,
) -> dict[str, Any]:
    load_start = loadavg()
    node = make_node(database_url, hashes, pictures)
    console.log(
        f"{node.database} node in {node.data_dir}: "
        + ", ".join(f"{k} {v:.1f}" for k, v in node.timings.items())
    )
    run = f"{node.database.lower()[:2]}{dt.datetime.now(dt.UTC):%H%M%S}"
    make = builders(run, hashes, pictures)
    summaries: dict[str, dict[str, Any]] = {}
    profiles: dict[str, dict[str, Any]] = {}
    ready: dict[str, float] = {}
    server: Server | None = None
    spy_root = args.py_spy
    cores = sorted(os.sched_getaffinity(0))
    try:
        for name, how in _windows(args).items():
            if server is None or spy_root:
                if server is not None:
                    stop_server(server)
                if spy_root:
                    args.py_spy = spy_root / f"{node.database}-{name}"
                server = start_server(args, node)
                ready = wait_ready(server, node, args.workers, args.ready_timeout)
            os.sched_setaffinity(0, {args.core})
            try:
                load = run_load(
                    name,
                    server,
                    node,
                    make[name],
                    how["connections"],
                    args.warmup,
                    args.seconds,
                    cluster.postmaster() if cluster else None,
                    how["rate"],
                )
            finally:
                os.sched_setaffinity(0, set(cores))
            s = summaries[name] = summarise(load)
            console.log(
                f"{node.database} {name}: {s['items_per_s']:,.0f} items/s "
                f"({s['requests_per_s']:,.1f} requests/s), p50 {_ms(s.get('p50_ms'))} "
                f"p99 {_ms(s.get('p99_ms'))} ms, server {s['server_cpu_ms_per_item']:.2f} ms "
                f"CPU/item, held {s['held']}, wrong {s['wrong']}, errors {s['errors'] or 0}"
                + (f"; also busy: {', '.join(s['others'])}" if s["others"] else "")
            )
            if spy_root:
                stop_server(server)
                server = None
                stacks = args.py_spy / "server-stacks.txt"
                if stacks.exists():
                    target = spy_root / f"{node.database}-{name}.txt"
                    shutil.move(stacks, target)
                    profiles[name] = profile_parts(target)
    finally:
        if server is not None:
            stop_server(server)
        args.py_spy = spy_root
    if args.keep:
        console.log(f"kept {node.data_dir}")
    else:
        shutil.rmtree(node.data_dir, ignore_errors=True)
    return {
        "database": node.database,
        "database_version": ((cluster.version or "unknown") if cluster else sqlite3.sqlite_version),
        "load_start": load_start,
        "load_end": loadavg(),
        "setup": {**node.timings, **ready},
        "notes": node.notes,
        "loads": summaries,
        "profiles": profiles,
    }


# --- report --------------------------------------------------------------------------------


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


LABELS = {
    "single": "single hash scans",
    "batch": f"batches of {BATCH}",
    "upload": "1-MP JPEG uploads, closed loop",
    "upload_paced": "1-MP JPEG uploads, paced",
}


def verdicts(result: dict[str, Any]) -> list[str]:
    lines = []
    for r in result["runs"]:
        db, loads = r["database"], r["loads"]
        for name in ("batch", "single", "upload"):
            s = loads.get(name)
            if s is None:
                continue
            target = TARGETS[name]
            ok = s["items_per_s"] >= target
            lines.append(
                f"{'PASS' if ok else 'MISS'} {LABELS[name]} ≥ {target:,.0f}/s ({db}): "
                f"{s['items_per_s']:,.0f}/s, p99 {_ms(s.get('p99_ms'))} ms, "
                f"{s['server_cpu_ms_per_item']:.2f} ms server CPU each"
            )
        paced = loads.get("upload_paced")
        if paced is not None:
            got = paced["items_per_s"]
            ok = paced.get("p99_ms", 1e9) <= TARGET_UPLOAD_P99_MS and got >= 0.95 * (
                paced["rate_target"] or 0
            )
            lines.append(
                f"{'PASS' if ok else 'MISS'} uploads at {paced['rate_target']:.0f}/s with p99 ≤ "
                f"{TARGET_UPLOAD_P99_MS:.0f} ms ({db}): {got:,.1f}/s answered, p99 "
                f"{_ms(paced.get('p99_ms'))} ms (from the due time)"
            )
        bad = sum(s["wrong"] for s in loads.values())
        errors = sum(sum(s["errors"].values()) for s in loads.values())
        lines.append(
            f"{'PASS' if bad == 0 and errors == 0 else 'MISS'} decisions ({db}): {bad} items "
            f"with an unexpected decision, {errors} failed requests"
        )
    for db, why in result["skipped"].items():
        lines.append(f"NOT RUN {db}: {why}")
    return lines


def report_tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    throughput, cpu, decisions = [], [], []
    for r in result["runs"]:
        for name, s in r["loads"].items():
            label = LABELS[name] + (f" at {s['rate_target']:.0f}/s" if s["rate_target"] else "")
            throughput.append(
                [
                    r["database"],
                    label,
                    str(s["connections"]),
                    f"{s['items_per_s']:,.0f}"
                    if s["items_per_s"] >= 100
                    else f"{s['items_per_s']:.1f}",
                    f"{s['requests_per_s']:,.1f}",
                    _ms(s.get("p50_ms")),
                    _ms(s.get("p90_ms")),
                    _ms(s.get("p99_ms")),
                    _ms(s.get("max_ms")),
                    str(sum(s["errors"].values())),
                ]
            )
            cpu.append(
                [
                    r["database"],
                    label,
                    f"{s['server_cpu_ms_per_item']:.3f}",
                    f"{s['server_cpu_ms_per_request']:.2f}",
                    "–"
                    if s["database_cpu_ms_per_item"] is None
                    else f"{s['database_cpu_ms_per_item']:.3f}",
                    f"{s['server_cores']:.2f}",
                    f"{100 * s['loadgen_core_share']:.0f}% ({100 * s['loadgen_build_share']:.0f}%)",
                    f"{100 * s['machine_busy_share']:.0f}%",
                    f"{s['other_cores']:.2f}",
                ]
            )
            decisions.append(
                [
                    r["database"],
                    label,
                    f"{s['items']:,}",
                    ", ".join(f"{k} {v:,}" for k, v in s["decisions"].items()) or "–",
                    f"{100 * s['held'] / max(1, s['items']):.1f}%",
                    str(s["wrong"]),
                ]
            )
    tables = [
        (
            "Throughput and latency (latency per request: sent → answer read; paced: due → read)",
            [
                "database",
                "load",
                "connections",
                "items/s",
                "requests/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "errors",
            ],
            throughput,
        ),
        (
            "CPU (server = gunicorn master + workers; database = the throwaway cluster's "
            "postgres processes; utime + stime from /proc over the window)",
            [
                "database",
                "load",
                "server CPU ms/item",
                "server CPU ms/request",
                "database CPU ms/item",
                "server cores busy",
                "load generator (building bodies)",
                "machine busy",
                "other processes, cores",
            ],
            cpu,
        ),
        (
            "Decisions (held = any decision but allow; unexpected = a near-duplicate allowed, "
            "a random item held, or a duplicate answer)",
            ["database", "load", "items", "decisions", "held", "unexpected"],
            decisions,
        ),
    ]
    for r in result["runs"]:
        if not r["profiles"]:
            continue
        names = list(r["profiles"])
        rows = []
        for part, _ in PROFILE_PARTS:
            row = [part]
            for name in names:
                p = r["profiles"][name]
                share = p["parts"][part] / max(1, p["samples"])
                ms = share * r["loads"][name]["server_cpu_ms_per_item"]
                row.append(f"{100 * share:.0f}% ({ms:.3f} ms)")
            rows.append(row)
        tables.append(
            (
                f"{r['database']}: where the server's request-handling samples go (py-spy; share "
                "of samples, and that share of the measured server CPU per item)",
                ["part", *[LABELS[n] for n in names]],
                rows,
            )
        )
    return tables


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Provider scans: POST /api/v1/scan and /api/v1/scan/batch through the real server",
        "",
        f"Generated by `benchmarks/bench_scan.py` on {result['date']}.",
        "",
        f"- Command: `{result['command']}` — wall {result['wall_s']:.0f} s",
        f"- Machine: nproc = {m['nproc']}, CPU: {m['cpu']}, RAM {m['ram']}, "
        f"Linux {m['kernel']}; Python {m['python']}, {m['versions']}",
        f"- Load average {result['load_start']} at start, {result['load_end']} at end. The "
        "machine may be shared: *other processes* is the machine's busy core-seconds not "
        "spent by the server, the database or the load generator, per second of the window.",
        f"- Server: `haven serve --access-log off --workers {result['workers']} --threads "
        f"{result['threads']}`, not pinned; HAVEN_API_RATE=1000000; databases fresh with "
        "their durable defaults. " + "; ".join(result["database_notes"]) + ".",
        f"- Bank (made with `haven bank create` + `haven bank import`): {result['entries']:,} "
        f"random PDQ + {result['md5_entries']:,} random MD5, plus the PDQ and MD5 of "
        f"{BANKED_IMAGES} banked generated images; threshold 31; a `scan` token from "
        "`haven token create`.",
        f"- Load generator: this process pinned to core {result['core']}, keep-alive "
        f"`http.client` connections, one thread each; warm-up {result['warmup_s']:.0f} s, then "
        f"a {result['seconds']:.0f} s window per load. Every item has a unique content id.",
        f"- Hash items: {100 * (1 - NEAR_SHARE):.0f} % random PDQ + random MD5 (expected "
        f"allow), {100 * NEAR_SHARE:.0f} % a bank entry with 1–{MAX_FLIPS} bits flipped "
        "(expected hold).",
        f"- Uploads: {IMAGE_SIDE}×{IMAGE_SIDE} JPEGs generated in code (gradients, ripples, "
        f"shapes, noise; no photographs), mean {result['jpeg_kb']:.0f} KB: "
        f"{100 * (1 - NEAR_SHARE):.0f} % one of {POOL_IMAGES} not banked (allow), "
        f"{100 * NEAR_SHARE:.0f} % a copy or an edit (brighter + re-encoded, cropped 3 %, "
        "rotated 90°) of a banked image (hold). Multipart: `content` JSON + `file`.",
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
    setup = [
        f"{r['database']} {r['database_version']}: "
        + ", ".join(f"{k} {v:.1f}" for k, v in r["setup"].items())
        for r in result["runs"]
    ]
    lines += ["### Setup (seconds)", "", *[f"- {s}" for s in setup], ""]
    busy = [
        f"{r['database']} {name}: {', '.join(s['others'])}"
        for r in result["runs"]
        for name, s in r["loads"].items()
        if s["others"]
    ]
    if busy:
        lines += ["### Other busy processes during the windows", "", *[f"- {b}" for b in busy]]
        lines.append("")
    errors = [
        f"{r['database']} {name}: {kind}: {count}"
        for r in result["runs"]
        for name, s in r["loads"].items()
        for kind, count in s["errors"].items()
    ]
    if errors:
        lines += ["### Errors", "", *[f"- {e}" for e in errors], ""]
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
        console.print(f"[{'green' if line.startswith('PASS') else 'red'}]{line}")


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_scan", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--entries", type=int, help="random PDQ bank entries (default 100,000)")
    parser.add_argument("--md5-entries", type=int, help="random MD5 entries (default 10,000)")
    parser.add_argument("--seconds", type=float, help="window per load (default 10)")
    parser.add_argument("--warmup", type=float, help="seconds of load before it (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="hash loads (default 8)")
    parser.add_argument("--upload-connections", type=int, default=4, help="(default 4)")
    parser.add_argument("--upload-rate", type=float, default=TARGETS["upload"])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--core", type=int, help="the load generator's core (default: the last)")
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run on a throwaway PostgreSQL cluster (default: when initdb is found)",
    )
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database instead")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="profile the server")
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folders")
    parser.add_argument("--quick", action="store_true", help="small bank, 3 s windows")
    parser.add_argument("--out", type=Path, help="Markdown report (default results/scan.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.entries = args.entries or (20_000 if quick else 100_000)
    args.md5_entries = args.md5_entries if args.md5_entries is not None else 10_000
    args.seconds = args.seconds or (3.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.out = args.out or (DATA_DIR / "scan-quick.md" if quick else RESULTS)
    if min(args.workers, args.threads, args.connections, args.upload_connections) < 1:
        parser.error("--workers, --threads and the connections must be at least 1")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    if args.database_url and args.postgres:
        parser.error("--postgres starts its own cluster; --database-url uses yours: pick one")
    if args.postgres and not postgres_available():
        parser.error(f"--postgres needs {PG_BIN}/initdb and pg_ctl")
    if args.py_spy:
        args.py_spy = args.py_spy.resolve()
    cores = sorted(os.sched_getaffinity(0))
    args.core = cores[-1] if args.core is None else args.core
    if args.core not in cores:
        parser.error(f"--core {args.core} is not one of this process's cores {cores}")

    console = Console(width=None if sys.stdout.isatty() else 200)
    started = time.perf_counter()
    command = "cd /work/main && .venv/bin/python -m benchmarks.bench_scan " + shlex.join(argv)
    load_start = loadavg()
    pictures = images(console)
    hashes = bank_hashes(args.entries, args.md5_entries)
    runs: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    notes: list[str] = []
    if args.no_sqlite:
        skipped["SQLite"] = "skipped (--no-sqlite)"
    else:
        runs.append(bench_database(args, None, None, hashes, pictures, console))
        notes.append(f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL)")
    if args.database_url:
        runs.append(
            bench_database(
                args, args.database_url, Postgres(args.database_url), hashes, pictures, console
            )
        )
        notes.append("PostgreSQL: the empty database of --database-url (its CPU not measured)")
    elif args.postgres is False or (args.postgres is None and not postgres_available()):
        skipped["PostgreSQL"] = (
            "skipped (--no-postgres)" if args.postgres is False else f"no {PG_BIN}/initdb here"
        )
    else:
        cluster = start_postgres(console)
        try:
            runs.append(bench_database(args, cluster.url, cluster, hashes, pictures, console))
        finally:
            stop_postgres(cluster)
        notes.append(
            f"PostgreSQL {cluster.version}: a throwaway cluster (initdb --auth=trust, default "
            "postgresql.conf, fsync and synchronous_commit on) on loopback TCP, deleted after"
        )
    m = machine()
    m["versions"] += f", psycopg {_version('psycopg')}, Pillow {_version('pillow')}"
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command.strip(),
        "machine": m,
        "load_start": load_start,
        "load_end": loadavg(),
        "wall_s": time.perf_counter() - started,
        "workers": args.workers,
        "threads": args.threads,
        "core": args.core,
        "warmup_s": args.warmup,
        "seconds": args.seconds,
        "entries": args.entries,
        "md5_entries": args.md5_entries,
        "jpeg_kb": pictures.mean_kb,
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
    ok = bool(runs) and all(
        s["wrong"] == 0 and not s["errors"] for r in runs for s in r["loads"].values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

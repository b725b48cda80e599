"""Real Haven nodes for crash tests: each a data folder, driven by subprocesses.

A node's environment drops the suite's own HAVEN_* settings, so it runs on its own SQLite
file even during the PostgreSQL run, and the test can read that file afterwards.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "haven", "node_env", "python", "serving"]


def node_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_") and k != "CI"}
    env.update(
        {
            "HAVEN_DATA_DIR": str(folder),
            "HAVEN_SECURE_COOKIES": "false",
            "DJANGO_SETTINGS_MODULE": "haven.web.settings",
        }
    )
    return env


def haven(env: dict[str, str], *args: str) -> str:
    """Run `haven ARGS` for the node; its stdout (the test fails on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-m", "haven.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def python(env: dict[str, str], script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a Python script against the node (Django set up by the script itself)."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(env: dict[str, str], *, workers: int = 1, wait: float = 120.0) -> Iterator[str]:
    """`haven serve` for the node on a free loopback port, until the block ends: its URL."""
    port = free_port()
    command = [sys.executable, "-m", "haven.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--access-log", "off"]
    server = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the node did not start"
                assert server.poll() is None, "the node exited"
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)

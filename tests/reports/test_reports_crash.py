"""Crash tests on loopback: two real Haven nodes, a sender killed at each named point.

The authority node runs `haven serve`; the provider node queues a report with `haven
reports queue` and delivers it from a process that kills itself (`os._exit`, no clean-up)
at one point: "claimed" (the attempt is counted, nothing sent) or "sent" (the receiver
committed and answered, the sender recorded nothing). A later delivery run must leave
exactly one received report, with the receipt the sender finally records.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.nodes import free_port, haven, node_env, python, serving
from tests.reports.reports_helpers import report_doc

pytestmark = pytest.mark.slow

DRIVER = """
import os, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from haven.reports import outbox
point, later = sys.argv[1], sys.argv[2] == "later"
def checkpoint(reached):
    if reached == point:
        os._exit(137)
now = timezone.now() + timedelta(seconds=outbox.CLAIM_SECONDS + 1) if later else None
run = outbox.deliver_due(now=now, checkpoint=checkpoint)
print(run.delivered, run.retried, run.failed, *run.errors)
"""


def deliver(
    env: dict[str, str], point: str = "", later: bool = False
) -> subprocess.CompletedProcess[str]:
    return python(env, DRIVER, point or "-", "later" if later else "now")


def received(folder: Path, report_id: str) -> list[str]:
    with sqlite3.connect(folder / "haven.sqlite3") as db:
        rows = db.execute(
            "SELECT receipt_id FROM reports_receivedreport WHERE sender_report_id = ?",
            (report_id,),
        ).fetchall()
    return [row[0] for row in rows]


def outbox_row(env: dict[str, str], report_id: str) -> dict[str, object]:
    rows = json.loads(haven(env, "reports", "outbox", "--json"))
    return next(row for row in rows if row["report_id"] == report_id)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """(the provider node's environment, the authority node's folder), authority serving."""
    authority = tmp_path_factory.mktemp("authority")
    provider = tmp_path_factory.mktemp("provider")
    authority_env, provider_env = node_env(authority), node_env(provider)
    haven(authority_env, "migrate")
    haven(provider_env, "migrate")
    token = haven(
        authority_env,
        "token",
        "create",
        "Example Ads intake",
        "--scope",
        "reports:submit",
        "--agency",
        "Example Ads (synthetic provider)",
    ).strip()
    with serving(authority_env) as url:
        token_file = provider / "intake-token"
        token_file.write_text(token)
        haven(
            provider_env,
            "reports",
            "destination",
            "hotline",
            url,
            "--token-file",
            str(token_file),
        )
        yield provider_env, authority


def _queue(env: dict[str, str], folder: Path, report_id: str) -> None:
    path = folder / f"{report_id}.json"
    path.write_text(json.dumps(report_doc(report_id)))
    haven(env, "reports", "queue", str(path), "--destination", "hotline")


@pytest.mark.parametrize(("point", "received_before_retry"), [("claimed", 0), ("sent", 1)])
def test_a_kill_at_each_point_leaves_exactly_one_receipt(
    nodes: tuple[dict[str, str], Path], tmp_path: Path, point: str, received_before_retry: int
) -> None:
    provider_env, authority = nodes
    report_id = f"crash-{point}"
    _queue(provider_env, tmp_path, report_id)
    killed = deliver(provider_env, point)
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert len(received(authority, report_id)) == received_before_retry
    row = outbox_row(provider_env, report_id)
    assert row["state"] == "pending" and row["attempts"] == 1
    retry = deliver(provider_env, later=True)
    assert retry.returncode == 0 and retry.stdout.split()[0] == "1", retry.stdout + retry.stderr
    receipts = received(authority, report_id)
    assert len(receipts) == 1
    row = outbox_row(provider_env, report_id)
    assert row["state"] == "delivered" and row["receipt_id"] == receipts[0]
    again = deliver(provider_env, later=True)
    assert again.stdout.split()[:3] == ["0", "0", "0"]
    assert len(received(authority, report_id)) == 1


def test_an_unreachable_authority_is_retried_not_lost(
    nodes: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    provider_env, authority = nodes
    closed = free_port()  # a port nothing listens on
    token_file = tmp_path / "token"
    token_file.write_text("hvn_0000000000000000_unused")
    haven(
        provider_env,
        "reports",
        "destination",
        "down",
        f"http://127.0.0.1:{closed}",
        "--token-file",
        str(token_file),
    )
    path = tmp_path / "outage.json"
    path.write_text(json.dumps(report_doc("during-outage")))
    haven(provider_env, "reports", "queue", str(path), "--destination", "down")
    run = deliver(provider_env)
    assert run.stdout.split()[:3] == ["0", "1", "0"], run.stdout + run.stderr
    row = outbox_row(provider_env, "during-outage")
    assert row["state"] == "pending" and row["attempts"] == 1
    assert "Connection refused" in str(row["last_error"]) or "refused" in str(row["last_error"])
    assert received(authority, "during-outage") == []

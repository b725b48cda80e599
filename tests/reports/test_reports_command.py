"""`haven reports`: destinations, queueing with named refusals, the outbox listing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.reports.reports_helpers import report_doc

from haven.reports.models import Destination, OutboxMessage

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reports", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    token = tmp_path / "token"
    token.write_text("hvn_0123456789abcdef_secret\n")
    run("destination", "hotline", "https://intake.example", "--token-file", str(token))
    return tmp_path


def test_queue_a_report_and_list_the_outbox(destination: Path) -> None:
    path = destination / "r.json"
    path.write_text(json.dumps(report_doc("cli-1")))
    out, _ = run("queue", str(path), "--destination", "hotline")
    assert "report cli-1 queued for hotline" in out
    rows = json.loads(run("outbox", "--json")[0])
    assert [(r["report_id"], r["state"], r["attempts"]) for r in rows] == [("cli-1", "pending", 0)]
    assert b"secret" not in bytes(Destination.objects.get().token_encrypted)


def test_a_bad_report_is_refused_with_its_fields(destination: Path) -> None:
    path = destination / "bad.json"
    path.write_text(json.dumps(report_doc("no spaces allowed")))
    with pytest.raises(CommandError, match="report_id"):
        run("queue", str(path), "--destination", "hotline")
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        run("queue", str(path), "--destination", "hotline")
    assert not OutboxMessage.objects.exists()


def test_an_unknown_destination_and_a_missing_token_file(destination: Path) -> None:
    path = destination / "r.json"
    path.write_text(json.dumps(report_doc("cli-3")))
    with pytest.raises(CommandError, match="no destination 'elsewhere'"):
        run("queue", str(path), "--destination", "elsewhere")
    with pytest.raises(CommandError, match="token file"):
        run("destination", "x", "https://x.example", "--token-file", str(destination / "nope"))
    with pytest.raises(CommandError, match="https://"):
        token = destination / "token"
        run("destination", "y", "ftp://x.example", "--token-file", str(token))

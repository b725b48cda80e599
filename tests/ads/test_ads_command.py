"""`haven text ingest` and `haven text relink`: files in, a summary out, clear refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.ads.conftest import corpus, jsonl

from haven.accounts.models import Agency
from haven.ads.models import Ad, Cluster, IngestRun
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("text", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_a_jsonl_file_then_relink(tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl"
    rows = list(corpus()[:80])
    path.write_bytes(jsonl(rows) + b"{broken\n")
    out, err = run("ingest", str(path), "--agency", "Hotline A", "--no-progress")
    assert f"{len(rows) + 1} rows, added {len(rows)}" in out and "refused 1" in out
    assert "clusters in" in out and "line 81: not JSON" in err
    agency = Agency.objects.get(name="Hotline A")
    assert Ad.objects.filter(agency=agency).count() == len(rows)
    clusters = Cluster.objects.count()
    summary = json.loads(run("relink", "--agency", "Hotline A", "--json")[0])
    assert summary["ads"] == len(rows) and summary["clusters"] == clusters
    assert summary["kept_ids"] == clusters
    actors = set(AuditEntry.objects.filter(action="ads.ingest").values_list("actor", flat=True))
    assert actors == {"system:cli"}


def test_ingest_a_csv_file_with_json_summary_and_no_link(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "text", "city", "posted_at", "region"])
        writer.writeheader()
        for row in corpus()[:10]:
            writer.writerow({k: row[k] for k in ("id", "text", "city", "posted_at", "region")})
    summary = json.loads(run("ingest", str(path), "--json", "--no-link", "--no-progress")[0])
    assert (summary["rows"], summary["added"], summary["clusters"]) == (10, 10, None)
    assert Cluster.objects.count() == 0
    assert IngestRun.objects.get().link_seconds is None


def test_the_region_option_reads_numbers_without_a_country_code(tmp_path: Path) -> None:
    path = tmp_path / "fr.jsonl"
    path.write_bytes(jsonl([{"id": "f", "text": "Synthetic. Appelle 01 99 00 12 34"}]))
    run("ingest", str(path), "--region", "FR", "--no-progress")
    phones = [e["normalized"] for e in Ad.objects.get().entities if e["type"] == "phone"]
    assert phones == ["+33199001234"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ads.txt"], "--format"),
        (["ads.jsonl", "--region", "XX"], "--region"),
        (["missing.jsonl"], "cannot read"),
    ],
)
def test_bad_arguments_are_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    for name in ("ads.txt", "ads.jsonl"):
        (tmp_path / name).write_text("")
    with pytest.raises(CommandError, match=message):
        run("ingest", str(tmp_path / args[0]), *args[1:], "--no-progress")
    assert Ad.objects.count() == 0


def test_a_csv_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("name,body\nx,y\n")
    with pytest.raises(CommandError, match="id and text"):
        run("ingest", str(path), "--no-progress")


def test_the_progress_bar_goes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_bytes(jsonl(corpus()[:5]))
    out, _ = run("ingest", str(path))
    assert "5 rows" in out
    assert "5 rows" not in capsys.readouterr().err

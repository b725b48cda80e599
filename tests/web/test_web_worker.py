"""`haven worker`: every periodic job runs on its interval, and one failing job stops none."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from haven.web import jobs
from haven.web.jobs import JOBS, Job, Schedule, due_jobs

pytestmark = pytest.mark.django_db


def test_all_jobs_are_due_at_start_then_each_on_its_interval() -> None:
    start = timezone.now()
    schedule = Schedule()
    assert [j.name for j in due_jobs(schedule, start)] == [
        "reports",
        "hooks",
        "rematch",
        "group-reports",
        "purge",
    ]
    schedule.last = {job.name: start for job in JOBS}
    assert due_jobs(schedule, start + timedelta(seconds=4)) == []
    later = [j.name for j in due_jobs(schedule, start + timedelta(seconds=31))]
    assert later == ["reports", "hooks", "rematch", "group-reports"]
    assert [j.name for j in due_jobs(schedule, start + timedelta(days=1))][-1] == "purge"


def test_once_runs_every_job_and_a_failure_stops_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> str:
        raise RuntimeError("synthetic failure")

    replaced = tuple(Job(j.name, j.every_seconds, broken) if j.name == "hooks" else j for j in JOBS)
    monkeypatch.setattr(jobs, "JOBS", replaced)
    monkeypatch.setattr("haven.web.management.commands.worker.JOBS", replaced)
    out, err = io.StringIO(), io.StringIO()
    call_command("worker", "--once", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "reports",
        "rematch",
        "group-reports",
        "purge",
    ]
    assert "purged 0" in lines[-1]
    assert "hooks: failed: RuntimeError: synthetic failure" in err.getvalue()


def test_only_names_known_jobs() -> None:
    out = io.StringIO()
    call_command("worker", "--once", "--only", "rematch", stdout=out)
    assert out.getvalue().startswith("rematch: 0 entries followed")
    with pytest.raises(CommandError, match="unknown job nope"):
        call_command("worker", "--once", "--only", "nope")

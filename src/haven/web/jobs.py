"""The node's periodic jobs, run by `haven worker`: one process instead of a cron line each.

Each job is what its own command runs once (`haven reports deliver`, `haven detection
deliver-hooks`, `haven detection rematch`, `haven evidence purge`; `group-reports`, the
authority's incident grouping, has no command of its own: `haven worker --once --only
group-reports` runs it once); the worker calls them on their own intervals. Every job is
safe to run twice or concurrently with another worker (claims, cursors and conditional
updates do the locking), so a restart or a second worker never loses or repeats an effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

__all__ = ["JOBS", "Job", "JobResult", "Schedule", "due_jobs"]


@dataclass(frozen=True, slots=True)
class JobResult:
    job: str
    summary: str


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], str]


def _deliver_reports() -> str:
    from haven.reports.outbox import deliver_due

    run = deliver_due()
    return f"delivered {run.delivered}, to retry {run.retried}, given up {run.failed}"


def _deliver_hooks() -> str:
    from haven.detection.removal import deliver_hooks

    run = deliver_hooks()
    return f"delivered {run.delivered}, to retry {run.retried}, given up {run.failed}"


def _rematch() -> str:
    from haven.detection.retro import follow

    run = follow()
    return f"{run.entries} entries followed, {len(run.held)} held, {len(run.lifted)} lifted"


def _purge() -> str:
    from haven.accounts.permissions import system_principal
    from haven.evidence.services import purge_expired

    run = purge_expired(system_principal(0, "worker"))
    return f"purged {len(run.purged)}, kept by a hold {run.kept_by_hold}"


def _group_reports() -> str:
    from haven.reports.incidents import group_pending

    run = group_pending()
    return (
        f"grouped {run.grouped}: opened {run.opened}, joined {run.joined}, "
        f"merges {run.merges} ({run.merged_away} incidents merged away)"
    )


JOBS: tuple[Job, ...] = (
    Job("reports", 5.0, _deliver_reports),
    Job("hooks", 5.0, _deliver_hooks),
    Job("rematch", 30.0, _rematch),
    Job("group-reports", 10.0, _group_reports),
    Job("purge", 24 * 3600.0, _purge),
)


@dataclass
class Schedule:
    """When each job last ran in this worker (all are due at start)."""

    last: dict[str, datetime] = field(default_factory=dict)


def due_jobs(schedule: Schedule, now: datetime | None = None) -> list[Job]:
    now = now or timezone.now()
    due = []
    for job in JOBS:
        last = schedule.last.get(job.name)
        if last is None or (now - last).total_seconds() >= job.every_seconds:
            due.append(job)
    return due

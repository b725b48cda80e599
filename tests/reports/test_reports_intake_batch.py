"""The intake's group commit: several requests' reports in one transaction, each answered
only after that commit, and one bad report failing alone.

The concurrency is tested without a database (threads and the SQLite test database's shared
in-memory cache do not mix); the batch's statements are tested on the database, outside a
test transaction, as the server runs them.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from haven.accounts.models import Agency, ApiToken
from haven.accounts.permissions import Principal, principal_for_token
from haven.audit.models import AuditEntry, AuditHead
from haven.audit.verify import verify_chain
from haven.reports import intake
from haven.reports.models import ReceivedReport


def _principal(agency: Agency) -> Principal:
    token, _ = ApiToken.issue("batch test", ["reports:submit"], agency)
    return principal_for_token(token)


def _item(principal: Principal, report_id: str, sender: int | None = None) -> Any:
    """A pending report built as receive_report builds it (content need not be a report)."""
    from django.db import connection
    from django.utils import timezone

    def prep(name: str, value: object) -> object:
        return intake._field(name).get_db_prep_save(value, connection)

    row = [
        principal.agency_id if sender is None else sender,
        report_id,
        principal.id,
        "1",
        prep("payload", {"report_id": report_id, "synthetic": True}),
        "0" * 64,
        f"{abs(hash((report_id, sender))):032x}"[:32],
        prep("received_at", timezone.now()),
        True,
    ]
    return intake._Pending(row, report_id, 0, principal)


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_every_report_with_its_audit_entry() -> None:
    principal = _principal(Agency.objects.create(name="Batch provider (synthetic)"))
    items = [_item(principal, f"batch-{i}") for i in range(5)]
    intake._commit(items)
    assert all(item.done and item.error is None and item.pk for item in items)
    stored = {r.pk: r.sender_report_id for r in ReceivedReport.objects.all()}
    assert stored == {item.pk: item.report_id for item in items}
    entries = AuditEntry.objects.filter(action="reports.intake")
    assert sorted(int(e.target_id) for e in entries) == sorted(stored)
    assert [e.seq for e in AuditEntry.objects.order_by("seq")] == list(
        range(1, AuditEntry.objects.count() + 1)
    )
    assert AuditHead.objects.get().seq == AuditEntry.objects.count()
    assert verify_chain().problem is None, verify_chain().summary()


@pytest.mark.django_db(transaction=True)
def test_one_bad_report_fails_alone_and_the_others_are_committed() -> None:
    principal = _principal(Agency.objects.create(name="Batch provider (synthetic)"))
    no_such_sender = Agency.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    good = [_item(principal, "good-1"), _item(principal, "good-2")]
    bad = _item(principal, "bad", sender=no_such_sender)
    intake._commit([good[0], bad, good[1]])
    assert isinstance(bad.error, Exception) and bad.pk is None and bad.done
    assert all(item.done and item.error is None and item.pk for item in good)
    assert set(ReceivedReport.objects.values_list("sender_report_id", flat=True)) == {
        "good-1",
        "good-2",
    }
    assert AuditEntry.objects.filter(action="reports.intake").count() == 2
    assert verify_chain().problem is None, verify_chain().summary()


@pytest.mark.django_db(transaction=True)
def test_the_same_report_twice_in_a_batch_is_stored_once() -> None:
    principal = _principal(Agency.objects.create(name="Batch provider (synthetic)"))
    first, again = _item(principal, "twice"), _item(principal, "twice")
    intake._commit([first, again])
    assert first.pk is not None and again.pk is None and again.error is None
    assert ReceivedReport.objects.filter(sender_report_id="twice").count() == 1
    assert AuditEntry.objects.filter(action="reports.intake").count() == 1


def test_waiting_requests_are_committed_together_and_answered_after_the_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = intake._GroupCommit()
    monkeypatch.setattr(intake._GroupCommit, "_node_lock", lambda self: _no_lock())
    first_batch_entered = threading.Event()
    release_first = threading.Event()
    batches: list[list[str]] = []
    committed: set[str] = set()

    def fake_commit(items: list[Any]) -> None:
        batches.append([item.report_id for item in items])
        if len(batches) == 1:
            first_batch_entered.set()
            assert release_first.wait(10)
        committed.update(item.report_id for item in items)
        for item in items:
            item.pk, item.done = len(committed), True

    monkeypatch.setattr(intake, "_commit", fake_commit)
    answered_before_commit: list[str] = []

    def request(report_id: str) -> None:
        item = intake._Pending([], report_id, 0, None)  # type: ignore[arg-type]
        group.commit(item)
        if report_id not in committed or not item.done:
            answered_before_commit.append(report_id)

    leader = threading.Thread(target=request, args=("r0",))
    leader.start()
    assert first_batch_entered.wait(10)
    followers = [threading.Thread(target=request, args=(f"r{i}",)) for i in range(1, 6)]
    for thread in followers:
        thread.start()
    while len(group._queue) < 5:  # every follower queued behind the busy leader
        threading.Event().wait(0.005)
    release_first.set()
    for thread in [leader, *followers]:
        thread.join(10)
        assert not thread.is_alive()
    assert batches[0] == ["r0"]
    assert sorted(batches[1]) == [f"r{i}" for i in range(1, 6)]  # one commit for five
    assert answered_before_commit == []


def test_a_failing_commit_fails_its_requests_and_hangs_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = intake._GroupCommit()
    monkeypatch.setattr(intake._GroupCommit, "_node_lock", lambda self: _no_lock())

    def broken_commit(items: list[Any]) -> None:
        raise KeyboardInterrupt  # not even an Exception: the finally still answers

    monkeypatch.setattr(intake, "_commit", broken_commit)
    item = intake._Pending([], "r", 0, None)  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        group.commit(item)
    assert item.done and isinstance(item.error, RuntimeError) and not group._leading
    later = intake._Pending([], "later", 0, None)  # type: ignore[arg-type]
    monkeypatch.setattr(intake, "_commit", lambda items: _mark_done(items))
    group.commit(later)
    assert later.done and later.pk == 1


def _mark_done(items: list[Any]) -> None:
    for item in items:
        item.pk, item.done = 1, True


class _no_lock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

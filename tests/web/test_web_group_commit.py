"""Group commit: waiting requests share one commit and none is answered before it; a
failing commit fails its requests and leaves nobody hanging.

Tested without a database (threads and the SQLite test database's shared in-memory cache
do not mix): `commit_batch` is replaced by a recorder; the intake's and the scans' own
batches are tested with their statements (tests/reports/test_reports_intake_batch.py,
tests/detection/).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from haven.web import group_commit
from haven.web.group_commit import GroupCommit, Pending


@contextlib.contextmanager
def _no_lock() -> Iterator[None]:
    yield


@pytest.fixture(autouse=True)
def _outside_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(group_commit._write_lock, "held", _no_lock)
    monkeypatch.setattr(group_commit.connection, "in_atomic_block", False, raising=False)


def test_waiting_requests_are_committed_together_and_answered_after_the_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group: GroupCommit[str] = GroupCommit(lambda items: None)
    first_batch_entered = threading.Event()
    release_first = threading.Event()
    batches: list[list[str]] = []
    committed: set[str] = set()

    def fake_commit(items: list[Pending[str]]) -> None:
        batches.append([item.payload for item in items])
        if len(batches) == 1:
            first_batch_entered.set()
            assert release_first.wait(10)
        committed.update(item.payload for item in items)
        for item in items:
            item.result, item.done = len(committed), True

    monkeypatch.setattr(group, "commit_batch", fake_commit)
    answered_before_commit: list[str] = []

    def request(name: str) -> None:
        group.submit(name)
        if name not in committed:
            answered_before_commit.append(name)

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
    group: GroupCommit[str] = GroupCommit(lambda items: None)

    def broken_commit(items: list[Any]) -> None:
        raise KeyboardInterrupt  # not even an Exception: the finally still answers

    monkeypatch.setattr(group, "commit_batch", broken_commit)
    with pytest.raises(KeyboardInterrupt):
        group.submit("r")
    assert not group._leading and group._queue == []

    def fine(items: list[Pending[str]]) -> None:
        for item in items:
            item.result, item.done = f"stored {item.payload}", True

    monkeypatch.setattr(group, "commit_batch", fine)
    assert group.submit("later") == "stored later"


def test_a_batch_that_fails_is_written_again_one_by_one() -> None:
    written: list[list[str]] = []

    def store(items: list[Pending[str]]) -> None:
        written.append([item.payload for item in items])
        if any(item.payload == "bad" for item in items):
            raise ValueError("synthetic: a bad item")
        for item in items:
            item.result = item.payload.upper()

    group: GroupCommit[str] = GroupCommit(store)
    items = [Pending("a"), Pending("bad"), Pending("b")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(group_commit.transaction, "atomic", contextlib.nullcontext)
        group.commit_batch(items)
    assert written == [["a", "bad", "b"], ["a"], ["bad"], ["b"]]
    assert [i.result for i in items] == ["A", None, "B"] and all(i.done for i in items)
    assert isinstance(items[1].error, ValueError) and items[0].error is None

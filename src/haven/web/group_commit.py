"""Group commit: concurrent requests of one server process share one transaction and fsync.

Haven answers "stored" (a report's 201, a scan's decision) only after the commit, and every
commit costs an fsync and a turn at the database's write lock. Under load, one process's
request threads therefore take turns as *leader*: a request queues its item; if no thread
is committing, it leads: it takes the node's write lock, then every queued item (its own
among them), writes them in ONE transaction, marks each done and wakes the others. Items
that arrive meanwhile wait for the next leader. With no load an item is committed at once,
alone: there is no batching window to wait out. A request returns only once its item is
marked done, i.e. after the commit.

If the batch's transaction fails, nothing of it is kept and each item is written again in
a transaction of its own, so one bad item fails alone with its own error.

On SQLite the leader first takes the node's write lock, an advisory file lock (flock) in
the data folder that the server processes queue on in the kernel. Without it SQLite's busy
handler has a process that finds the database locked sleep and poll (1, 2, 5 … 100 ms), so
the other process wins again and again and the loser's requests wait hundreds of
milliseconds. The database's own locks still decide correctness; this one only orders the
waiters. PostgreSQL queues its lock waiters itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connection, transaction

__all__ = ["GroupCommit", "Pending"]

T = TypeVar("T")

_LOCK_NAME = "writes.lock"


@dataclass(eq=False)
class Pending(Generic[T]):
    """One item waiting for a commit, and what the commit made of it."""

    payload: T
    done: bool = False
    result: object = None
    error: BaseException | None = None


class _WriteLock:
    """The node-wide advisory lock SQLite writers queue on (see the module docstring)."""

    def __init__(self) -> None:
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if connection.vendor != "sqlite":
            yield
            return
        if self._fd is None:
            with contextlib.suppress(OSError):
                path = Path(settings.HAVEN.data_dir) / _LOCK_NAME
                self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._fd is None:  # no lock file (a read-only folder): the database's locks alone
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def forget(self) -> None:
        # A forked worker must not share the parent's open lock file (a flock belongs to
        # the open file, so parent and child would hold it together).
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None


_write_lock = _WriteLock()
_groups: weakref.WeakSet[GroupCommit[object]] = weakref.WeakSet()


class GroupCommit(Generic[T]):
    """Commit items of one kind in shared transactions.

    `store(items)` writes the items inside the transaction the group opened and sets each
    item's `result`; it must leave nothing half-written when it raises (the transaction is
    rolled back around it).
    """

    MAX_BATCH = 64

    def __init__(self, store: Callable[[list[Pending[T]]], None]) -> None:
        self._store = store
        self._reset()
        _groups.add(self)  # type: ignore[arg-type]

    def _reset(self) -> None:
        self._ready = threading.Condition()
        self._queue: list[Pending[T]] = []
        self._leading = False

    def commit_batch(self, items: list[Pending[T]]) -> None:
        """Write the items in one transaction; on failure, each in a transaction of its own."""
        if len(items) > 1:
            try:
                with transaction.atomic():
                    self._store(items)
            except Exception:  # retried one by one below, each with its own error
                for item in items:
                    item.result = None
            else:
                for item in items:
                    item.done = True
                return
        for item in items:
            try:
                with transaction.atomic():
                    self._store([item])
            except Exception as exc:  # handed to the item's own request, raised there
                item.result, item.error = None, exc
            item.done = True

    def submit(self, payload: T) -> object:
        """Commit one item (with whatever else is waiting); its result, or its error raised.

        Inside a caller's transaction (a test, a management command) the caller's
        transaction is the commit.
        """
        item = Pending(payload)
        if connection.in_atomic_block:
            with transaction.atomic():
                self._store([item])
            return item.result
        self._lead_or_wait(item)
        if item.error is not None:
            raise item.error
        return item.result

    def _lead_or_wait(self, item: Pending[T]) -> None:
        with self._ready:
            self._queue.append(item)
        while True:
            with self._ready:
                while not item.done and self._leading:
                    self._ready.wait()
                if item.done:
                    return
                self._leading = True
            batch: list[Pending[T]] = []
            try:
                with _write_lock.held():
                    with self._ready:  # what queued up while this leader waited for the lock
                        batch = self._queue[: self.MAX_BATCH]
                        del self._queue[: self.MAX_BATCH]
                    self.commit_batch(batch)
            finally:
                with self._ready:
                    for pending in batch:
                        if not pending.done:  # interrupted: fail, never hang
                            pending.error = pending.error or RuntimeError("commit interrupted")
                            pending.done = True
                    self._leading = False
                    self._ready.notify_all()


def _reset_after_fork() -> None:
    # A forked worker must not inherit a held lock, a queue or the parent's lock file.
    _write_lock.forget()
    for group in list(_groups):
        group._reset()


os.register_at_fork(after_in_child=_reset_after_fork)

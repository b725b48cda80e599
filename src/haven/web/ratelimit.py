"""Fixed-window rate limits kept in this process's memory.

Each server process counts on its own, so the node-wide limit is the per-process limit
times the number of workers; the operator guide says so. Memory stays bounded: windows
older than the current one are dropped as they are replaced.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

__all__ = ["RateLimiter"]


@dataclass
class RateLimiter:
    """At most `limit` events per `window` seconds for each key."""

    limit: int
    window: float
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, now: float | None = None) -> bool:
        moment = time.monotonic() if now is None else now
        slot = int(moment // self.window)
        with self._lock:
            seen_slot, count = self._counts.get(key, (slot, 0))
            if seen_slot != slot:
                count = 0
            if count >= self.limit:
                self._counts[key] = (slot, count)
                return False
            self._counts[key] = (slot, count + 1)
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == slot}
            return True

    def retry_after(self, now: float | None = None) -> int:
        moment = time.monotonic() if now is None else now
        return max(1, int(self.window - moment % self.window + 0.999))

"""How an audit entry's hash is computed: canonical JSON of its fields and the previous hash.

Kept free of Django so `haven audit verify` and its tests state the rule in one place.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["GENESIS", "HASHED_FIELDS", "entry_digest"]

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "outcome",
    "detail",
)


def entry_digest(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the entry's fields (in a fixed order, canonical JSON) and `prev_hash`."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()

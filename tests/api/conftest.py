"""Give each schemathesis-generated test its own node id.

Under pytest 9, schemathesis's per-operation items keep their names
(`test_x[POST /api/v1/match]`) but all share the function's node id (pytest now builds ids
from the original name and a callspec, which these items lack), so failures would be
reported, selected (`-k`) and de-duplicated as one test. Put the operation back.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if type(item).__name__ != "SchemathesisFunction" or item.nodeid.endswith("]"):
            continue
        original = getattr(item, "originalname", "")
        label = item.name[len(original) :]
        node_id = getattr(item, "_id", None)
        if label.startswith("[") and label.endswith("]") and hasattr(node_id, "with_params"):
            item._id = node_id.with_params(label[1:-1])  # type: ignore[attr-defined]

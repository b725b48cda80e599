"""A small valid report, built in code: synthetic, benign values, fictional numbers."""

from __future__ import annotations

from typing import Any

__all__ = ["report_doc"]


def report_doc(report_id: str = "rep-0001", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": "1",
        "report_id": report_id,
        "created_at": "2026-12-01T10:00:00+00:00",
        "synthetic": True,
        "incident": {
            "type": "child_sex_trafficking",
            "occurred_at": "2026-11-30T22:15:00+00:00",
        },
        "reporter": {
            "provider": "Example Ads (synthetic)",
            "contact": {"name": "Safety Team", "email": "safety@example.org"},
        },
        "ads": [
            {
                "ad_id": "ad-1",
                "text": "Synthetic ad. Call 202 555 0142",
                "phones": ["+12025550142"],
            }
        ],
    }
    doc.update(changes)
    return doc

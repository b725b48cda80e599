"""`POST /api/v1/intake/reports`: committed before 201, idempotent on the sender's id.

A resent report gets the first receipt back (200); the same id with other content is a
409; a bad document is a 400 naming its fields; nothing is stored unless all is well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings
from tests.reports.reports_helpers import report_doc

from haven.accounts.models import Agency
from haven.audit.models import AuditEntry
from haven.reports.format import report_schema
from haven.reports.intake import MAX_REPORT_BYTES
from haven.reports.models import ReceivedReport
from haven.web.config import load_config

pytestmark = pytest.mark.django_db

Intake = Callable[..., Client]


def send(client: Client, body: Any) -> Any:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/v1/intake/reports", data, content_type="application/json")


def test_a_report_is_committed_then_acknowledged(intake: Intake, sender: Agency) -> None:
    response = send(intake(), report_doc())
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert set(receipt) == {"receipt_id", "report_id", "received_at", "duplicate"}
    assert receipt["report_id"] == "rep-0001" and receipt["duplicate"] is False
    stored = ReceivedReport.objects.get()
    assert stored.receipt_id == receipt["receipt_id"] and stored.sender == sender
    assert stored.payload["ads"][0]["phones"] == ["+12025550142"] and stored.synthetic
    assert stored.agency.name == load_config().node_name  # HAVEN_INTAKE_AGENCY unset
    entry = AuditEntry.objects.get(action="reports.intake")
    assert entry.target_id == str(stored.pk) and entry.actor.startswith("token:")


def test_a_resent_report_gets_the_same_receipt_and_is_kept_once(intake: Intake) -> None:
    client = intake()
    first = send(client, report_doc()).json()
    again = send(client, report_doc())
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    assert ReceivedReport.objects.count() == 1


def test_the_same_id_with_other_content_is_a_conflict(intake: Intake) -> None:
    client = intake()
    send(client, report_doc())
    changed = report_doc(additional_info="something else")
    response = send(client, changed)
    assert response.status_code == 409 and response.json()["error"]["code"] == "report_id_reused"
    assert ReceivedReport.objects.count() == 1


def test_two_senders_may_use_the_same_report_id(intake: Intake, db: None) -> None:
    from tests.accounts.helpers import make_agency

    other = make_agency("Another provider (synthetic)")
    assert send(intake(), report_doc()).status_code == 201
    assert send(intake(of=other), report_doc()).status_code == 201
    assert ReceivedReport.objects.count() == 2


def test_the_receiving_agency_is_the_setting(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAVEN_INTAKE_AGENCY", "National hotline (synthetic)")
    with override_settings(HAVEN=load_config()):
        send(intake(), report_doc())
    assert ReceivedReport.objects.get().agency.name == "National hotline (synthetic)"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"incident": {"type": "no_such_type", "occurred_at": "2026-11-30T22:15:00+00:00"}},
            "incident.type",
        ),
        ({"report_id": "has spaces"}, "report_id"),
        ({"created_at": "2026-12-01T10:00:00"}, "created_at"),
        ({"schema_version": "2"}, "schema_version"),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field(
    intake: Intake, change: dict[str, Any], field: str
) -> None:
    response = send(intake(), report_doc(**change))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_report"
    assert field in {d["field"] for d in error["details"]}
    assert not ReceivedReport.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"text"', b"\xff\xfe", b'{"a": NaN}'])
def test_a_body_that_is_no_report_is_a_400(intake: Intake, body: bytes) -> None:
    response = send(intake(), body)
    assert response.status_code == 400, response.content
    assert not ReceivedReport.objects.exists()


def test_a_huge_report_is_refused(intake: Intake) -> None:
    body = json.dumps(report_doc(additional_info="x" * MAX_REPORT_BYTES))
    assert send(intake(), body).status_code == 413


def test_tokens_without_the_scope_and_no_token_are_refused(intake: Intake) -> None:
    assert send(intake(["match"]), report_doc()).status_code == 403
    assert send(Client(), report_doc()).status_code == 401
    assert not ReceivedReport.objects.exists()


def test_the_schema_is_public_and_is_the_published_one() -> None:
    response = Client().get("/api/v1/intake/schema")
    assert response.status_code == 200
    assert response.json() == report_schema()

"""The audit log page, its CSV export and the "Verify now" button."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.audit.audit_helpers import make_user, node, raw_sql, signed_in

from haven.audit.models import AuditEntry
from haven.audit.services import record

__all__ = ["node"]

pytestmark = pytest.mark.django_db

LOG = reverse("audit:log")
EXPORT = reverse("audit:export")
VERIFY = reverse("audit:verify")


@pytest.fixture
def auditor(client: Client, node: Path) -> Client:
    return signed_in(client, make_user("auditor"))


@pytest.fixture
def sample(node: Path) -> None:
    record("auth.sign_in", actor="user:1", actor_label="alice")
    record("bank.update", actor="user:1", target_type="bank", target_id=3)
    record("bank.update", actor="user:2", target_type="bank", target_id=4)
    record("bank.export", actor="token:5", target_type="bank", target_id=3, outcome="denied")
    record("media.reveal", actor="user:2", target_type="match", target_id=9)


def _seqs(response: object) -> list[int]:
    return [row["entry"].seq for row in response.context["entries"]]  # type: ignore[attr-defined]


def _actions(response: object) -> list[str]:
    return [row["entry"].action for row in response.context["entries"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["administrator", "provider_analyst", "case_worker", "trainer"])
@pytest.mark.parametrize("url", [LOG, EXPORT])
def test_people_who_are_not_auditors_get_403(
    client: Client, node: Path, role: str, url: str
) -> None:
    signed_in(client, make_user(role))
    assert client.get(url).status_code == 403


def test_verify_is_refused_to_non_auditors_and_changes_nothing(client: Client, node: Path) -> None:
    signed_in(client, make_user("administrator"))
    before = AuditEntry.objects.count()
    assert client.post(VERIFY).status_code == 403
    assert AuditEntry.objects.count() == before


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, node: Path) -> None:
    response = client.get(LOG)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_log_lists_entries_newest_first_and_audits_the_view(
    auditor: Client, sample: None
) -> None:
    response = auditor.get(LOG)
    assert response.status_code == 200
    seqs = _seqs(response)
    assert seqs == sorted(seqs, reverse=True)
    assert _actions(response)[0] == "audit.view"  # the page's own entry is the newest
    view = AuditEntry.objects.filter(action="audit.view").latest("seq")
    assert view.actor.startswith("user:")
    assert view.detail == {"filters": {}, "page": "1"}
    assert b"Verify now" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "user:2"}, ["media.reveal", "bank.update"]),
        ({"action": "bank.update"}, ["bank.update", "bank.update"]),
        ({"target_type": "bank", "target_id": "3"}, ["bank.export", "bank.update"]),
        ({"outcome": "denied"}, ["bank.export"]),
        ({"target_type": "match"}, ["media.reveal"]),
    ],
)
def test_filters(auditor: Client, sample: None, query: dict[str, str], expected: list[str]) -> None:
    response = auditor.get(LOG, query)
    assert response.status_code == 200
    assert _actions(response) == expected
    view = AuditEntry.objects.filter(action="audit.view").latest("seq")
    assert view.detail["filters"] == query


def test_date_filters_are_inclusive_days(auditor: Client, sample: None) -> None:
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)
    tomorrow = today + timedelta(days=1)
    # The five sample entries and the page's own "audit.view" entry.
    assert len(_seqs(auditor.get(LOG, {"date_from": today, "date_to": today}))) == 6
    assert _seqs(auditor.get(LOG, {"date_to": yesterday})) == []
    assert _seqs(auditor.get(LOG, {"date_from": tomorrow})) == []


def test_bad_filters_get_a_clear_error_and_no_entries(auditor: Client, sample: None) -> None:
    response = auditor.get(LOG, {"date_from": "not a date"})
    assert response.status_code == 400
    assert b"Enter a valid date" in response.content
    assert response.context["page"] is None
    reversed_range = auditor.get(LOG, {"date_from": "2026-02-02", "date_to": "2026-01-01"})
    assert reversed_range.status_code == 400
    assert b"after the" in reversed_range.content
    unknown_action = auditor.get(LOG, {"action": "no.such.action"})
    assert unknown_action.status_code == 400


def test_the_action_filter_offers_the_distinct_actions(auditor: Client, sample: None) -> None:
    response = auditor.get(LOG)
    choices = [value for value, _ in response.context["form"].fields["action"].choices]
    assert choices == ["", "auth.sign_in", "bank.export", "bank.update", "media.reveal"]


def test_actors_and_targets_link_to_their_filtered_view(auditor: Client, sample: None) -> None:
    content = auditor.get(LOG).content.decode()
    assert 'href="?actor=token%3A5"' in content
    assert 'href="?target_type=bank&amp;target_id=3"' in content


def test_pages_of_fifty_keep_the_filters(auditor: Client, node: Path) -> None:
    for _ in range(120):
        record("test.bulk", actor="system")
    first = auditor.get(LOG, {"action": "test.bulk"})
    assert len(_seqs(first)) == 50
    assert first.context["page"].paginator.num_pages == 3
    assert "?action=test.bulk&amp;page=2" in first.content.decode()
    third = auditor.get(LOG, {"action": "test.bulk", "page": "3"})
    assert len(_seqs(third)) == 20
    assert min(_seqs(third)) == 1


def test_export_is_the_filtered_entries_as_csv_and_is_audited(
    auditor: Client, sample: None
) -> None:
    response = auditor.get(EXPORT, {"target_type": "bank"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["action"] for row in rows] == ["bank.update", "bank.update", "bank.export"]
    assert all(len(row["entry_hash"]) == 64 for row in rows)
    export = AuditEntry.objects.filter(action="audit.export").latest("seq")
    assert export.detail == {"filters": {"target_type": "bank"}, "format": "csv"}


def test_export_neutralises_spreadsheet_formulas(auditor: Client, node: Path) -> None:
    record("test.event", actor="system", actor_label="=HYPERLINK(evil)")
    body = b"".join(auditor.get(EXPORT).streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["actor_label"] == "'=HYPERLINK(evil)"


def test_verify_now_reports_an_intact_chain_and_is_audited(auditor: Client, sample: None) -> None:
    response = auditor.post(VERIFY, follow=True)
    assert response.status_code == 200
    assert b"audit chain intact" in response.content
    check = AuditEntry.objects.filter(action="audit.verify").latest("seq")
    assert check.outcome == "ok"
    assert check.detail["intact"] is True
    assert b"intact" in response.content


def test_verify_now_names_the_first_bad_entry(auditor: Client, sample: None) -> None:
    raw_sql("UPDATE audit_auditentry SET actor = 'user:7' WHERE seq = 2")
    response = auditor.post(VERIFY, follow=True)
    assert b"BROKEN at seq 2" in response.content
    check = AuditEntry.objects.filter(action="audit.verify").latest("seq")
    assert check.outcome == "failed"
    assert check.detail["problem_seq"] == 2


def test_verify_needs_post(auditor: Client) -> None:
    assert auditor.get(VERIFY).status_code == 405

"""The intake's batch: several requests' reports in one transaction with their audit
entries, one bad report failing alone, a report twice stored once.

The statements are tested on the database, outside a test transaction, as the server runs
them; the group commit's concurrency is tested in tests/web/test_web_group_commit.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from haven.accounts.models import Agency, ApiToken
from haven.accounts.permissions import Principal, principal_for_token
from haven.audit.models import AuditEntry, AuditHead
from haven.audit.verify import verify_chain
from haven.reports import intake
from haven.reports.models import ReceivedReport
from haven.web.group_commit import Pending


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
    return Pending(intake._Report(row, report_id, 0, principal))


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_every_report_with_its_audit_entry() -> None:
    principal = _principal(Agency.objects.create(name="Batch provider (synthetic)"))
    items = [_item(principal, f"batch-{i}") for i in range(5)]
    intake._group.commit_batch(items)
    assert all(item.done and item.error is None and item.result for item in items)
    stored = {r.pk: r.sender_report_id for r in ReceivedReport.objects.all()}
    assert stored == {item.result: item.payload.report_id for item in items}
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
    intake._group.commit_batch([good[0], bad, good[1]])
    assert isinstance(bad.error, Exception) and bad.result is None and bad.done
    assert all(item.done and item.error is None and item.result for item in good)
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
    intake._group.commit_batch([first, again])
    assert first.result is not None and again.result is None and again.error is None
    assert ReceivedReport.objects.filter(sender_report_id="twice").count() == 1
    assert AuditEntry.objects.filter(action="reports.intake").count() == 1

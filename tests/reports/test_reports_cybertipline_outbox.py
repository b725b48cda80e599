"""A report queued to an NCMEC destination goes through the CyberTipline flow, via the outbox.

The outbox chooses the flow from the destination's kind; the stand-in server follows the
published flow and codes, so this checks the whole path: queue, open the file sealed at
rest, submit, upload, file details, finish, receipt, and a retry after NCMEC's server error.
"""

from __future__ import annotations

import pytest
from tests.accounts.helpers import make_agency
from tests.reports.cybertip_standin import CyberTiplineStandIn
from tests.reports.test_reports_files import doc_with, png

from haven.accounts.permissions import system_principal
from haven.reports import outbox, services
from haven.reports.format import parse_report
from haven.reports.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_an_ncmec_destination_files_the_report_through_the_cybertipline_flow() -> None:
    agency = make_agency("Example Photos (synthetic provider)")
    principal = system_principal(agency.pk, "test")
    content = png(3)
    with CyberTiplineStandIn(username="esp-synthetic", password="pw:with-colon") as ncmec:
        destination = services.add_destination(
            principal,
            name="NCMEC (stand-in)",
            url=ncmec.url,
            token="esp-synthetic:pw:with-colon",
            kind="cybertipline",
        )
        report = parse_report(doc_with("rep-ncmec-1", ("file-1", content)))
        services.queue_report(principal, report, destination, [("file-1", content)])
        ncmec.fail_next("submit", 1000)  # NCMEC's server fails once: retried later
        first = outbox.deliver_due()
        message = OutboxMessage.objects.get()
        assert (message.state, message.attempts) == ("pending", 1)
        assert "1000" in message.last_error and not first.delivered
        message.next_attempt_at = message.next_attempt_at.replace(year=2000)
        message.save()
        outbox.deliver_due()
        message.refresh_from_db()
        assert message.state == "delivered"
        (filed,) = [r for r in ncmec.reports.values() if r.state == "finished"]
        assert [f.content for f in filed.files.values()] == [content]
        assert message.receipt["destination"] == "cybertipline"
        assert message.receipt["report_id"] == str(filed.report_id)
        assert list(message.receipt["files"]) == ["file-1"]

"""Sending a cluster of linked ads as a report, in Chromium.

A provider analyst opens a cluster of the synthetic corpus (`haven.synth.ads`: benign
wording, fictional number ranges), follows "Report this cluster", sees the ads the report
lists, ticks a destination and sends; the page says it was queued and lists the report
under "Reports of this cluster", with the next report id offered for a later send.
"""

from __future__ import annotations

import pytest
from tests.ads.conftest import corpus, ingest_rows
from tests.browser.flows import person, sign_in
from tests.browser.tab import Tab

from haven.accounts.permissions import system_principal
from haven.accounts.roles import Role
from haven.ads.models import Cluster, ClusterReport
from haven.audit.models import AuditEntry
from haven.reports.models import OutboxMessage, OutgoingReport
from haven.reports.services import add_destination

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_provider_analyst_reports_a_cluster(tab: Tab) -> None:
    user, device = person(Role.PROVIDER_ANALYST, "pia-provider")
    system = system_principal(user.agency_id, "test")
    report = ingest_rows(system, corpus())
    assert report.refused == 0 and report.relinked is not None
    cluster = Cluster.objects.filter(agency_id=user.agency_id).order_by("-risk_max", "pk").first()
    assert cluster is not None
    authority = add_destination(
        system, name="National authority", url="https://authority.example", token="hvn_synthetic"
    )
    add_destination(
        system,
        name="NCMEC (test)",
        url="https://cybertip.example",
        token="user:pass",
        kind="cybertipline",
    )
    sign_in(tab, user, device)
    page = tab.page

    tab.goto(f"/ads/clusters/{cluster.pk}/")
    page.get_by_role("link", name="Report this cluster").click()
    page.wait_for_url(f"**/ads/clusters/{cluster.pk}/report/")
    report_id = f"{user.agency_id}-cluster-{cluster.pk}-1"
    assert page.get_by_role("heading", level=1).inner_text() == f"Report cluster {cluster.pk}"
    assert report_id in page.locator("main").inner_text()
    assert page.locator("table.report-ads tbody tr").count() == cluster.size
    assert "This cluster has not been reported yet." in page.locator("main").inner_text()
    assert page.get_by_label("Incident type").input_value() == "child_sex_trafficking"

    page.get_by_label("National authority").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").click()

    assert page.url.endswith(f"/ads/clusters/{cluster.pk}/report/")
    status = page.locator("ul.messages").inner_text()
    assert f"Report {report_id} ({cluster.size} ads) was queued for National authority" in status
    listed = page.locator("table.cluster-reports tbody tr")
    assert listed.count() == 1
    assert listed.first.locator("th").inner_text() == report_id
    assert "National authority: pending" in listed.first.inner_text()
    assert f"{user.agency_id}-cluster-{cluster.pk}-2" in page.locator("main").inner_text()

    sent = OutgoingReport.objects.get(report_id=report_id)
    assert sent.destination == authority and len(sent.payload["ads"]) == cluster.size
    assert OutboxMessage.objects.get(report=sent).state == "pending"
    assert ClusterReport.objects.get().report_id == report_id
    assert AuditEntry.objects.filter(action="ads.cluster.report").count() == 1
    assert AuditEntry.objects.filter(action="ads.cluster.report_view").count() == 2

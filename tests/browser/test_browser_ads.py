"""Ad networks in the browser: the clusters list, a cluster's page and an ad's page.

A small synthetic corpus (`haven.synth.ads`: benign wording, fictional number ranges) is
ingested for an agency first. The walk: clusters ordered by risk with their chart,
filtered by a phone and by a reading; the top cluster's network picture, timeline and
ads; an ad opened from the network, its entities marked and its text intact (no
character lost to the highlighting). Reach and permission: another agency's analyst gets
a 404 page for the cluster, a case worker sees no "Ad networks" link and gets a 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.accounts.helpers import make_agency
from tests.ads.conftest import corpus, ingest_rows
from tests.browser.flows import nav_labels, person, sign_in
from tests.browser.tab import Tab

from haven.accounts.models import Agency
from haven.accounts.permissions import system_principal
from haven.accounts.roles import Role
from haven.ads.models import Ad, AdEntity, Cluster
from haven.audit.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ingest(agency: Agency) -> list[Cluster]:
    """The synthetic corpus, ingested and linked for `agency`; its clusters by risk."""
    report = ingest_rows(system_principal(agency.pk, "test"), corpus())
    assert report.refused == 0, report.problems
    assert report.relinked is not None and report.relinked.clusters >= 5
    return list(Cluster.objects.filter(agency=agency).order_by("-risk_max", "-size", "pk"))


def _cluster_ids(page: Any) -> list[int]:
    """The clusters the list shows, in order (from each row's link)."""
    hrefs = page.locator("table.clusters tbody tr th a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [int(href.rstrip("/").rsplit("/", 1)[1]) for href in hrefs]


def _chart_values(page: Any, chart_id: str) -> list[float]:
    chart = page.locator(f'svg.bar-chart[aria-labelledby="{chart_id}-title {chart_id}-desc"]')
    assert chart.count() == 1, f"no chart {chart_id}"
    values = chart.locator("rect.bar").evaluate_all(
        "bars => bars.map(b => b.getAttribute('data-value'))"
    )
    return [float(value.replace(",", "")) for value in values]


def _entity_label(entity: dict[str, Any]) -> str:
    """What the ad page puts in a mark's title for an entity (one label of several)."""
    return f"{entity['type']}: {entity['normalized']}" + (
        " (obscured)" if entity["obscured"] else ""
    )


def test_clusters_are_ranked_filtered_and_lead_to_a_marked_up_ad(tab: Tab) -> None:
    user, device = person(Role.AUTHORITY_ANALYST, "ana-ads")
    clusters = _ingest(user.agency)
    sign_in(tab, user, device)
    page = tab.page

    # The list: reached from the navigation, every cluster in order of risk, with its chart.
    assert "Ad networks" in nav_labels(page)
    page.locator("nav[aria-label=Main]").get_by_role("link", name="Ad networks").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ad networks"
    risks = [
        float(r)
        for r in page.locator("table.clusters tbody tr[data-risk]").evaluate_all(
            "rows => rows.map(r => r.getAttribute('data-risk'))"
        )
    ]
    assert len(risks) == len(clusters)
    assert risks == sorted(risks, reverse=True)
    assert risks[0] > risks[-1]
    assert _cluster_ids(page) == [c.pk for c in clusters]
    assert sum(_chart_values(page, "risk-chart")) == len(clusters)

    # Filtered by a phone the top cluster's row shows: exactly the clusters holding it.
    top = clusters[0]
    phone = page.locator("table.clusters tbody tr").first.locator("code").first.inner_text()
    assert phone in top.summary["phones"]
    page.get_by_label("Find").fill(phone)
    page.get_by_role("button", name="Filter").click()
    holding = set(
        AdEntity.objects.filter(type="phone", normalized=phone).values_list(
            "ad__cluster_id", flat=True
        )
    )
    shown = _cluster_ids(page)
    assert top.pk in shown
    assert set(shown) == holding

    # Filtered by a reading (and a size): only those clusters, still in order of risk.
    page.get_by_label("Find").fill("")
    page.get_by_label("Reading").select_option("unclear")
    page.get_by_label("At least this many ads").fill("3")
    page.get_by_role("button", name="Filter").click()
    wanted = [c.pk for c in clusters if c.reading == "unclear" and c.size >= 3]
    assert wanted, "the corpus should hold an unclear cluster of 3 ads or more"
    assert _cluster_ids(page) == wanted
    badges = page.locator("table.clusters tbody .badge[class*=reading-]").all_inner_texts()
    assert badges and set(badges) == {"unclear"}

    # The top cluster's page: network picture, timeline, ads and links.
    page.get_by_role("link", name="Clear").click()
    page.locator("table.clusters tbody tr").first.get_by_role("link").click()
    assert page.url.endswith(f"/ads/clusters/{top.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Cluster {top.pk}")
    assert "not a verdict" in page.locator("main").inner_text()
    network = page.locator("svg.network")
    ads_in_cluster = {ad.pk: ad for ad in Ad.objects.filter(cluster=top)}
    assert len(ads_in_cluster) == top.size >= 3
    assert network.locator("circle.node-ad").count() == min(top.size, 120)
    contacts = network.locator("g.node-contact")
    assert contacts.locator("rect").count() >= 1
    assert phone in contacts.locator("text").all_text_contents()
    assert network.locator("line.edge").count() >= top.size - 1  # a connected picture
    network_links = network.locator("a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert set(network_links) <= {f"/ads/{pk}/" for pk in ads_in_cluster}
    assert sum(_chart_values(page, "timeline-chart")) == top.size
    table_rows = page.locator("table.ads tbody tr")
    assert table_rows.count() == min(top.size, 100)
    scores = [float(s) for s in table_rows.locator("td:nth-child(2)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    assert page.locator("table.links tbody tr").count() >= 1
    assert AuditEntry.objects.filter(action="ads.cluster.view", target_id=str(top.pk)).exists()

    # An ad opened from the network picture: the highest-scored circle not covered by another.
    network.scroll_into_view_if_needed()
    reachable = network.locator("a").evaluate_all(
        """links => links.filter(a => {
            const c = a.querySelector('circle').getBoundingClientRect();
            const hit = document.elementFromPoint(c.x + c.width / 2, c.y + c.height / 2);
            return hit !== null && a.contains(hit);
        }).map(a => a.getAttribute('href'))"""
    )
    assert reachable, "no ad circle in the network can be clicked"
    ad = max(
        (ads_in_cluster[int(href.strip("/").rsplit("/", 1)[1])] for href in reachable),
        key=lambda a: (len(a.entities), a.score),
    )
    network.locator(f'a[href="/ads/{ad.pk}/"] circle').click()
    page.wait_for_url(f"**/ads/{ad.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Ad {ad.external_id}")

    # The text is the ad's text, character for character, with every entity marked.
    text = page.locator(".ad-text")
    assert text.evaluate("el => el.textContent") == ad.text
    marks = text.locator("mark").evaluate_all(
        "marks => marks.map(m => [m.className, m.getAttribute('title'), m.textContent])"
    )
    assert ad.entities and any(e["type"] == "phone" for e in ad.entities)
    for entity in ad.entities:
        label = _entity_label(entity)
        assert entity["value"] == ad.text[entity["span"][0] : entity["span"][1]]
        same = [e for e in ad.entities if _entity_label(e) == label]
        expected = "".join(e["value"] for e in sorted(same, key=lambda e: e["span"][0]))
        marked = "".join(
            content
            for css, title, content in marks
            if f"entity-{entity['type']}" in css.split() and label in title.split("; ")
        )
        assert marked == expected, f"{label}: marked {marked!r}, expected {expected!r}"
    for hit in ad.indicators:
        assert any(f"grade-{hit['grade']}" in css.split() for css, _, _ in marks), hit["id"]
    assert AuditEntry.objects.filter(action="ads.ad.view", target_id=str(ad.pk)).exists()


def test_another_agencys_analyst_gets_a_not_found_page_for_the_cluster(tab: Tab) -> None:
    clusters = _ingest(make_agency("Hotline B"))
    top = clusters[0]
    ad = Ad.objects.filter(cluster=top).first()
    assert ad is not None
    user, device = person(Role.AUTHORITY_ANALYST, "otto-outside")
    assert user.agency_id != top.agency_id
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/ads/")
    assert page.locator("table.clusters").count() == 0
    assert "No clusters yet" in page.locator("main").inner_text()
    for path in (f"/ads/clusters/{top.pk}/", f"/ads/{ad.pk}/"):
        response = tab.goto(path)
        assert response.status == 404, path
        assert page.get_by_role("heading", level=1).inner_text() == "Not found"
        body = page.locator("main").inner_text()
        assert top.summary["phones"][0] not in body
        assert ad.external_id not in body
    assert not AuditEntry.objects.filter(action__in=["ads.cluster.view", "ads.ad.view"]).exists()


def test_a_case_worker_sees_no_ad_networks_and_is_refused_them(tab: Tab) -> None:
    user, device = person(Role.CASE_WORKER, "cass-case")
    top = _ingest(user.agency)[0]
    sign_in(tab, user, device)
    page = tab.page

    assert "Ad networks" not in nav_labels(page)
    for path in ("/ads/", f"/ads/clusters/{top.pk}/"):
        response = tab.goto(path)
        assert response.status == 403, path
        assert page.get_by_role("heading", level=1).inner_text() == "Forbidden"
        assert top.summary["phones"][0] not in page.locator("main").inner_text()
    assert not AuditEntry.objects.filter(action="ads.cluster.view").exists()

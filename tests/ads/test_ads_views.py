"""The clusters list, a cluster's page and an ad's page, through Django's test client.

Every page is within reach or a 404; the list is ordered by risk; a phone typed as the
ad wrote it (spelled out) finds its cluster; the ad page marks every entity and indicator
span without changing the text; opening a cluster or an ad is audited.
"""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import strip_tags
from tests.accounts.helpers import make_user, signed_in_client
from tests.ads.conftest import corpus, jsonl

from haven.accounts.models import Agency
from haven.accounts.roles import Role
from haven.ads import services
from haven.ads.forms import PAGE_INGEST_BYTES
from haven.ads.models import Ad, AdEntity, Cluster
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(agency: Agency, ingested: services.IngestReport) -> Client:
    return signed_in_client(Client(), make_user(Role.AUTHORITY_ANALYST, agency))


def _risks(page: str) -> list[float]:
    return [float(x) for x in re.findall(r'<tr data-risk="([0-9.]+)"', page)]


def test_cluster_list_is_sorted_by_risk_and_links_each_cluster(browser: Client) -> None:
    response = browser.get("/ads/")
    assert response.status_code == 200
    page = response.content.decode()
    risks = _risks(page)
    assert len(risks) == min(Cluster.objects.count(), 50) >= 5
    assert risks == sorted(risks, reverse=True)
    first = Cluster.objects.order_by("-risk_max", "-size", "pk").first()
    assert first is not None and f'href="/ads/clusters/{first.pk}/"' in page
    assert 'id="risk-chart-title"' in page


def test_a_spelled_out_phone_finds_the_cluster_that_wrote_it(browser: Client) -> None:
    cluster = Cluster.objects.exclude(summary__phones=[]).order_by("-size").first()
    assert cluster is not None
    phone = cluster.summary["phones"][0]  # like +12025550142
    assert phone.startswith("+1"), phone
    digits = phone[2:]
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    spelled = " ".join(words[int(d)] for d in digits)
    for query in (phone, spelled):
        page = browser.get("/ads/", {"q": query}).content.decode()
        assert f'href="/ads/clusters/{cluster.pk}/"' in page, query
        for pk in re.findall(r'<th scope="row"><a href="/ads/clusters/(\d+)/"', page):
            holding = AdEntity.objects.filter(ad__cluster_id=int(pk), normalized=phone)
            assert holding.exists(), (query, pk)


def test_filters_narrow_the_list(browser: Client) -> None:
    page = browser.get("/ads/", {"reading": "spam-like"}).content.decode()
    shown = {int(pk) for pk in re.findall(r'<th scope="row"><a href="/ads/clusters/(\d+)/"', page)}
    assert shown == set(
        Cluster.objects.filter(reading="spam-like").values_list("pk", flat=True)[:50]
    )
    page = browser.get("/ads/", {"min_size": 10}).content.decode()
    shown = {int(pk) for pk in re.findall(r'<th scope="row"><a href="/ads/clusters/(\d+)/"', page)}
    assert shown == set(Cluster.objects.filter(size__gte=10).values_list("pk", flat=True))
    assert browser.get("/ads/", {"min_size": "lots"}).status_code == 400


def test_the_cluster_page_shows_its_network_timeline_and_ads(browser: Client) -> None:
    cluster = Cluster.objects.order_by("-size").first()
    assert cluster is not None
    response = browser.get(f"/ads/clusters/{cluster.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="node node-ad') == min(cluster.size, 120)
    assert 'class="node node-contact' in page or cluster.summary["template"]
    assert 'id="timeline-chart-title"' in page
    for ad in cluster.ads.order_by("-score")[:5]:
        assert f'href="/ads/{ad.pk}/"' in page
    for phone in cluster.summary["phones"]:
        assert phone in page
    entry = AuditEntry.objects.filter(action="ads.cluster.view").latest("pk")
    assert entry.target_id == str(cluster.pk)


def test_the_ad_page_marks_every_span_and_keeps_the_text_whole(browser: Client) -> None:
    ad = next(a for a in Ad.objects.order_by("-score") if a.entities and a.indicators)
    response = browser.get(f"/ads/{ad.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    body = re.search(r'<div class="ad-text">(.*?)</div>', page, re.S)
    assert body is not None
    assert html.unescape(strip_tags(body.group(1))) == ad.text
    marked = " ".join(
        html.unescape(m) for m in re.findall(r"<mark [^>]*>(.*?)</mark>", body.group(1))
    )
    for entity in ad.entities:
        assert entity["value"] in ad.text
        assert f"{entity['type']}: {entity['normalized']}" in html.unescape(body.group(1))
    assert marked
    for hit in ad.indicators:
        assert f"grade-{hit['grade']}" in body.group(1)
    entry = AuditEntry.objects.filter(action="ads.ad.view").latest("pk")
    assert entry.target_id == str(ad.pk)


def test_the_ad_page_counts_other_ads_with_the_same_phone(browser: Client) -> None:
    ad = next(
        a
        for a in Ad.objects.exclude(cluster=None).order_by("pk")
        if any(e["type"] == "phone" for e in a.entities)
        and a.cluster is not None
        and len(a.cluster.summary["phones"]) == 1
        and a.cluster.size > 2
    )
    phone = next(e["normalized"] for e in ad.entities if e["type"] == "phone")
    others = services.ads_sharing(services_principal(ad), "phone", phone).exclude(pk=ad.pk).count()
    page = browser.get(f"/ads/{ad.pk}/").content.decode()
    assert f">{others}</a>" in page and others >= 1


def services_principal(ad: Ad) -> services.Principal:
    from haven.accounts.permissions import system_principal

    return system_principal(ad.agency_id)


def test_another_agencys_cluster_and_ad_are_404(
    other_agency: Agency, ingested: services.IngestReport
) -> None:
    outsider = signed_in_client(Client(), make_user(Role.AUTHORITY_ANALYST, other_agency))
    cluster = Cluster.objects.first()
    ad = Ad.objects.first()
    assert cluster is not None and ad is not None
    assert outsider.get(f"/ads/clusters/{cluster.pk}/").status_code == 404
    assert outsider.get(f"/ads/{ad.pk}/").status_code == 404
    page = outsider.get("/ads/").content.decode()
    assert _risks(page) == [] and "No clusters yet" in page


def test_roles_without_ads_read_get_403(agency: Agency, ingested: services.IngestReport) -> None:
    worker = signed_in_client(Client(), make_user(Role.CASE_WORKER, agency))
    assert worker.get("/ads/").status_code == 403
    page = worker.get("/dashboard/").content.decode()
    assert "Ad networks" not in page


def test_an_analyst_ingests_a_file_from_the_page(agency: Agency) -> None:
    analyst = signed_in_client(Client(), make_user(Role.AUTHORITY_ANALYST, agency))
    assert 'href="/ads/ingest/"' in analyst.get("/ads/").content.decode()
    data = jsonl(corpus()[:60]) + b'{"id": "bad", "text": "x", "region": "XX"}\n'
    response = analyst.post(
        "/ads/ingest/", {"file": SimpleUploadedFile("crawl.jsonl", data), "region": "us"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<dt>Added</dt><dd>60</dd>" in page and "line 61, region" in page
    assert Ad.objects.filter(agency=agency).count() == 60 and Cluster.objects.exists()
    entry = AuditEntry.objects.get(action="ads.ingest")
    assert entry.actor.startswith("user:") and entry.detail["refused"] == 1
    assert "crawl.jsonl" in analyst.get("/ads/ingest/").content.decode()  # recent ingests


@pytest.mark.parametrize(
    ("name", "data", "extra", "message"),
    [
        ("ads.txt", b"{}", {}, "--format"),
        ("ads.csv", b"name,body\nx,y\n", {}, "id and text"),
        ("ads.jsonl", b"{}", {"region": "XX"}, "ISO country code"),
        ("big.jsonl", b" " * (PAGE_INGEST_BYTES + 1), {}, "haven text ingest"),
    ],
)
def test_a_bad_upload_is_a_400_form_that_changes_nothing(
    agency: Agency, name: str, data: bytes, extra: dict[str, str], message: str
) -> None:
    analyst = signed_in_client(Client(), make_user(Role.AUTHORITY_ANALYST, agency))
    response = analyst.post("/ads/ingest/", {"file": SimpleUploadedFile(name, data), **extra})
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Ad.objects.exists()


def test_focal_points_read_clusters_but_cannot_ingest(
    agency: Agency, ingested: services.IngestReport
) -> None:
    focal = signed_in_client(Client(), make_user(Role.FOCAL_POINT, agency))
    page = focal.get("/ads/").content.decode()
    assert _risks(page) and 'href="/ads/ingest/"' not in page
    assert focal.get("/ads/ingest/").status_code == 403


def test_the_dashboard_counts_the_clusters_in_reach(
    browser: Client, other_agency: Agency, ingested: services.IngestReport
) -> None:
    page = browser.get("/dashboard/").content.decode()
    card = re.search(r'<div class="card" id="card-ads">(.*?)</div>', page, re.S)
    assert card is not None
    total = Cluster.objects.count()
    high = Cluster.objects.filter(risk_max__gte=70).count()
    assert f'<p class="figure">{total}</p>' in card.group(1)
    assert f"{high} with an ad scoring 70 or more" in card.group(1)
    outsider = signed_in_client(Client(), make_user(Role.FOCAL_POINT, other_agency))
    card = re.search(
        r'id="card-ads">(.*?)</div>', outsider.get("/dashboard/").content.decode(), re.S
    )
    assert card is not None and '<p class="figure">0</p>' in card.group(1)

"""A cluster of linked ads sent as a report: built valid, checked, queued, received.

The corpus is `haven.synth.ads` (benign wording, fictional number ranges), ingested for
agency A. The report must validate against the published JSON Schema and the pydantic
model and list every ad with its E.164 phones and the cluster's id; the node keeps its
report id, its ads and its synthetic flag whatever the analyst edits; a send commits the
outgoing reports, their outbox messages, the `ClusterReport` row and the audit entry
together or not at all; the authority's intake (this node, in process) receives it.
"""

from __future__ import annotations

import copy
import io
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
from django.test import Client
from tests.accounts.helpers import make_user, signed_in_client
from tests.banks.helpers import principal_of_role

from haven.accounts.models import Agency, ApiToken
from haven.accounts.permissions import PermissionDenied, Principal, system_principal
from haven.accounts.roles import Role
from haven.ads import reporting, services
from haven.ads.models import Ad, Cluster, ClusterReport
from haven.ads.reporting import ClusterReportError, build_cluster_report, send_cluster_report
from haven.audit.models import AuditEntry
from haven.detection.report_forms import DraftForm
from haven.reports import outbox
from haven.reports import services as report_services
from haven.reports.format import parse_report, report_json
from haven.reports.intake import receiving_agency
from haven.reports.models import Destination, OutboxMessage, OutgoingReport, ReceivedReport

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "haven-report-1.json"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@pytest.fixture
def provider(agency: Agency) -> Principal:
    return principal_of_role(Role.PROVIDER_ANALYST, agency)


@pytest.fixture
def cluster(ingested: services.IngestReport, agency: Agency) -> Cluster:
    """Agency A's largest cluster, with some of its ads given web addresses."""
    found = Cluster.objects.filter(agency=agency).order_by("-size", "pk").first()
    assert found is not None and found.size >= 3
    ads = list(Ad.objects.filter(cluster=found).order_by("pk"))
    ads[0].url = "https://ads.example/listing/1"
    ads[1].url = "https://ads.example/listing/1"  # the same page twice: one location
    ads[2].url = "ftp://ads.example/listing/3"  # not http(s): no URL, no location
    for ad in ads[:3]:
        ad.save()
    return found


@pytest.fixture
def destinations(system: Principal) -> list[Destination]:
    return [
        report_services.add_destination(
            system, name=name, url=url, token="hvn_synthetic_token", kind=kind
        )
        for name, url, kind in (
            ("National authority", "https://authority.example", "haven"),
            ("NCMEC (test account)", "https://cybertip.example", "cybertipline"),
        )
    ]


def _counts() -> tuple[int, int, int, int]:
    return (
        OutgoingReport.objects.count(),
        OutboxMessage.objects.count(),
        ClusterReport.objects.count(),
        AuditEntry.objects.filter(action="ads.cluster.report").count(),
    )


def _phones_of(ad: Ad) -> list[str]:
    found: list[str] = []
    for entity in ad.entities:
        if entity["type"] == "phone" and entity["normalized"] not in found:
            found.append(entity["normalized"])
    return found


# --- building ----------------------------------------------------------------------------


def test_the_report_is_valid_and_lists_every_ad_with_its_phones(
    provider: Principal, cluster: Cluster, agency: Agency
) -> None:
    draft = build_cluster_report(provider, cluster)
    validator = jsonschema_rs.Draft202012Validator(
        json.loads(SCHEMA.read_text(encoding="utf-8")), validate_formats=True
    )
    assert validator.is_valid(draft), list(validator.iter_errors(draft))[:3]
    assert report_json(parse_report(draft)) == draft

    assert draft["report_id"] == f"{agency.pk}-cluster-{cluster.pk}-1"
    assert draft["incident"]["type"] == "child_sex_trafficking"
    assert cluster.last_posted is not None
    assert parse_report(draft).incident.occurred_at == cluster.last_posted
    ads = {ad.external_id: ad for ad in Ad.objects.filter(cluster=cluster)}
    listed = {entry["ad_id"]: entry for entry in draft["ads"]}
    assert set(listed) == set(ads) and len(draft["ads"]) == cluster.size
    with_phones = 0
    for ad_id, entry in listed.items():
        ad = ads[ad_id]
        assert entry["cluster_id"] == str(cluster.pk)
        assert entry["text"] == ad.text
        assert entry.get("phones", []) == _phones_of(ad)[:20]
        assert all(E164.match(p) for p in entry.get("phones", []))
        with_phones += bool(entry.get("phones"))
        assert parse_report(draft).ads[0].posted_at is not None
    assert with_phones >= cluster.size // 2, "the corpus's ads carry phones"
    posted = [entry["posted_at"] for entry in draft["ads"]]
    assert posted == sorted(posted)  # oldest first

    assert draft["locations"] == [{"kind": "ad", "url": "https://ads.example/listing/1"}]
    assert listed[min(ads, key=lambda k: ads[k].pk)]["url"] == "https://ads.example/listing/1"
    assert all("ftp://" not in entry.get("url", "") for entry in draft["ads"])
    info = draft["additional_info"]
    assert f"A cluster of {cluster.size} linked ads (cluster {cluster.pk})" in info
    assert f"Reading: {cluster.reading}." in info and "Engine risk: highest ad score" in info
    assert info.endswith("not proof: a reviewer should read the ads.")
    top = cluster.summary["indicator_profile"][0][0]
    assert re.search(rf"{top} \(grade [VHXN], ", info), info
    assert draft["reporter"]["contact"]["email"]


def test_the_synthetic_flag_follows_the_ads(provider: Principal, cluster: Cluster) -> None:
    assert build_cluster_report(provider, cluster)["synthetic"] is True
    Ad.objects.filter(cluster=cluster).update(synthetic=False)
    assert build_cluster_report(provider, cluster)["synthetic"] is False
    one = Ad.objects.filter(cluster=cluster).order_by("pk").last()
    assert one is not None
    Ad.objects.filter(pk=one.pk).update(synthetic=True)
    draft = build_cluster_report(provider, cluster)
    assert draft["synthetic"] is True
    assert "synthetic (demonstration data)" in draft["additional_info"]


def test_a_cluster_above_the_format_bound_sends_its_highest_scoring_ads(
    provider: Principal, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reporting, "MAX_ADS", 2)
    ads = list(Ad.objects.filter(cluster=cluster).order_by("-score", "posted_at", "pk"))
    draft = build_cluster_report(provider, cluster)
    assert {e["ad_id"] for e in draft["ads"]} == {ads[0].external_id, ads[1].external_id}
    said = f"The cluster has {len(ads)} ads; the 2 with the highest scores are listed."
    assert said in draft["additional_info"]


def test_texts_and_ids_are_cut_to_what_the_format_carries(
    provider: Principal, cluster: Cluster
) -> None:
    ad = Ad.objects.filter(cluster=cluster).order_by("pk").first()
    assert ad is not None
    ad.text = "Synthetic\x07 ad \x1b" + "x" * 12_000  # (PostgreSQL refuses NUL in text)
    ad.external_id = "synth\tid"
    ad.save()
    draft = build_cluster_report(provider, cluster)
    entry = next(e for e in draft["ads"] if e["ad_id"] == "synth id")
    assert len(entry["text"]) == reporting.MAX_AD_TEXT == 10_000
    assert entry["text"].startswith("Synthetic  ad  xx")
    assert report_json(parse_report(draft)) == draft


def test_report_ids_count_the_reports_sent_before(
    provider: Principal, cluster: Cluster, agency: Agency, destinations: list[Destination]
) -> None:
    prefix = f"{agency.pk}-cluster-{cluster.pk}-"
    first = send_cluster_report(provider, cluster, destinations[:1])
    assert [row.report_id for row in first] == [f"{prefix}1"]
    assert build_cluster_report(provider, cluster)["report_id"] == f"{prefix}2"
    second = send_cluster_report(provider, cluster, destinations[:1])
    assert second[0].report_id == f"{prefix}2"
    assert reporting.next_report_id(cluster) == f"{prefix}3"
    assert list(ClusterReport.objects.values_list("report_id", flat=True)) == [
        f"{prefix}2",
        f"{prefix}1",
    ]


# --- sending -------------------------------------------------------------------------------


def test_a_send_queues_each_destination_with_its_row_and_audit_entry(
    provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    before = AuditEntry.objects.filter(action="reports.queue").count()
    queued = send_cluster_report(provider, cluster, destinations)
    assert {row.destination.pk for row in queued} == {d.pk for d in destinations}
    assert _counts() == (2, 2, 1, 1)
    assert AuditEntry.objects.filter(action="reports.queue").count() == before + 2
    row = ClusterReport.objects.get()
    assert row.cluster == cluster and row.ad_count == cluster.size
    assert row.created_by == provider.actor and row.agency_id == provider.agency_id
    for outgoing in queued:
        assert outgoing.report_id == row.report_id
        assert len(outgoing.payload["ads"]) == cluster.size
        assert OutboxMessage.objects.get(report=outgoing).state == "pending"
    entry = AuditEntry.objects.get(action="ads.cluster.report")
    assert entry.target_id == str(cluster.pk) and entry.detail["report_id"] == row.report_id
    assert entry.detail["ads"] == cluster.size
    assert sorted(entry.detail["destinations"]) == sorted(d.name for d in destinations)


def test_an_edit_of_the_report_wide_fields_is_sent(
    provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    draft = build_cluster_report(provider, cluster)
    draft["additional_info"] = "Checked by an analyst (synthetic)."
    draft["incident"]["escalation"] = {"reason": "Many cities in a week (synthetic)."}
    (queued,) = send_cluster_report(provider, cluster, destinations[:1], draft)
    assert queued.payload["additional_info"] == "Checked by an analyst (synthetic)."
    assert queued.payload["incident"]["escalation"]["reason"].startswith("Many cities")


@pytest.mark.parametrize("change", ["drop_ad", "add_ad", "report_id", "synthetic", "ad_text"])
def test_an_edit_of_what_the_node_decides_is_refused(
    provider: Principal, cluster: Cluster, destinations: list[Destination], change: str
) -> None:
    draft = build_cluster_report(provider, cluster)
    changed = copy.deepcopy(draft)
    if change == "drop_ad":
        changed["ads"] = changed["ads"][1:]
    elif change == "add_ad":
        changed["ads"].append({"ad_id": "synth-extra", "text": "Synthetic extra ad."})
    elif change == "report_id":
        changed["report_id"] = "my-own-id"
    elif change == "synthetic":
        changed["synthetic"] = False
    else:
        changed["ads"][0]["text"] = "Another text (synthetic)."
    with pytest.raises(ClusterReportError) as refused:
        send_cluster_report(provider, cluster, destinations, changed)
    path = {"drop_ad": "ads", "add_ad": "ads", "ad_text": "ads"}.get(change, change)
    assert [p for p, _ in refused.value.problems] == [path]
    assert _counts() == (0, 0, 0, 0)


def test_an_invalid_edit_is_refused_with_its_paths(
    provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    draft = build_cluster_report(provider, cluster)
    draft["reporter"]["contact"]["email"] = "not an address"
    with pytest.raises(ClusterReportError) as refused:
        send_cluster_report(provider, cluster, destinations, draft)
    assert [p for p, _ in refused.value.problems] == ["reporter.contact.email"]
    assert _counts() == (0, 0, 0, 0)


def test_a_stale_draft_or_an_id_already_queued_is_refused(
    provider: Principal, cluster: Cluster, agency: Agency, destinations: list[Destination]
) -> None:
    draft = build_cluster_report(provider, cluster)
    send_cluster_report(provider, cluster, destinations[:1], draft)
    with pytest.raises(ClusterReportError) as stale:  # the page of before the first send
        send_cluster_report(provider, cluster, destinations[1:], draft)
    assert [p for p, _ in stale.value.problems] == ["report_id"]
    assert _counts() == (1, 1, 1, 1)

    # An outgoing report already holds the next id (queued by hand, say): refused, unchanged.
    taken = build_cluster_report(provider, cluster)
    report_services.queue_report(provider, parse_report(taken), destinations[1])
    with pytest.raises(ClusterReportError, match="was queued before"):
        send_cluster_report(provider, cluster, destinations[1:])
    assert _counts() == (2, 2, 1, 1)


def test_nothing_is_kept_when_the_queue_fails_after_writing(
    provider: Principal,
    cluster: Cluster,
    destinations: list[Destination],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = reporting.queue_report_to

    def queue_then_fail(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        assert OutgoingReport.objects.count() == 2  # written, not yet committed
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(reporting, "queue_report_to", queue_then_fail)
    with pytest.raises(RuntimeError):
        send_cluster_report(provider, cluster, destinations)
    assert _counts() == (0, 0, 0, 0)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise report_services.ReportError("destination 'National authority' is disabled")

    monkeypatch.setattr(reporting, "queue_report_to", refuse)
    with pytest.raises(ClusterReportError, match="disabled"):
        send_cluster_report(provider, cluster, destinations)
    assert _counts() == (0, 0, 0, 0)


def test_nothing_is_kept_when_the_audit_entry_fails(
    provider: Principal,
    cluster: Cluster,
    destinations: list[Destination],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(reporting, "record", fail)
    with pytest.raises(RuntimeError):
        send_cluster_report(provider, cluster, destinations)
    assert _counts() == (0, 0, 0, 0)


def test_sending_needs_reports_send_and_a_destination(
    agency: Agency, cluster: Cluster, destinations: list[Destination]
) -> None:
    reader = principal_of_role(Role.AUTHORITY_ANALYST, agency)  # ads:read, not reports:send
    assert build_cluster_report(reader, cluster)["ads"]
    with pytest.raises(PermissionDenied):
        send_cluster_report(reader, cluster, destinations)
    with pytest.raises(ClusterReportError, match="destination"):
        send_cluster_report(principal_of_role(Role.PROVIDER_ANALYST, agency), cluster, [])
    assert _counts() == (0, 0, 0, 0)


# --- the receiving side --------------------------------------------------------------------


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _wire(request: urllib.request.Request, timeout: float = 0) -> _Answer:
    """`urlopen` for the outbox: the request goes to this node's own intake, in process."""
    data = request.data if isinstance(request.data, bytes) else b""
    response = Client().generic(
        request.get_method(),
        urlsplit(request.full_url).path,
        data,
        content_type=request.get_header("Content-type", ""),
        headers={"Authorization": request.get_header("Authorization", "")},
    )
    if response.status_code >= 400:
        raise urllib.error.HTTPError(
            request.full_url, response.status_code, "error", {}, io.BytesIO(response.content)
        )
    return _Answer(response.content)


def test_the_authority_intake_receives_the_cluster_with_its_ads(
    provider: Principal,
    system: Principal,
    cluster: Cluster,
    agency: Agency,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = ApiToken.issue("Hotline A intake", ["reports:submit"], agency)
    destination = report_services.add_destination(
        system, name="National authority", url="https://authority.example", token=token
    )
    (queued,) = send_cluster_report(provider, cluster, [destination])
    monkeypatch.setattr(urllib.request, "urlopen", _wire)
    run = outbox.deliver_due()
    assert (run.delivered, run.failed) == (1, 0), run.errors
    received = ReceivedReport.objects.get(sender_report_id=queued.report_id)
    assert received.agency == receiving_agency() and received.sender == agency
    assert received.synthetic is True
    assert received.payload["ads"] == queued.payload["ads"]
    assert {a["ad_id"] for a in received.payload["ads"]} == set(
        Ad.objects.filter(cluster=cluster).values_list("external_id", flat=True)
    )
    message = OutboxMessage.objects.get(report=queued)
    assert message.state == "delivered" and message.receipt["report_id"] == queued.report_id


# --- the page ------------------------------------------------------------------------------


def _page_client(role: Role, agency: Agency, *, csrf: bool = False) -> Client:
    return signed_in_client(Client(enforce_csrf_checks=csrf), make_user(role, agency))


def _form_data(draft: dict[str, Any], destinations: list[Destination]) -> dict[str, Any]:
    data = {k: v for k, v in DraftForm.initial_of(draft).items() if v not in ("", [])}
    data.update(action="send", destination=[str(d.pk) for d in destinations])
    return data


def test_the_page_shows_the_report_and_sends_it(
    agency: Agency, provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    browser = _page_client(Role.PROVIDER_ANALYST, agency)
    detail = browser.get(f"/ads/clusters/{cluster.pk}/").content.decode()
    assert f'href="/ads/clusters/{cluster.pk}/report/"' in detail
    assert "Report this cluster" in detail

    url = f"/ads/clusters/{cluster.pk}/report/"
    response = browser.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    draft = build_cluster_report(provider, cluster)
    assert draft["report_id"] in page and "csrfmiddlewaretoken" in page
    assert page.count('<tr>\n        <th scope="row"><a href="/ads/') == cluster.size
    assert "&lt;report" in page or "&lt;?xml" in page  # the XML preview, escaped
    assert f'id="destination-{destinations[0].pk}"' in page
    assert "has not been reported yet" in page
    view = AuditEntry.objects.get(action="ads.cluster.report_view")
    assert view.target_id == str(cluster.pk)

    sent = browser.post(url, _form_data(draft, destinations[:1]), follow=True)
    assert sent.status_code == 200
    page = sent.content.decode()
    assert f"Report {draft['report_id']} ({cluster.size} ads) was queued for" in page
    assert f'<th scope="row" class="mono">{draft["report_id"]}</th>' in page
    assert _counts() == (1, 1, 1, 1)
    assert f"-cluster-{cluster.pk}-2" in page  # the next report's id


def test_the_page_refuses_a_bad_send_and_changes_nothing(
    agency: Agency, provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    browser = _page_client(Role.PROVIDER_ANALYST, agency)
    url = f"/ads/clusters/{cluster.pk}/report/"
    draft = build_cluster_report(provider, cluster)
    data = _form_data(draft, [])
    response = browser.post(url, data)
    assert response.status_code == 400 and response["Cache-Control"] == "no-store"
    assert "choose at least one destination" in response.content.decode()
    data = _form_data(draft, destinations)
    data["contact_email"] = "nobody"
    response = browser.post(url, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "<code>reporter.contact.email</code>" in page and "Nothing was queued" in page
    data = _form_data(draft, destinations)
    data["destination"] = ["987654321"]
    assert browser.post(url, data).status_code == 400
    assert browser.post(url, {"action": "other"}).status_code == 400
    assert _counts() == (0, 0, 0, 0)


def test_the_form_needs_its_csrf_token(
    agency: Agency, provider: Principal, cluster: Cluster, destinations: list[Destination]
) -> None:
    browser = _page_client(Role.PROVIDER_ANALYST, agency, csrf=True)
    draft = build_cluster_report(provider, cluster)
    response = browser.post(f"/ads/clusters/{cluster.pk}/report/", _form_data(draft, destinations))
    assert response.status_code == 403
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("role", [Role.FOCAL_POINT, Role.AUDITOR, Role.AUTHORITY_ANALYST])
def test_readers_without_reports_send_get_403_and_no_link(
    agency: Agency, cluster: Cluster, destinations: list[Destination], role: Role
) -> None:
    browser = _page_client(role, agency)
    assert "Report this cluster" not in browser.get(f"/ads/clusters/{cluster.pk}/").content.decode()
    url = f"/ads/clusters/{cluster.pk}/report/"
    assert browser.get(url).status_code == 403
    assert browser.post(url, {"action": "send"}).status_code == 403
    assert not AuditEntry.objects.filter(action="ads.cluster.report_view").exists()
    assert _counts() == (0, 0, 0, 0)


def test_another_agencys_cluster_is_not_found(
    other_agency: Agency, cluster: Cluster, destinations: list[Destination]
) -> None:
    browser = _page_client(Role.PROVIDER_ANALYST, other_agency)
    url = f"/ads/clusters/{cluster.pk}/report/"
    assert browser.get(url).status_code == 404
    assert browser.post(url, {"action": "send"}).status_code == 404
    assert not AuditEntry.objects.filter(action="ads.cluster.report_view").exists()
    outsider = system_principal(other_agency.pk, "test")
    with pytest.raises(ClusterReportError, match="your agency"):
        send_cluster_report(outsider, cluster, destinations)
    assert _counts() == (0, 0, 0, 0)

"""The page that sends a cluster of linked ads to an authority: /ads/clusters/<pk>/report/.

Thin, like the review flow's draft page (`haven.detection.views_reports`), whose form it
reuses: the analyst sees the report the node built (its ads, the JSON, the CyberTipline
XML it becomes), may change the report-wide fields, ticks destinations and sends;
`haven.ads.reporting` builds, checks and queues. It takes reading ads (`ads:read`, and the
cluster in reach: 404 otherwise) and sending reports (`reports:send`, 403 otherwise). A
refusal is shown on the page with status 400 and changes nothing.

Opening the page is audited: it gathers a network's contacts into one document.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from haven.accounts.permissions import Principal, get_visible_or_404, principal_of, require, visible
from haven.ads.models import Cluster, ClusterReport
from haven.ads.reporting import ClusterReportError, build_cluster_report, send_cluster_report
from haven.ads.services import visible_ads, visible_clusters
from haven.audit.services import record
from haven.detection.report_forms import DraftForm, edited, field_of
from haven.reports.cybertip_xml import readable_report_xml
from haven.reports.format import ReportFormatError, parse_report
from haven.reports.models import Destination, OutgoingReport
from haven.reports.services import ReportError, pick_destinations

__all__ = ["cluster_report"]


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has sent anonymous requests to sign in already
        raise PermissionDenied("not signed in")
    return principal


def _no_store(response: HttpResponse) -> HttpResponse:
    # The report gathers a network's phones, handles and texts: never cached.
    response["Cache-Control"] = "no-store"
    return response


def _destinations(principal: Principal) -> QuerySet[Destination]:
    found = Destination.objects.filter(agency_id=principal.agency_id, enabled=True)
    return visible(found, principal).order_by("name", "pk")


def _earlier(principal: Principal, cluster: Cluster) -> list[dict[str, Any]]:
    """The cluster's reports sent before, newest first, each with its deliveries."""
    rows = list(
        visible(ClusterReport.objects.filter(agency_id=principal.agency_id), principal).filter(
            cluster=cluster
        )
    )
    outgoing = (
        visible(OutgoingReport.objects.filter(agency_id=principal.agency_id), principal)
        .filter(report_id__in=[row.report_id for row in rows])
        .select_related("destination", "outbox")
        .order_by("destination__name", "pk")
    )
    deliveries: dict[str, list[dict[str, Any]]] = {}
    for one in outgoing:
        deliveries.setdefault(one.report_id, []).append(
            {"report": one, "outbox": getattr(one, "outbox", None)}
        )
    return [{"row": row, "deliveries": deliveries.get(row.report_id, [])} for row in rows]


def _xml_preview(draft: dict[str, Any] | None) -> tuple[str, str]:
    """The report as the CyberTipline XML it becomes (indented), or why it cannot be."""
    if draft is None:
        return "", "there is no report to preview"
    try:
        return readable_report_xml(parse_report(draft)), ""
    except ReportFormatError as exc:
        return "", str(exc).splitlines()[0]


def _attach(problems: list[tuple[str, str]], form: DraftForm) -> None:
    """Show each problem beside its field, when it has one (the list shows them all)."""
    for path, message in problems:
        where = field_of(path)
        if where is not None and where[0] is None and form.is_bound and where[1] in form.fields:
            form.add_error(where[1], message)


def _render(
    request: HttpRequest,
    principal: Principal,
    cluster: Cluster,
    draft: dict[str, Any] | None,
    *,
    form: DraftForm | None = None,
    problems: list[tuple[str, str]] | None = None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    if form is None:
        form = DraftForm(initial=DraftForm.initial_of(draft or {}))
    xml, xml_error = _xml_preview(draft)
    pks = dict(
        visible_ads(principal).filter(cluster=cluster).values_list("external_id", "pk")[:5000]
    )
    ads = [{**entry, "pk": pks.get(entry["ad_id"])} for entry in (draft or {}).get("ads", [])]
    context = {
        "cluster": cluster,
        "draft": draft,
        "form": form,
        "ads": ads,
        "json_text": json.dumps(draft, indent=2, ensure_ascii=False) if draft else "",
        "xml": xml,
        "xml_error": xml_error,
        "destinations": list(_destinations(principal)),
        "earlier": _earlier(principal, cluster),
        "problems": problems or [],
        "message": message,
        "chosen": set(request.POST.getlist("destination")) if request.method == "POST" else set(),
    }
    return _no_store(render(request, "ads/cluster_report.html", context, status=status))


@require("ads:read")
@require("reports:send")
@require_http_methods(["GET", "POST"])
def cluster_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The cluster's report: what it lists, the fields a person decides, and sending it."""
    principal = _principal(request)
    cluster = get_visible_or_404(visible_clusters(principal), principal, pk=pk)
    draft: dict[str, Any] | None = None
    cannot = ""
    try:
        draft = build_cluster_report(principal, cluster)
    except ClusterReportError as exc:
        cannot = str(exc)
    if request.method == "GET":
        record(
            "ads.cluster.report_view",
            request=request,
            principal=principal,
            target_type="cluster",
            target_id=cluster.pk,
            detail={"report_id": draft["report_id"] if draft else ""},
        )
        return _render(request, principal, cluster, draft, message=cannot)
    if request.POST.get("action", "") != "send":
        message = "Send the report (no action was chosen)."
        return _render(request, principal, cluster, draft, message=message, status=400)
    if draft is None:
        return _render(request, principal, cluster, draft, message=cannot, status=400)
    form = DraftForm(request.POST)
    if not form.is_valid():
        message = "The report was not sent: check the fields below."
        return _render(request, principal, cluster, draft, form=form, message=message, status=400)
    error = ""
    problems: list[tuple[str, str]] = []
    try:
        destinations = pick_destinations(
            _destinations(principal), request.POST.getlist("destination")
        )
        queued = send_cluster_report(principal, cluster, destinations, edited(draft, form, []))
    except ReportError as exc:
        error = str(exc)
    except ClusterReportError as exc:
        error, problems = str(exc), exc.problems
        _attach(problems, form)
    if error:
        return _render(
            request,
            principal,
            cluster,
            draft,
            form=form,
            problems=problems,
            message=f"Not sent: {error}. Nothing was queued.",
            status=400,
        )
    names = ", ".join(row.destination.name for row in queued)
    messages.success(
        request,
        f"Report {queued[0].report_id} ({len(draft['ads'])} ads) was queued for {names}; the "
        "outbox delivers it and keeps trying until each receiver answers with a receipt.",
    )
    return _no_store(redirect("ads:cluster-report", pk=cluster.pk))

"""The analyst's side of reporting: check a confirmed match's draft, edit it, send it.

Thin views under /provider/reports/ (namespace "detection"), all behind `reports:send`:
`haven.detection.reporting` validates every edit against the report format, keeps the
viewed flags true to the audited reveals and seals the file to each destination;
`haven.reports.services` adds destinations with their secret encrypted. A refusal
(`DraftError`, `ReportError`) is shown on the page with its paths, with status 400, and
changes nothing. Only the agency's own confirmed reviews are reachable (404 otherwise).

Opening a draft is audited: it gathers an uploader's identifiers, addresses and the file's
hashes. The page never shows the file itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.models import User
from haven.accounts.permissions import Principal, get_visible_or_404, principal_of, require, visible
from haven.audit.services import record
from haven.detection.models import Review
from haven.detection.report_forms import (
    DestinationForm,
    DraftForm,
    FileForm,
    edited,
    field_of,
    file_prefix,
)
from haven.detection.reporting import DraftError, draft_report, send_report, update_draft
from haven.reports.cybertip_xml import readable_report_xml
from haven.reports.models import Destination, OutgoingReport
from haven.reports.services import ReportError, add_destination, pick_destinations

__all__ = [
    "destination_add",
    "destination_list",
    "outbox",
    "report_draft",
    "report_drafts",
    "report_send",
]

PAGE_SIZE = 50
#: The JSON editor takes at most this many characters (the format's own bound is larger,
#: but one analyst's edit of one review's report never comes near it).
MAX_JSON_CHARS = 1_000_000


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has sent anonymous requests to sign in already
        raise PermissionDenied("not signed in")
    return principal


def _no_store(response: HttpResponse) -> HttpResponse:
    # A draft holds an uploader's identifiers and addresses: never cached by the browser.
    response["Cache-Control"] = "no-store"
    return response


def _reports(principal: Principal) -> QuerySet[Review]:
    """The agency's confirmed reviews that have a report (drafted, maybe sent)."""
    found = visible(Review.objects.filter(agency_id=principal.agency_id), principal)
    return (
        found.filter(state="confirmed")
        .exclude(report_draft={})
        .select_related("content", "evidence")
    )


def _person(actor: str) -> str:
    """An audit actor ("user:12") as the person's user name, for the page."""
    kind, _, pk = actor.partition(":")
    if kind == "user" and pk.isdigit():
        name = User.objects.filter(pk=int(pk)).values_list("username", flat=True).first()
        if name:
            return str(name)
    return actor


def _review(principal: Principal, pk: int) -> Review:
    return get_visible_or_404(_reports(principal), principal, pk=pk)


def _destinations(principal: Principal) -> QuerySet[Destination]:
    found = Destination.objects.filter(agency_id=principal.agency_id)
    return visible(found, principal).select_related("recipient")


# --- the list ------------------------------------------------------------------------------


@require("reports:send")
@require_GET
def report_drafts(request: HttpRequest) -> HttpResponse:
    """Drafts waiting to be sent (escalated first), and the reports sent with their delivery."""
    principal = _principal(request)
    drafts = _reports(principal).filter(report_id="").order_by("-escalated", "decided_at", "pk")
    sent_rows = visible(OutgoingReport.objects.filter(agency_id=principal.agency_id), principal)
    page = Paginator(
        sent_rows.select_related("destination", "outbox").order_by("-created_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    report_ids = {row.report_id for row in page.object_list}
    reviews = dict(
        _reports(principal).filter(report_id__in=report_ids).values_list("report_id", "pk")
    )
    sent = [
        {
            "report": row,
            "outbox": getattr(row, "outbox", None),
            "review_pk": reviews.get(row.report_id),
        }
        for row in page.object_list
    ]
    return _no_store(
        render(
            request,
            "detection/report_drafts.html",
            {
                "drafts": list(drafts[:500]),
                "draft_count": drafts.count(),
                "sent": sent,
                "page": page,
            },
        )
    )


@require("reports:send")
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The outbox is the list's "sent" section."""
    return redirect(reverse("detection:report-drafts") + "#sent")


# --- one draft -----------------------------------------------------------------------------


@dataclass
class FileRow:
    """One file of the draft: what the analyst may change, and what the node states."""

    entry: dict[str, Any]
    form: FileForm
    problems: list[str] = field(default_factory=list)


@dataclass
class Problems:
    """What update_draft refused: every (path, message), and those tied to a form field."""

    listed: list[tuple[str, str]] = field(default_factory=list)
    message: str = ""

    @classmethod
    def of(cls, error: DraftError) -> Problems:
        return cls(listed=list(error.problems), message=str(error).splitlines()[0])


def _forms(draft: dict[str, Any], data: Any = None) -> tuple[DraftForm, list[FileForm]]:
    files = draft.get("files", [])
    if data is None:
        form = DraftForm(initial=DraftForm.initial_of(draft))
        file_forms = [
            FileForm(prefix=file_prefix(i), initial=FileForm.initial_of(entry))
            for i, entry in enumerate(files)
        ]
    else:
        form = DraftForm(data)
        file_forms = [FileForm(data, prefix=file_prefix(i)) for i in range(len(files))]
    return form, file_forms


def _attach(problems: Problems, form: DraftForm, file_forms: list[FileForm]) -> None:
    """Show each problem beside its field, when it has one (the list shows them all)."""
    for path, message in problems.listed:
        where = field_of(path)
        if where is None:
            continue
        index, name = where
        target: DraftForm | FileForm | None = form if index is None else None
        if index is not None and index < len(file_forms):
            target = file_forms[index]
        if target is not None and target.is_bound and name in target.fields:
            target.add_error(name, message)


def _xml_preview(review: Review) -> tuple[str, str]:
    """The draft as the CyberTipline XML it becomes (indented), or why it cannot be."""
    try:
        return readable_report_xml(draft_report(review)), ""
    except DraftError as exc:
        return "", str(exc)


def _render(
    request: HttpRequest,
    principal: Principal,
    review: Review,
    *,
    form: DraftForm | None = None,
    file_forms: list[FileForm] | None = None,
    json_text: str | None = None,
    problems: Problems | None = None,
    send_error: str = "",
    status: int = 200,
) -> HttpResponse:
    draft = review.report_draft
    if form is None or file_forms is None:
        form, file_forms = _forms(draft)
    xml, xml_error = _xml_preview(review)
    destinations = list(_destinations(principal).filter(enabled=True))
    sent = list(
        visible(OutgoingReport.objects.filter(agency_id=principal.agency_id), principal)
        .filter(report_id=review.report_id)
        .select_related("destination", "outbox")
        if review.report_id
        else []
    )
    context = {
        "review": review,
        "content": review.content,
        "draft": draft,
        "form": form,
        "files": [
            FileRow(entry=entry, form=file_form)
            for entry, file_form in zip(draft.get("files", []), file_forms, strict=False)
        ],
        "json_text": json_text if json_text is not None else json.dumps(draft, indent=2),
        "problems": problems or Problems(),
        "xml": xml,
        "xml_error": xml_error,
        "destinations": destinations,
        "send_error": send_error,
        "sent": [{"report": row, "outbox": getattr(row, "outbox", None)} for row in sent],
        "review_url": f"/provider/review/{review.pk}/",
        "decided_by": _person(review.decided_by),
    }
    return _no_store(render(request, "detection/report_draft.html", context, status=status))


def _json_of(text: str) -> tuple[object, DraftError | None]:
    if len(text) > MAX_JSON_CHARS:
        return None, DraftError(
            "the report JSON is too long", [("", f"more than {MAX_JSON_CHARS:,} characters")]
        )
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return None, DraftError("this is not JSON", [("", f"not JSON at {where}: {exc.msg}")])


@require("reports:send")
@require_http_methods(["GET", "POST"])
def report_draft(request: HttpRequest, review_pk: int) -> HttpResponse:
    """The draft: a form for what a person decides, the whole JSON, the XML it becomes."""
    principal = _principal(request)
    review = _review(principal, review_pk)
    if request.method == "GET":
        record(
            "report.draft_view",
            request=request,
            principal=principal,
            target_type="review",
            target_id=review.pk,
            detail={"sent": bool(review.report_id)},
        )
        return _render(request, principal, review)
    action = request.POST.get("action", "")
    if action == "fields":
        form, file_forms = _forms(review.report_draft, request.POST)
        if not (form.is_valid() and all(f.is_valid() for f in file_forms)):
            return _render(request, principal, review, form=form, file_forms=file_forms, status=400)
        try:
            update_draft(principal, review, edited(review.report_draft, form, file_forms))
        except DraftError as exc:
            problems = Problems.of(exc)
            _attach(problems, form, file_forms)
            return _render(
                request,
                principal,
                review,
                form=form,
                file_forms=file_forms,
                problems=problems,
                status=400,
            )
    elif action == "json":
        text = request.POST.get("report_json", "")
        data, error = _json_of(text)
        if error is None:
            try:
                update_draft(principal, review, data)
            except DraftError as exc:
                error = exc
        if error is not None:
            return _render(
                request, principal, review, json_text=text, problems=Problems.of(error), status=400
            )
    else:
        problems = Problems(message="Save the form or the JSON (no action was chosen).")
        return _render(request, principal, review, problems=problems, status=400)
    messages.success(request, "The draft was saved; it is a valid report.")
    return redirect("detection:report-draft", review_pk=review.pk)


@require("reports:send")
@require_POST
def report_send(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Queue the report, its file sealed, to each destination ticked: all of them, or none."""
    principal = _principal(request)
    review = _review(principal, review_pk)
    error = ""
    try:
        found = pick_destinations(_destinations(principal), request.POST.getlist("destination"))
        queued = send_report(principal, review, found)
    except (ReportError, DraftError) as exc:
        error = str(exc)
    if error:
        review.refresh_from_db()
        return _render(request, principal, review, send_error=error, status=400)
    names = ", ".join(row.destination.name for row in queued)
    messages.success(
        request,
        f"Report {review.report_id} was queued for {names}; the outbox delivers it and keeps "
        "trying until each receiver answers with a receipt.",
    )
    return redirect("detection:report-drafts")


# --- destinations --------------------------------------------------------------------------


@require("reports:destinations")
@require_GET
def destination_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    rows = list(_destinations(principal).order_by("name", "pk"))
    return render(request, "detection/destination_list.html", {"destinations": rows})


@require("reports:destinations")
@require_http_methods(["GET", "POST"])
def destination_add(request: HttpRequest) -> HttpResponse:
    """Add a destination; its secret is stored encrypted and never shown again."""
    principal = _principal(request)
    if request.method == "GET":
        return render(request, "detection/destination_form.html", {"form": DestinationForm()})
    form = DestinationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if _destinations(principal).filter(name=data["name"].strip()[:200]).exists():
            form.add_error("name", "your agency has a destination of this name already")
        else:
            try:
                with transaction.atomic():
                    added = add_destination(
                        principal,
                        name=data["name"],
                        url=data["url"],
                        token=data["secret"],
                        kind=data["kind"],
                        recipient_key_id=data["recipient"] or None,
                    )
            except ReportError as exc:
                form.add_error(None, str(exc))
            except IntegrityError:  # added under the same name at the same moment
                form.add_error("name", "your agency has a destination of this name already")
            else:
                messages.success(
                    request,
                    f"Destination “{added.name}” was added. Its secret is stored encrypted "
                    "and is not shown again.",
                )
                return redirect("detection:destinations")
    return render(request, "detection/destination_form.html", {"form": form}, status=400)

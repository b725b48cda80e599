"""The audit log for auditors: filtered pages, CSV export and an on-demand chain check.

Reading the log is itself audited ("audit.view", "audit.export", "audit.verify", with the
filters used), so who looked at whose trail is on the trail too.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from haven.accounts.permissions import require
from haven.audit.chain import HASHED_FIELDS
from haven.audit.models import AuditEntry
from haven.audit.services import record
from haven.audit.verify import verify_chain

__all__ = ["AuditFilterForm", "export", "filtered_entries", "log", "verify"]

PAGE_SIZE = 50
OUTCOMES = ("ok", "denied", "failed")
EXPORT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "entry_hash")
FILTER_NAMES = ("actor", "action", "target_type", "target_id", "outcome", "date_from", "date_to")


def _distinct(column: str) -> list[tuple[str, str]]:
    values = (
        AuditEntry.objects.exclude(**{column: ""})
        .order_by(column)
        .values_list(column, flat=True)
        .distinct()
    )
    return [("", "any"), *((value, value) for value in values)]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        max_length=64, required=False, help_text="as recorded: user:12, token:3, system"
    )
    action = forms.ChoiceField(required=False)
    target_type = forms.ChoiceField(required=False, label="Target type")
    target_id = forms.CharField(max_length=64, required=False, label="Target id")
    outcome = forms.ChoiceField(required=False, choices=[("", "any"), *((o, o) for o in OUTCOMES)])
    date_from = forms.DateField(
        required=False, label="From (date)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (date, inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_field = self.fields["action"]
        target_field = self.fields["target_type"]
        assert isinstance(action_field, forms.ChoiceField)
        assert isinstance(target_field, forms.ChoiceField)
        action_field.choices = _distinct("action")
        target_field.choices = _distinct("target_type")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The 'from' date is after the 'to' date.")
        return cleaned


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def filtered_entries(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    """The entries matching a valid filter form's cleaned data (empty values ignored)."""
    entries = AuditEntry.objects.all()
    for name in ("actor", "action", "target_type", "target_id", "outcome"):
        value = filters.get(name)
        if value:
            entries = entries.filter(**{name: value})
    if filters.get("date_from"):
        entries = entries.filter(at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        entries = entries.filter(at__lt=_start_of(filters["date_to"] + timedelta(days=1)))
    return entries


def _used_filters(form: AuditFilterForm) -> dict[str, str]:
    """The filters given, as text: for the audit entry and for links that keep them."""
    used = {}
    for name in FILTER_NAMES:
        value = form.cleaned_data.get(name)
        if value:
            used[name] = value.isoformat() if isinstance(value, date) else str(value)
    return used


def _cleaned(form: AuditFilterForm) -> dict[str, Any]:
    return dict(form.cleaned_data) if form.is_bound else {}


def _last_check() -> AuditEntry | None:
    return AuditEntry.objects.filter(action="audit.verify").order_by("-seq").first()


def _bad_filters(request: HttpRequest, form: AuditFilterForm, action: str) -> HttpResponse:
    """The page with the filter errors and no entries: nothing is shown for bad input."""
    record(action, request=request, outcome="failed", detail={"reason": "invalid filters"})
    context = {"form": form, "page": None, "last_check": _last_check(), "query": ""}
    return render(request, "audit/log.html", context, status=400)


@require("audit:read")
@require_GET
def log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _bad_filters(request, form, "audit.view")
    used = _used_filters(form) if form.is_bound else {}
    page_number = request.GET.get("page", "1")
    record("audit.view", request=request, detail={"filters": used, "page": page_number[:12]})
    paginator = Paginator(filtered_entries(_cleaned(form)).order_by("-seq"), PAGE_SIZE)
    page = paginator.get_page(page_number)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "entries": [_row(entry) for entry in page.object_list],
        "query": urlencode(used),
        "filters": used,
        "last_check": _last_check(),
    }
    return render(request, "audit/log.html", context)


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "detail": json.dumps(entry.detail, sort_keys=True, ensure_ascii=False)
        if entry.detail
        else "",
        "actor_query": urlencode({"actor": entry.actor}),
        "target_query": urlencode(
            {"target_type": entry.target_type, "target_id": entry.target_id}
            if entry.target_id
            else {"target_type": entry.target_type}
        ),
    }


class _Echo:
    """A file-like object whose write returns the line, for streaming csv rows."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    # Spreadsheets run cells starting with these as formulas; user agents and labels come
    # from outside, so such cells are quoted with a leading apostrophe.
    text = value if isinstance(value, str) else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for entry in entries.order_by("seq").iterator(chunk_size=2000):
        row = [
            entry.seq,
            entry.at.isoformat(),
            entry.actor,
            entry.actor_label,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.ip,
            entry.user_agent,
            entry.outcome,
            json.dumps(entry.detail, sort_keys=True, separators=(",", ":")),
            entry.prev_hash,
            entry.entry_hash,
        ]
        yield writer.writerow([_cell(value) for value in row])


@require("audit:read")
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _bad_filters(request, form, "audit.export")
    used = _used_filters(form) if form.is_bound else {}
    record("audit.export", request=request, detail={"filters": used, "format": "csv"})
    response = StreamingHttpResponse(
        _csv_rows(filtered_entries(_cleaned(form))), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="haven-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    # `require` is typed for HttpResponse views; a streaming response serves the same role.
    return cast(HttpResponse, response)


@require("audit:read")
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    result = verify_chain()
    detail: dict[str, Any] = {"intact": result.ok, "entries": result.entries}
    if result.problem is not None:
        detail.update(problem=result.problem.kind, problem_seq=result.problem.seq)
    record("audit.verify", request=request, outcome="ok" if result.ok else "failed", detail=detail)
    if result.ok:
        messages.success(request, result.summary())
    else:
        messages.error(request, result.summary())
    return redirect("audit:log")

"""The transparency figures as a page with charts, and as CSV (an audited export).

Both read `haven.detection.transparency.figures` for the same period, so the file always
says what the page shows. Charts are server-side SVG (`haven.web.charts`), each with the
same numbers as a table beside it.
"""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from haven.accounts.permissions import Principal, principal_of, require
from haven.audit.services import record
from haven.detection.provider_forms import PeriodForm
from haven.detection.transparency import (
    Figures,
    Period,
    PeriodError,
    csv_rows,
    default_period,
    figures,
    period_of,
)
from haven.web.charts import Bar, bar_chart

__all__ = ["transparency", "transparency_csv"]

LABEL_CHARS = 14


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has sent anonymous requests to sign in already
        raise PermissionDenied("not signed in")
    return principal


def _period(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    """The period asked for (the last 90 days by default); None when the form is wrong."""
    if "first" not in request.GET and "last" not in request.GET:
        period = default_period()
        return PeriodForm(initial={"first": period.first, "last": period.last}), period
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None
    try:
        return form, period_of(*form.dates())
    except PeriodError as exc:
        form.add_error(None, str(exc))
        return form, None


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def _bank_chart(found: Figures, field: str, title: str, chart_id: str) -> SafeString:
    rows = [(r.bank, int(getattr(r, field))) for r in found.banks]
    return bar_chart(
        [Bar(n, _short(name), f"{name}: {n:,}") for name, n in rows],
        chart_id=chart_id,
        title=title,
        description=", ".join(f"{name}: {n:,}" for name, n in rows) + "." if rows else "No banks.",
        x_label="Bank",
        y_label=title.split(" per ")[0],
        height=220,
    )


def _week_charts(found: Figures) -> tuple[SafeString, SafeString]:
    weeks = found.weeks
    step = max(1, len(weeks) // 8)
    removals = [
        Bar(
            w.removal.count,
            w.start.isoformat()[5:] if i % step == 0 else "",
            f"week of {w.start}: {w.removal.count:,} removals",
        )
        for i, w in enumerate(weeks)
    ]
    hours = [
        Bar(
            round((w.removal.median_seconds or 0) / 3600, 2),
            w.start.isoformat()[5:] if i % step == 0 else "",
            f"week of {w.start}: "
            + (
                f"median {w.removal.median_seconds / 3600:.2f} h"
                if w.removal.median_seconds is not None
                else "no removals"
            ),
        )
        for i, w in enumerate(weeks)
    ]
    total = found.total.removal
    removal_chart = bar_chart(
        removals,
        chart_id="removals-chart",
        title="Removals per week",
        description=f"{total.count:,} removals from {found.period.first} to {found.period.last}.",
        x_label="Week starting (UTC)",
        y_label="Removals",
        height=220,
    )
    median_chart = bar_chart(
        hours,
        chart_id="removal-time-chart",
        title="Median time from upload to removal, per week",
        description=(
            f"Over the whole period the median is {total.median_seconds / 3600:.2f} hours."
            if total.median_seconds is not None
            else "No removals in the period."
        ),
        x_label="Week starting (UTC)",
        y_label="Hours",
        height=220,
    )
    return removal_chart, median_chart


@require("transparency:read")
def transparency(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form, period = _period(request)
    if period is None:
        return render(request, "detection/transparency_page.html", {"form": form}, status=400)
    found = figures(principal, period)
    removal_chart, median_chart = _week_charts(found)
    context = {
        "form": form,
        "found": found,
        "query": f"first={period.first.isoformat()}&last={period.last.isoformat()}",
        "charts": [
            ("matches", _bank_chart(found, "matches", "Matches per bank", "matches-chart")),
            (
                "confirmed",
                _bank_chart(found, "confirmed", "Confirmations per bank", "confirmed-chart"),
            ),
            (
                "false positives",
                _bank_chart(
                    found, "false_positives", "False positives per bank", "false-positives-chart"
                ),
            ),
        ],
        "removal_chart": removal_chart,
        "median_chart": median_chart,
    }
    return render(request, "detection/transparency_page.html", context)


@require("transparency:read")
def transparency_csv(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form, period = _period(request)
    if period is None:
        return render(request, "detection/transparency_page.html", {"form": form}, status=400)
    found = figures(principal, period)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(csv_rows(found))
    record(
        "transparency.export",
        request=request,
        target_type="agency",
        target_id=found.agency_id,
        detail={"first": period.first.isoformat(), "last": period.last.isoformat()},
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"transparency-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""A provider's pages for its banks' policies, its alerts, its uploaders and their appeals.

Thin views under /provider/ (namespace "detection"): `haven.detection.policies`,
`alerts` and `appeals` decide and record; a refusal (`PolicyError`, `AppealError`,
`AlertError`) is shown on the page as it was worded, with status 400, and changes nothing.
Opening an uploader's history is audited: it gathers what one person uploaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from haven.accounts.models import User
from haven.accounts.permissions import Principal, get_visible_or_404, principal_of, require, visible
from haven.audit.services import record
from haven.banks.models import Bank
from haven.banks.services import BankError, get_bank
from haven.detection.alerts import AlertError, acknowledge, open_alerts
from haven.detection.appeals import AppealError, decide_appeal
from haven.detection.models import Appeal, BankPolicy, Review, ScannedContent, UploaderAccount
from haven.detection.policies import (
    PolicyError,
    bank_quality,
    policy_of,
    resume_policy,
    update_policy,
)
from haven.detection.provider_forms import AppealDecisionForm, PolicyForm, UploaderFilterForm
from haven.detection.uploaders import REPEAT_OFFENDER_CONFIRMED, is_repeat_offender

__all__ = [
    "alert_list",
    "appeal_detail",
    "appeal_list",
    "policy_detail",
    "policy_list",
    "uploader_detail",
    "uploader_list",
]

PAGE_SIZE = 50
HISTORY_LIMIT = 200
ACTIONS = ("block", "hold", "report", "notify")


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has sent anonymous requests to sign in already
        raise PermissionDenied("not signed in")
    return principal


def _names(actors: Iterable[str]) -> dict[str, str]:
    """Audit actors ("user:12") as people's user names, for the pages."""
    wanted = {a for a in actors if a}
    ids = [int(a.split(":", 1)[1]) for a in wanted if a.startswith("user:") and a[5:].isdigit()]
    users = User.objects.filter(pk__in=ids).values_list("pk", "username")
    found = {f"user:{pk}": name for pk, name in users}
    return {a: found.get(a, a) for a in wanted}


def _review_path(review_pk: int) -> str:
    """The review item's page (owned by the review queue's views), by path."""
    return f"/provider/review/{review_pk}/"


# --- policies --------------------------------------------------------------------------


def _agency_banks(principal: Principal) -> Any:
    return visible(Bank.objects.filter(agency_id=principal.agency_id), principal)


@require("policies:manage")
def policy_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    banks = list(_agency_banks(principal).filter(is_allow_list=False).order_by("name", "pk"))
    policies = {
        p.bank_id: p
        for p in BankPolicy.objects.filter(bank__in=banks).prefetch_related("allow_lists")
    }
    quality = bank_quality(b.pk for b in banks)
    rows = []
    for bank in banks:
        policy = policies.get(bank.pk) or BankPolicy(bank=bank)
        rows.append(
            {
                "bank": bank,
                "policy": policy,
                "actions": [name for name in ACTIONS if getattr(policy, name)],
                "allow_lists": [b.name for b in policy.allow_lists.all()] if policy.pk else [],
                "quality": quality.get(bank.pk),
            }
        )
    paused = sum(1 for r in rows if r["policy"].paused_at is not None)
    return render(request, "detection/policy_list.html", {"rows": rows, "paused": paused})


@require("policies:manage")
def policy_detail(request: HttpRequest, bank_id: int) -> HttpResponse:
    principal = _principal(request)
    bank = get_bank(principal, bank_id)
    if bank.is_allow_list:
        raise Http404("an allow-list has no policy")
    policy = policy_of(bank)
    choices = list(
        Bank.objects.filter(agency_id=bank.agency_id, is_allow_list=True).order_by("name", "pk")
    )
    status = 200
    resume_error = ""
    if request.method == "POST" and "resume" in request.POST:
        form = PolicyForm(initial=PolicyForm.initial_of(policy, bank), allow_choices=choices)
        try:
            resume_policy(principal, bank)
        except PolicyError as exc:
            resume_error, status = str(exc), 400
        else:
            messages.success(request, f"The policy of “{bank.name}” was resumed.")
            return redirect("detection:policy", bank_id=bank.pk)
    elif request.method == "POST":
        form = PolicyForm(request.POST, allow_choices=choices)
        if form.is_valid():
            try:
                update_policy(principal, bank, form.change())
            except (PolicyError, BankError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"The policy of “{bank.name}” was saved.")
                return redirect("detection:policy", bank_id=bank.pk)
        status = 400
    else:
        form = PolicyForm(initial=PolicyForm.initial_of(policy, bank), allow_choices=choices)
    context = {
        "bank": bank,
        "policy": policy,
        "form": form,
        "resume_error": resume_error,
        "quality": bank_quality([bank.pk]).get(bank.pk),
        "has_allow_lists": bool(choices),
    }
    return render(request, "detection/policy_detail.html", context, status=status)


# --- alerts ----------------------------------------------------------------------------


@require("policies:manage")
def alert_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    status = 200
    error = ""
    if request.method == "POST":
        raw = str(request.POST.get("alert", ""))
        if not raw.isdigit():
            error, status = "choose the alert to acknowledge", 400
        else:
            try:
                alert = acknowledge(principal, int(raw))
            except AlertError as exc:
                error, status = str(exc), 400
            else:
                messages.success(request, f"Alert {alert.pk} acknowledged.")
                return redirect("detection:alerts")
    alerts = list(open_alerts(principal).order_by("-created_at", "-pk")[:PAGE_SIZE])
    context = {"alerts": alerts, "error": error, "total": open_alerts(principal).count()}
    return render(request, "detection/alert_list.html", context, status=status)


# --- uploaders -------------------------------------------------------------------------


@require("review")
def uploader_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    accounts = visible(UploaderAccount.objects.filter(matches__gt=0), principal)
    form = UploaderFilterForm(request.GET or None)
    repeat = form.is_valid() and bool(form.cleaned_data.get("repeat"))
    if repeat:
        accounts = accounts.filter(confirmed__gte=REPEAT_OFFENDER_CONFIRMED)
    accounts = accounts.order_by("-confirmed", "-matches", "account_id", "pk")
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"account": a, "repeat": is_repeat_offender(a)} for a in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "repeat": repeat,
        "repeat_threshold": REPEAT_OFFENDER_CONFIRMED,
    }
    return render(request, "detection/uploader_list.html", context)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One upload in an uploader's history, with what became of it."""

    content: ScannedContent
    review: Review | None
    review_path: str
    decided_by: str
    appeals: list[Appeal]


def _history_row(content: ScannedContent, names: dict[str, str]) -> HistoryRow:
    review: Review | None = getattr(content, "review", None)
    if review is None:
        return HistoryRow(content, None, "", "", [])
    return HistoryRow(
        content,
        review,
        _review_path(review.pk),
        names.get(review.decided_by, review.decided_by),
        list(review.appeals.all()),
    )


@require("review")
def uploader_detail(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    account = get_visible_or_404(UploaderAccount.objects.all(), principal, pk=pk)
    contents = list(
        ScannedContent.objects.filter(
            agency_id=account.agency_id, uploader_account=account.account_id
        )
        .select_related("review")
        .prefetch_related(Prefetch("review__appeals", queryset=Appeal.objects.order_by("filed_at")))
        .order_by("-scanned_at", "-pk")[:HISTORY_LIMIT]
    )
    reviews = [r for r in (getattr(c, "review", None) for c in contents) if r is not None]
    names = _names(r.decided_by for r in reviews)
    rows = [_history_row(content, names) for content in contents]
    record("uploader.view", request=request, target_type="uploader", target_id=account.pk)
    context = {
        "account": account,
        "repeat": is_repeat_offender(account),
        "repeat_threshold": REPEAT_OFFENDER_CONFIRMED,
        "rows": rows,
        "reports": sum(1 for r in reviews if r.report_id),
        "removals": sum(1 for c in contents if c.removed_at),
        "limited": len(rows) == HISTORY_LIMIT,
    }
    return render(request, "detection/uploader_detail.html", context)


# --- appeals ---------------------------------------------------------------------------


def _appeal_row(appeal: Appeal, names: dict[str, str], principal: Principal) -> dict[str, Any]:
    review = appeal.review
    return {
        "appeal": appeal,
        "review": review,
        "content": review.content,
        "decided_by": names.get(review.decided_by, review.decided_by),
        "own_decision": review.decided_by == principal.actor,
        "review_path": _review_path(review.pk),
    }


@require("review")
def appeal_list(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    pending = list(
        visible(Appeal.objects.filter(state="pending"), principal)
        .select_related("review__content")
        .order_by("filed_at", "pk")[:PAGE_SIZE]
    )
    names = _names(a.review.decided_by for a in pending)
    context = {
        "rows": [_appeal_row(a, names, principal) for a in pending],
        "total": visible(Appeal.objects.filter(state="pending"), principal).count(),
    }
    return render(request, "detection/appeal_list.html", context)


@require("review")
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    appeal = get_visible_or_404(Appeal.objects.select_related("review__content"), principal, pk=pk)
    status = 200
    if request.method == "POST":
        form = AppealDecisionForm(request.POST)
        if form.is_valid():
            overturn = form.cleaned_data["decision"] == "overturn"
            try:
                decided = decide_appeal(
                    principal, appeal, overturn=overturn, note=form.cleaned_data["note"]
                )
            except AppealError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Appeal {decided.pk} {decided.state}.")
                return redirect(reverse("detection:appeals"))
        status = 400
    else:
        form = AppealDecisionForm()
    names = _names([appeal.review.decided_by, appeal.decided_by])
    context = {
        **_appeal_row(appeal, names, principal),
        "appeal_decided_by": names.get(appeal.decided_by, ""),
        "form": form,
    }
    return render(request, "detection/appeal_detail.html", context, status=status)

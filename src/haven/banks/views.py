"""Bank pages and the match debugger.

The views are thin: `haven.banks.services` decides what a principal may change and audits
it, `haven.banks.matcher` answers lookups, `haven.banks.preview` makes the blurred
previews and keeps debugger uploads. Every bank is fetched through `get_bank`, so one out of
the principal's reach answers 404; a missing permission answers 403 (`require`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from haven.accounts.permissions import Principal, principal_of, require
from haven.audit.services import record
from haven.banks.forms import (
    BankForm,
    BankSearchForm,
    DebuggerHashForm,
    DebuggerUploadForm,
    EntrySearchForm,
    ExportForm,
    ImportForm,
)
from haven.banks.lookup import SIGNAL_LABELS, MatchRow, Rows, match_upload
from haven.banks.matcher import matcher
from haven.banks.models import SIGNAL_CHOICES, Bank, BankEntry
from haven.banks.preview import (
    Preview,
    StoredUpload,
    TicketRefused,
    UploadRejected,
    UploadStore,
    analyse_upload,
    debugger_store,
    issue_ticket,
    redeem_ticket,
)
from haven.banks.services import (
    BankError,
    create_bank,
    export_bank,
    get_bank,
    get_entry,
    import_hash_list,
    set_entry_enabled,
    update_bank,
    visible_banks,
)

__all__ = [
    "bank_create",
    "bank_detail",
    "bank_edit",
    "bank_export",
    "bank_import",
    "bank_list",
    "bank_toggle",
    "debugger",
    "debugger_original",
    "debugger_reveal",
    "entry_toggle",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 50
SESSION_UPLOADS = "haven_debugger_uploads"
MAX_SESSION_UPLOADS = 5
EXPORT_TYPES = {"csv": ("text/csv", "csv")}


def _principal(request: HttpRequest) -> Principal:
    principal = principal_of(request)
    if principal is None:  # `require` has already sent anonymous requests to sign in
        raise PermissionDenied("not signed in")
    return principal


def _status(form_errors: bool) -> int:
    return 400 if form_errors else 200


# --- bank list and detail ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BankRow:
    bank: Bank
    entries: int
    enabled_entries: int
    signals: list[tuple[str, int]]


def _signal_annotations() -> dict[str, Any]:
    counts: dict[str, Any] = {
        "entry_count": Count("entries"),
        "enabled_count": Count("entries", filter=Q(entries__enabled=True)),
    }
    for name, _ in SIGNAL_CHOICES:
        counts[f"{name}_count"] = Count("entries", filter=Q(entries__signal_type=name))
    return counts


def _bank_row(bank: Bank) -> BankRow:
    signals = [
        (SIGNAL_LABELS.get(name, name), int(getattr(bank, f"{name}_count", 0)))
        for name, _ in SIGNAL_CHOICES
    ]
    return BankRow(
        bank,
        int(getattr(bank, "entry_count", 0)),
        int(getattr(bank, "enabled_count", 0)),
        [(label, n) for label, n in signals if n],
    )


@require("banks:read")
def bank_list(request: HttpRequest) -> HttpResponse:

    principal = _principal(request)
    form = BankSearchForm(request.GET or None)
    banks: QuerySet[Bank] = visible_banks(principal)
    query = ""
    if form.is_valid():
        query = str(form.cleaned_data.get("q") or "").strip()
    if query:
        banks = banks.filter(
            Q(name__icontains=query) | Q(description__icontains=query) | Q(source__icontains=query)
        )
    banks = banks.annotate(**_signal_annotations()).order_by("name", "pk")
    page = Paginator(banks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "banks/list.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "rows": [_bank_row(bank) for bank in page.object_list],
            "can_write": principal.can("banks:write"),
        },
    )


_HEX_DIGITS = frozenset("0123456789abcdef")


def _hash_prefix(text: str) -> Q | None:
    """Entries whose hash starts with these hex digits, as a byte range (uses the index)."""
    digits = text.lower()
    if not digits or len(digits) > 64 or not _HEX_DIGITS.issuperset(digits):
        return None
    low = bytes.fromhex(digits + "0" * (len(digits) % 2))
    value = int(digits, 16) + 1
    if value >= 16 ** len(digits):  # all f: no upper bound
        return Q(hash__gte=low)
    upper = format(value, f"0{len(digits)}x")
    high = bytes.fromhex(upper + "0" * (len(upper) % 2))
    return Q(hash__gte=low, hash__lt=high)


@require("banks:read")
def bank_detail(request: HttpRequest, pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    form = EntrySearchForm(request.GET or None)
    entries: QuerySet[BankEntry] = bank.entries.select_related("added_by").order_by("id")
    query = state = ""
    if form.is_valid():
        query = str(form.cleaned_data.get("q") or "").strip()
        state = str(form.cleaned_data.get("state") or "")
    if query:
        matches = Q(external_id__icontains=query)
        prefix = _hash_prefix(query)
        if prefix is not None:
            matches |= prefix
        entries = entries.filter(matches)
    if state == "enabled":
        entries = entries.filter(enabled=True)
    elif state == "disabled":
        entries = entries.filter(enabled=False)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = {
        row["signal_type"]: (row["n"], row["on"])
        for row in bank.entries.values("signal_type").annotate(
            n=Count("id"), on=Count("id", filter=Q(enabled=True))
        )
    }
    signals = [
        {"label": SIGNAL_LABELS.get(name, name), "entries": n, "enabled": on}
        for name, (n, on) in sorted(counts.items())
    ]
    return render(
        request,
        "banks/detail.html",
        {
            "bank": bank,
            "form": form,
            "query": query,
            "state": state,
            "page": page,
            "signals": signals,
            "total": sum(n for n, _ in counts.values()),
            "can_write": principal.can("banks:write"),
            "can_export": principal.can("banks:export"),
            "here": request.get_full_path(),
        },
    )


# --- changing banks ------------------------------------------------------------------------


@require("banks:write")
def bank_create(request: HttpRequest) -> HttpResponse:

    principal = _principal(request)
    form = BankForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bank = create_bank(principal, request=request, **form.cleaned_data)
        except BankError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Bank “{bank.name}” created.")
            return redirect("banks:detail", pk=bank.pk)
    return render(
        request, "banks/form.html", {"form": form, "bank": None}, status=_status(bool(form.errors))
    )


@require("banks:write")
def bank_edit(request: HttpRequest, pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    initial = {name: getattr(bank, name) for name in BankForm.base_fields}
    form = BankForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            messages.info(request, "Nothing was changed.")
            return redirect("banks:detail", pk=bank.pk)
        try:
            bank = update_bank(principal, bank, request=request, **changes)
        except BankError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Bank “{bank.name}” saved.")
            return redirect("banks:detail", pk=bank.pk)
    return render(
        request, "banks/form.html", {"form": form, "bank": bank}, status=_status(bool(form.errors))
    )


def _wanted_state(request: HttpRequest) -> bool | None:
    value = request.POST.get("enabled")
    return {"1": True, "0": False}.get(value or "")


@require("banks:write")
@require_POST
def bank_toggle(request: HttpRequest, pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    enabled = _wanted_state(request)
    if enabled is None:
        messages.error(request, "Say whether to enable or disable the bank.")
    else:
        try:
            bank = update_bank(principal, bank, request=request, enabled=enabled)
        except BankError as exc:
            messages.error(request, str(exc))
        else:
            done = "enabled" if bank.enabled else "disabled"
            messages.success(request, f"Bank “{bank.name}” {done}.")
    return redirect("banks:detail", pk=bank.pk)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require("banks:write")
@require_POST
def entry_toggle(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    entry = get_entry(principal, bank, entry_pk)
    enabled = _wanted_state(request)
    if enabled is None:
        messages.error(request, "Say whether to enable or disable the entry.")
    else:
        try:
            entry = set_entry_enabled(principal, entry, enabled, request=request)
        except BankError as exc:
            messages.error(request, str(exc))
        else:
            done = "enabled" if entry.enabled else "disabled"
            messages.success(request, f"Entry {entry.external_id} {done}.")
    return redirect(_back(request, reverse("banks:detail", args=[bank.pk])))


@require("banks:write")
def bank_import(request: HttpRequest, pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    form = ImportForm(
        request.POST or None, request.FILES or None, scheme=bank.classification_scheme
    )
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = os.path.basename(str(upload.name or "upload"))[:200] or "upload"
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text: a hash list is plain text.")
        else:
            try:
                result = import_hash_list(
                    principal,
                    bank,
                    text,
                    name,
                    format=form.cleaned_data.get("format") or None,
                    signal_type=form.cleaned_data["signal_type"],
                    classification=form.cleaned_data.get("classification") or "",
                    request=request,
                )
            except BankError as exc:
                form.add_error(None, str(exc))
    return render(
        request,
        "banks/import.html",
        {
            "bank": bank,
            "form": form,
            "result": result,
            "max_upload": settings.HAVEN.max_upload_bytes,
        },
        status=_status(bool(form.errors)),
    )


@require("banks:export")
def bank_export(request: HttpRequest, pk: int) -> HttpResponse:

    principal = _principal(request)
    bank = get_bank(principal, pk)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = str(form.cleaned_data["format"])
        try:
            text = export_bank(
                principal,
                bank,
                format=chosen,
                include_disabled=bool(form.cleaned_data.get("include_disabled")),
                request=request,
            )
        except BankError as exc:
            form.add_error(None, str(exc))
        else:
            content_type, extension = EXPORT_TYPES.get(chosen, ("text/plain", "txt"))
            filename = f"{slugify(bank.name) or 'bank'}-{bank.pk}.{extension}"
            response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "banks/export.html",
        {"bank": bank, "form": form},
        status=_status(bool(form.errors)),
    )


# --- the match debugger --------------------------------------------------------------------


def _reachable_bank_ids(principal: Principal) -> list[int]:

    return list(visible_banks(principal).values_list("pk", flat=True))


@dataclass(slots=True)
class DebuggerItem:
    """One stored upload as the page shows it: blurred previews, hashes, matches."""

    stored: StoredUpload
    record: dict[str, Any]
    previews: list[Preview]
    note: str
    rows: list[MatchRow]
    original_url: str = ""

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.stored.expires, UTC)

    @property
    def hashes(self) -> list[tuple[str, str]]:
        record = self.record
        shown = [("MD5", record.get("md5", "")), ("SHA-256", record.get("sha256", ""))]
        if record.get("type") == "image":
            shown.insert(0, (f"PDQ (quality {record.get('quality')})", record.get("pdq", "")))
            if "unletterboxed_pdq" in record:
                shown.insert(1, ("PDQ without borders", record["unletterboxed_pdq"]))
        return shown

    @property
    def frames(self) -> list[list[Any]]:
        return list(self.record.get("frames", []))


def _session_ids(request: HttpRequest) -> list[str]:
    value = request.session.get(SESSION_UPLOADS, [])
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _remember(request: HttpRequest, store: UploadStore, upload_id: str) -> None:
    ids = [upload_id, *(i for i in _session_ids(request) if i != upload_id)]
    for old in ids[MAX_SESSION_UPLOADS:]:
        store.delete(old)
    request.session[SESSION_UPLOADS] = ids[:MAX_SESSION_UPLOADS]


def _items(
    request: HttpRequest, store: UploadStore, principal: Principal, revealed: tuple[str, str] | None
) -> list[DebuggerItem]:
    user_id = principal.user_id or 0
    items: list[DebuggerItem] = []
    kept: list[str] = []
    bank_ids = _reachable_bank_ids(principal)
    for upload_id in _session_ids(request):
        stored = store.get(upload_id, user_id)
        view = store.view(stored) if stored is not None else None
        if stored is None or view is None:
            continue
        kept.append(upload_id)
        previews = [
            Preview(str(p["src"]), int(p["width"]), int(p["height"]), str(p.get("label", "")))
            for p in view.get("previews", [])
        ]
        record = dict(view.get("record", {}))
        item = DebuggerItem(stored, record, previews, str(view.get("note", "")), [])
        item.rows = match_upload(record, bank_ids)
        if revealed is not None and revealed[0] == upload_id:
            item.original_url = revealed[1]
        items.append(item)
    if kept != _session_ids(request):
        request.session[SESSION_UPLOADS] = kept
    return items


def _render_debugger(
    request: HttpRequest,
    principal: Principal,
    store: UploadStore,
    *,
    hash_form: DebuggerHashForm | None = None,
    upload_form: DebuggerUploadForm | None = None,
    hash_results: list[dict[str, Any]] | None = None,
    revealed: tuple[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    items = _items(request, store, principal, revealed)
    response = render(
        request,
        "banks/debugger.html",
        {
            "hash_form": hash_form or DebuggerHashForm(),
            "upload_form": upload_form or DebuggerUploadForm(),
            "hash_results": hash_results,
            "items": items,
            "can_reveal": principal.can("media:reveal"),
            "can_read_banks": principal.can("banks:read"),
            "revealed": revealed[0] if revealed else "",
            "max_upload": settings.HAVEN.max_upload_bytes,
        },
        status=status,
    )
    # The page embeds previews of possibly abusive media: never keep it in a cache.
    response["Cache-Control"] = "no-store"
    if any(item.original_url and item.stored.kind == "video" for item in items):
        response._csp_update = {"media-src": ["'self'"]}  # type: ignore[attr-defined]
    return response


def _lookup_hashes(principal: Principal, form: DebuggerHashForm) -> list[dict[str, Any]] | None:

    parsed: list[tuple[str, bytes]] = form.cleaned_data["parsed"]
    signal = str(form.cleaned_data["signal_type"])
    radius = form.cleaned_data.get("radius")
    try:
        results = matcher().match(
            [digest for _, digest in parsed],
            signal_type=signal,
            bank_ids=_reachable_bank_ids(principal),
            radius=radius,
        )
    except ValueError as exc:  # BankError is a ValueError
        form.add_error(None, str(exc))
        return None
    blocks = []
    for (text, _), result in zip(parsed, results, strict=True):
        rows = Rows()
        rows.absorb(result, SIGNAL_LABELS.get(signal, signal))
        blocks.append({"hash": text, "rows": rows.sorted()})
    return blocks


def _accept_upload(
    request: HttpRequest, principal: Principal, store: UploadStore, form: DebuggerUploadForm
) -> HttpResponse | None:
    """Hash and store a valid upload; None (with the error on the form) when it is refused."""
    upload = form.cleaned_data["file"]
    data = upload.read()
    try:
        analysis = analyse_upload(data, store)
    except UploadRejected as exc:
        form.add_error("file", f"{exc} (error code: {exc.code})")
        return None
    except Exception:
        # Hostile input reaching a decoder bug must still get a page, never a traceback.
        log.exception("debugger upload could not be analysed")
        form.add_error(
            "file", "The file could not be read as an image or a video (error code: unreadable)."
        )
        return None
    view = {
        "record": analysis.record,
        "previews": [
            {"src": p.src, "width": p.width, "height": p.height, "label": p.label}
            for p in analysis.previews
        ],
        "note": analysis.note,
    }
    stored = store.save(
        data,
        owner_id=principal.user_id or 0,
        content_type=analysis.content_type,
        kind=analysis.kind,
        view=view,
    )
    _remember(request, store, stored.id)
    record(
        "debugger.upload",
        request=request,
        principal=principal,
        target_type="debugger_upload",
        target_id=stored.id,
        detail={"kind": analysis.kind, "bytes": len(data)},
    )
    return redirect(reverse("banks:debugger") + f"#upload-{stored.id}")


@require("match")
def debugger(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    store = debugger_store()
    store.purge_expired()
    if request.method != "POST":
        return _render_debugger(request, principal, store)
    action = request.POST.get("action", "")
    if action == "hashes":
        hash_form = DebuggerHashForm(request.POST)
        blocks = _lookup_hashes(principal, hash_form) if hash_form.is_valid() else None
        return _render_debugger(
            request,
            principal,
            store,
            hash_form=hash_form,
            hash_results=blocks,
            status=_status(bool(hash_form.errors)),
        )
    if action == "upload":
        upload_form = DebuggerUploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            done = _accept_upload(request, principal, store, upload_form)
            if done is not None:
                return done
        return _render_debugger(request, principal, store, upload_form=upload_form, status=400)
    if action == "discard":
        upload_id = request.POST.get("upload", "")
        if upload_id in _session_ids(request):
            store.delete(upload_id)
            request.session[SESSION_UPLOADS] = [i for i in _session_ids(request) if i != upload_id]
            messages.success(request, "The upload was deleted.")
        return redirect("banks:debugger")
    messages.error(request, "Unknown action.")
    return redirect("banks:debugger")


@require("media:reveal")
@require_POST
def debugger_reveal(request: HttpRequest) -> HttpResponse:
    """Show one upload unblurred: audited first, then served once through a ticket."""
    principal = _principal(request)
    store = debugger_store()
    store.purge_expired()
    user_id = principal.user_id or 0
    upload_id = request.POST.get("upload", "")
    stored = store.get(upload_id, user_id)
    if stored is None or upload_id not in _session_ids(request):
        raise Http404("no such upload")
    record(
        "media.reveal",
        request=request,
        principal=principal,
        target_type="debugger_upload",
        target_id=stored.id,
        detail={"page": "banks:debugger", "kind": stored.kind},
    )
    url = reverse("banks:debugger-original", args=[issue_ticket(stored.id, user_id)])
    return _render_debugger(request, principal, store, revealed=(stored.id, url))


_SERVABLE = ("image/", "video/")


@require("media:reveal")
def debugger_original(request: HttpRequest, ticket: str) -> HttpResponse:
    """The decrypted original, once, to the user the ticket was issued to, within 60 s."""
    principal = _principal(request)
    store = debugger_store()
    try:
        stored = redeem_ticket(ticket, principal.user_id or 0, store)
    except TicketRefused as exc:
        return render(
            request,
            "web/error.html",
            {"title": "Link not valid", "message": f"This one-time link cannot be used: {exc}."},
            status=404,
        )
    data = store.original(stored)
    if data is None:
        raise Http404("no such upload")
    content_type = stored.content_type
    if not content_type.startswith(_SERVABLE):
        content_type = "application/octet-stream"
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

"""The node identity page: this node's signing key for others to pin, and the keys it pins."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from haven.accounts.permissions import principal_of, require
from haven.exchange.models import PinnedNode
from haven.exchange.services import PinError, pin_node, revoke_pin
from haven.web.node import keyring

__all__ = ["PinForm", "node", "pin", "unpin"]


class PinForm(forms.Form):
    name = forms.CharField(max_length=200, label="Node name")
    public_key = forms.CharField(
        max_length=200,
        label="Public key (64 hex digits)",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    fingerprint = forms.CharField(
        max_length=200,
        label="Fingerprint, as read out by the other node's administrator",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea({"rows": 2}))


def _page(request: HttpRequest, form: PinForm, status: int = 200) -> HttpResponse:
    ring = keyring()
    ring.refresh()
    active = ring.signing
    older = [key for key in reversed(ring.signing_keys) if key.id != active.id]
    context: dict[str, Any] = {
        "node_name": settings.HAVEN.node_name,
        "active": active,
        "public_key_hex": active.public_key.hex(),
        "older": older,
        "pins": PinnedNode.objects.select_related("pinned_by").order_by("revoked_at", "name"),
        "form": form,
    }
    return render(request, "exchange/node.html", context, status=status)


@require("node:manage")
@require_GET
def node(request: HttpRequest) -> HttpResponse:
    return _page(request, PinForm())


@require("node:manage")
@require_POST
def pin(request: HttpRequest) -> HttpResponse:
    form = PinForm(request.POST)
    principal = principal_of(request)
    if not form.is_valid() or principal is None:
        return _page(request, form, status=400)
    try:
        pinned = pin_node(
            principal,
            form.cleaned_data["name"],
            form.cleaned_data["public_key"],
            form.cleaned_data["fingerprint"],
            note=form.cleaned_data["note"],
            request=request,
        )
    except PinError as exc:
        form.add_error(None, str(exc))
        return _page(request, form, status=400)
    messages.success(request, f"Pinned {pinned.name} (key {pinned.key_id}).")
    return redirect("exchange:node")


@require("node:manage")
@require_POST
def unpin(request: HttpRequest, pk: int) -> HttpResponse:
    principal = principal_of(request)
    if principal is None:  # `require` has already turned anonymous requests away
        return redirect("exchange:node")
    try:
        revoked = revoke_pin(principal, pk, request=request)
    except PinError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revoked the pin of {revoked.name}.")
    return redirect("exchange:node")

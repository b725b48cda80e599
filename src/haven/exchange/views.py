"""Node identity and pinned keys (placeholder until built)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.permissions import require


@require("node:manage")
def node(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Node", "message": "TODO"})

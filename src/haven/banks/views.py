"""Bank pages and the match debugger (placeholder until built)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.permissions import require


@require("banks:read")
def bank_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Banks", "message": "TODO"})


@require("match")
def debugger(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Debugger", "message": "TODO"})

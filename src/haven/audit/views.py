"""The audit log for auditors (placeholder until built)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.permissions import require


@require("audit:read")
def log(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Audit", "message": "TODO"})

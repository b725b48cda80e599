"""User and token administration (placeholder until built)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.permissions import require


@require("users:manage")
def users(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Users", "message": "TODO"})


@require("tokens:manage")
def tokens(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Tokens", "message": "TODO"})

"""The dashboard, the health check and the error pages."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from haven.accounts.permissions import require
from haven.web.errors import error_body

__all__ = ["bad_request", "dashboard", "forbidden", "health", "not_found", "server_error"]


@require("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    from haven.web.dashboard import dashboard_context

    return render(request, "web/dashboard.html", dashboard_context(request))


def health(request: HttpRequest) -> HttpResponse:
    """Public: says whether the process is up and reaches its database, nothing more."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        code = title.lower().replace(" ", "_")
        return JsonResponse(error_body(status, code, message), status=status)
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "Bad request", "The request could not be understood.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "Forbidden", "Your role does not allow this.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "Not found", "There is no such page or record.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Server error", "Something went wrong; it has been logged.")

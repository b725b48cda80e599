"""One error shape for every API failure: `{"error": {"status", "code", "message", "details"}}`.

Clients never see a traceback or an HTML page from `/api/`: validation problems are 400s
that say which field and why, and anything unexpected is a 500 in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from haven.accounts.permissions import PermissionDenied

__all__ = ["ApiError", "ErrorBody", "ErrorResponse", "error_body", "install_error_handlers"]

log = logging.getLogger("haven.api")


class ErrorBody(Schema):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(Schema):
    error: ErrorBody


class ApiError(Exception):
    """Raise from a service or endpoint to answer with this status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []

    @classmethod
    def field(cls, field: str, problem: str, code: str = "invalid_request") -> ApiError:
        """A 400 about one field of the request: `items[3].region: must be ...`."""
        return cls(400, code, f"{field}: {problem}", [{"field": field, "problem": problem}])


def error_body(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The one error shape, also for `/api/` paths no endpoint answers (`haven.web.views`)."""
    return {"error": {"status": status, "code": code, "message": message, "details": details or []}}


def _answer(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(status, code, message, details), status=status)


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    details = []
    for item in errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
        details.append({"field": ".".join(location), "problem": str(item.get("msg", "invalid"))})
    return details


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return _answer(api, request, exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = _validation_details(list(exc.errors))
        first = details[0] if details else {"field": "", "problem": "invalid request"}
        where = f"{first['field']}: " if first["field"] else ""
        return _answer(api, request, 400, "invalid_request", f"{where}{first['problem']}", details)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _answer(
            api,
            request,
            401,
            "unauthenticated",
            "send a valid API token as 'Authorization: Bearer <token>'",
        )
        response["WWW-Authenticate"] = 'Bearer realm="haven"'
        return response

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _answer(api, request, 403, "forbidden", str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _answer(api, request, 404, "not_found", "no such record")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return _answer(api, request, 413, "too_large", "the request body is too large")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "invalid_request", 405: "method_not_allowed", 413: "too_large"}
        message = str(exc)
        if message.startswith("Cannot parse request body"):  # ninja's words, for any cause
            message = "the request body must be a JSON object"
        return _answer(api, request, exc.status_code, code.get(exc.status_code, "error"), message)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unexpected API error on %s", request.path)
        return _answer(api, request, 500, "internal_error", "an unexpected error; it was logged")

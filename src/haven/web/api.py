"""The REST API root: `/api/v1/...`, OpenAPI at `/api/openapi.json`, docs at `/api/docs`.

Every endpoint needs a bearer token (see `haven.accounts.api_auth`); each domain app adds
its router here. Failures share one error shape (`haven.web.errors`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from haven.accounts.api_auth import TokenAuth
from haven.web.errors import install_error_handlers

__all__ = ["api"]


class ObjectBodyParser(Parser):
    """JSON bodies must be objects: ninja would read `[]` or `42` as an object whose every
    field has its default, and answer as if the client had asked for nothing."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the request body is not a JSON object")
        return data


api = NinjaAPI(
    title="Haven API",
    version="1",
    description=(
        "Hashing, matching, hash banks and text signals. Send `Authorization: Bearer <token>`; "
        "tokens come from `haven token create` or the token administration page."
    ),
    urls_namespace="api",
    parser=ObjectBodyParser(),
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


def _add_routers() -> None:
    from haven.ads.api import router as text_router
    from haven.banks.api import router as banks_router
    from haven.detection.api import router as detection_router
    from haven.reports.intake import router as intake_router
    from haven.reports.intake_files import router as intake_files_router

    api.add_router("/v1/", banks_router)
    api.add_router("/v1/", text_router)
    api.add_router("/v1/", intake_router)
    api.add_router("/v1/", intake_files_router)
    api.add_router("/v1/", detection_router)


_add_routers()

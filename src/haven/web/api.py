"""The REST API root: `/api/v1/...`, OpenAPI at `/api/openapi.json`, docs at `/api/docs`.

Every endpoint needs a bearer token (see `haven.accounts.api_auth`); each domain app adds
its router here. Failures share one error shape (`haven.web.errors`).
"""

from __future__ import annotations

from ninja import NinjaAPI

from haven.accounts.api_auth import TokenAuth
from haven.web.errors import install_error_handlers

__all__ = ["api"]

api = NinjaAPI(
    title="Haven API",
    version="1",
    description=(
        "Hashing, matching and hash banks. Send `Authorization: Bearer <token>`; "
        "tokens come from `haven token create` or the token administration page."
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


def _add_routers() -> None:
    from haven.banks.api import router as banks_router

    api.add_router("/v1/", banks_router)


_add_routers()

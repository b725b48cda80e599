"""Template context: the navigation a person sees, by what their role allows."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from haven.accounts.permissions import principal_for_user

__all__ = ["NAVIGATION", "navigation"]

# (label, URL name, permission needed to see the link)
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("Dashboard", "web:dashboard", "dashboard"),
    ("Banks", "banks:list", "banks:read"),
    ("Match debugger", "banks:debugger", "match"),
    ("Review", "detection:review-queue", "review"),
    ("Reports", "detection:report-drafts", "reports:send"),
    ("Policies", "detection:policies", "policies:manage"),
    ("Transparency", "detection:transparency", "transparency:read"),
    ("Ad networks", "ads:clusters", "ads:read"),
    ("Audit log", "audit:log", "audit:read"),
    ("Users", "accounts:users", "users:manage"),
    ("API tokens", "accounts:tokens", "tokens:manage"),
    ("Report destinations", "detection:destinations", "reports:destinations"),
    ("Node", "exchange:node", "node:manage"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    principal = principal_for_user(getattr(request, "user", None))
    if principal is None:
        return {"nav_links": [], "haven_node": _node_name()}
    links = [
        {"label": label, "url": reverse(name), "current": request.path == reverse(name)}
        for label, name, permission in NAVIGATION
        if principal.can(permission)
    ]
    return {"nav_links": links, "haven_node": _node_name(), "principal": principal}


def _node_name() -> str:
    from django.conf import settings

    return str(settings.HAVEN.node_name)

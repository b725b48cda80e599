"""Belt and braces for the second factor: a session whose user's role needs TOTP but that
was not verified with it (an old session, a role changed since, a device reset by an
administrator) is signed out."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from haven.audit.services import record

__all__ = ["RequireVerifiedSignInMiddleware"]


class RequireVerifiedSignInMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "needs_second_factor", False)
            and not user.is_verified()
        ):
            record(
                "auth.sign_out",
                request=request,
                actor=f"user:{user.pk}",
                actor_label=user.get_username(),
                outcome="denied",
                detail={"reason": "second factor not verified"},
            )
            logout(request)
            return redirect("accounts:login")
        return self.get_response(request)

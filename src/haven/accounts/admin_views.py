"""User, agency, team and API token administration.

Every page needs `users:manage` (people, agencies, teams) or `tokens:manage` (tokens), and
every query goes through the administrator's reach: a user or token outside it answers 404.
Secrets (a generated password, a new token) are shown once, on the page that answers the
POST which made them, and never again; those pages are not cached.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import services, signin
from haven.accounts.forms import (
    AgencyForm,
    TeamForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
    UserSearchForm,
)
from haven.accounts.models import ApiToken, User
from haven.accounts.permissions import Principal, require
from haven.accounts.roles import ROLE_LABELS, TOTP_REQUIRED, Reach, Role

__all__ = [
    "agencies",
    "teams",
    "token_create",
    "token_revoke",
    "tokens",
    "user_create",
    "user_deactivate",
    "user_detail",
    "user_reset_password",
    "user_reset_totp",
    "user_unlock",
    "users",
]

PAGE_SIZE = 50


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.haven_principal  # type: ignore[attr-defined]
    return principal


def _by(request: HttpRequest) -> services.Actor:
    return services.Actor(request=request)


def _user_or_404(request: HttpRequest, pk: int) -> User:
    found: User | None = services.users_within_reach(_principal(request)).filter(pk=pk).first()
    if found is None:
        raise Http404("no such user")
    return found


# ---- people ---------------------------------------------------------------------------


@require("users:manage")
@require_http_methods(["GET"])
def users(request: HttpRequest) -> HttpResponse:
    search = UserSearchForm(request.GET or None)
    found = services.users_within_reach(_principal(request)).order_by("username")
    if search.is_valid():
        q = search.cleaned_data["q"].strip()
        if q:
            found = found.filter(
                Q(username__icontains=q) | Q(full_name__icontains=q) | Q(email__icontains=q)
            )
        if search.cleaned_data["role"]:
            found = found.filter(role=search.cleaned_data["role"])
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    enrolled = set(
        TOTPDevice.objects.filter(
            confirmed=True, user_id__in=[u.pk for u in page.object_list]
        ).values_list("user_id", flat=True)
    )
    rows = [
        {
            "user": u,
            "enrolled": u.pk in enrolled,
            "locked": signin.is_locked(u.get_username()),
        }
        for u in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/users.html",
        {"search": search, "rows": rows, "page": page, "query": query.urlencode()},
    )


@never_cache
@require("users:manage")
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form = UserCreateForm(
        request.POST or None,
        agencies=services.agencies_within_reach(principal),
        teams=services.teams_within_reach(principal),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        generated = not data["password"]
        password = services.generate_password() if generated else data["password"]
        try:
            user = services.create_user(
                data["username"],
                Role(data["role"]),
                data["agency"],
                _by(request),
                team=data["team"],
                email=data["email"],
                full_name=data["full_name"],
                password=password,
            )
        except (ValidationError, ValueError, IntegrityError) as exc:
            # A validator rejected the generated password, or another admin was faster.
            form.add_error(None, f"The user could not be created: {_message(exc)}")
        else:
            return render(
                request,
                "accounts/user_created.html",
                {
                    "created": user,
                    "password": password if generated else "",
                    "needs_totp": user.needs_second_factor,
                },
            )
    return render(
        request, "accounts/user_form.html", {"form": form, "agencies_exist": _has_agency(form)}
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, IntegrityError):
        return "a user with this name already exists"
    return str(exc)


def _has_agency(form: Any) -> bool:
    return bool(form.fields["agency"].queryset.exists())


@require("users:manage")
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    principal = _principal(request)
    person = _user_or_404(request, pk)
    editing_self = person.pk == principal.user_id
    initial = {
        "full_name": person.full_name,
        "email": person.email,
        "role": person.role,
        "agency": person.agency_id,
        "team": person.team_id,
        "is_active": person.is_active,
    }
    form = UserEditForm(
        request.POST or None,
        initial=initial,
        agencies=services.agencies_within_reach(principal),
        teams=services.teams_within_reach(principal),
        editing_self=editing_self,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = services.update_user(
            person,
            _by(request),
            full_name=data["full_name"],
            email=data["email"],
            role=data["role"],
            agency=data["agency"],
            team=data["team"],
            is_active=data["is_active"],
        )
        if changed:
            messages.success(request, f"Saved changes to {person.get_username()}.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("accounts:user-detail", pk=person.pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "form": form,
            "editing_self": editing_self,
            "enrolled": signin.confirmed_device(person) is not None,
            "locked": signin.is_locked(person.get_username()),
            "needs_totp": Role(person.role) in TOTP_REQUIRED,
            "role_label": ROLE_LABELS[Role(person.role)],
        },
    )


@require("users:manage")
@require_POST
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user_or_404(request, pk)
    if person.pk == _principal(request).user_id:
        messages.error(request, "You cannot deactivate your own account.")
    elif services.deactivate_user(person, _by(request)):
        messages.success(request, f"{person.get_username()} is deactivated.")
    else:
        messages.info(request, f"{person.get_username()} was already inactive.")
    return redirect("accounts:user-detail", pk=person.pk)


@require("users:manage")
@require_POST
def user_reset_totp(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user_or_404(request, pk)
    services.reset_totp(person, _by(request))
    messages.success(
        request,
        f"Second factor reset: {person.get_username()} sets up a new one at the next sign-in.",
    )
    return redirect("accounts:user-detail", pk=person.pk)


@require("users:manage")
@require_POST
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user_or_404(request, pk)
    password = services.reset_password(person, _by(request))
    response = render(
        request, "accounts/password_reset_done.html", {"person": person, "password": password}
    )
    response["Cache-Control"] = "no-store"
    return response


@require("users:manage")
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    person = _user_or_404(request, pk)
    services.unlock_user(person, _by(request))
    messages.success(request, f"{person.get_username()} is unlocked.")
    return redirect("accounts:user-detail", pk=person.pk)


# ---- agencies and teams -------------------------------------------------------------


@require("users:manage")
@require_http_methods(["GET", "POST"])
def agencies(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form = AgencyForm(request.POST or None)
    may_create = principal.reach is Reach.ALL
    if request.method == "POST":
        if not may_create:
            return render(
                request, "web/forbidden.html", {"permission": "users:manage (all)"}, status=403
            )
        if form.is_valid():
            agency = services.create_agency(
                form.cleaned_data["name"], _by(request), country=form.cleaned_data["country"]
            )
            messages.success(request, f"Agency {agency.name} created.")
            return redirect("accounts:agencies")
    return render(
        request,
        "accounts/agencies.html",
        {
            "form": form,
            "may_create": may_create,
            "agencies": services.agencies_within_reach(principal).order_by("name"),
        },
    )


@require("users:manage")
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form = TeamForm(request.POST or None, agencies=services.agencies_within_reach(principal))
    if request.method == "POST" and form.is_valid():
        team = services.create_team(
            form.cleaned_data["agency"], form.cleaned_data["name"], _by(request)
        )
        messages.success(request, f"Team {team.name} created in {team.agency.name}.")
        return redirect("accounts:teams")
    return render(
        request,
        "accounts/teams.html",
        {
            "form": form,
            "teams": services.teams_within_reach(principal),
            "agencies_exist": _has_agency(form),
        },
    )


# ---- API tokens -----------------------------------------------------------------------


@require("tokens:manage")
@require_http_methods(["GET"])
def tokens(request: HttpRequest) -> HttpResponse:
    found = services.tokens_within_reach(_principal(request))
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/tokens.html", {"page": page})


@never_cache
@require("tokens:manage")
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    form = TokenCreateForm(request.POST or None, agencies=services.agencies_within_reach(principal))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, text = services.issue_token(
                data["name"],
                data["scopes"],
                data["agency"],
                _by(request),
                expires_days=None if data["never_expires"] else data["expires_days"],
                created_by=request.user if isinstance(request.user, User) else None,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return render(request, "accounts/token_created.html", {"token": token, "text": text})
    return render(
        request, "accounts/token_form.html", {"form": form, "agencies_exist": _has_agency(form)}
    )


@require("tokens:manage")
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token: ApiToken | None = services.tokens_within_reach(_principal(request)).filter(pk=pk).first()
    if token is None:
        raise Http404("no such token")
    if services.revoke_token(token, _by(request)):
        messages.success(request, f"Token {token.name} ({token.key}) is revoked.")
    else:
        messages.info(request, f"Token {token.name} was already revoked.")
    return redirect("accounts:tokens")

"""The one place that decides who may do what and who sees which record.

A *principal* is whoever acts: a signed-in person or a machine client's token. Views call
`require` (a decorator) or `check`; every list and detail query goes through `visible` or
`get_visible_or_404`, so a record outside the principal's reach answers 404 — its
existence is not disclosed — while a missing permission answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from haven.accounts.roles import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLE_REACH,
    TOKEN_SCOPES,
    Reach,
    Role,
)

__all__ = [
    "SCOPED_RECORD",
    "PermissionDenied",
    "Principal",
    "ReachFields",
    "check",
    "get_visible_or_404",
    "principal_for_token",
    "principal_for_user",
    "principal_of",
    "reach_filter",
    "require",
    "system_principal",
    "visible",
]

M = TypeVar("M", bound=Model)
View = TypeVar("View", bound=Callable[..., HttpResponse])


class PermissionDenied(Exception):
    """The principal lacks a permission; the message names it."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, reduced to what checks need; also what the audit log records."""

    kind: str  # "user", "token", or "system" (the `haven` command, set-up scripts)
    id: int
    label: str
    permissions: frozenset[str]
    reach: Reach
    agency_id: int
    team_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal: `user:12`, `token:3` or `system:cli`."""
        if self.kind == "system":
            return f"system:{self.label}"
        return f"{self.kind}:{self.id}"

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def principal_for_user(user: Any) -> Principal | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    role = Role(user.role)
    return Principal(
        "user",
        user.pk,
        user.get_username(),
        ROLE_PERMISSIONS[role],
        ROLE_REACH[role],
        user.agency_id,
        user.team_id,
    )


def principal_for_token(token: Any) -> Principal:
    scopes = frozenset(s for s in token.scopes if s in TOKEN_SCOPES)
    return Principal("token", token.pk, token.name, scopes, Reach.AGENCY, token.agency_id)


def system_principal(agency_id: int = 0, label: str = "cli") -> Principal:
    """The principal of the `haven` command: every permission, reach ALL.

    `agency_id` is where the records it creates belong; the audit log names it
    `system:<label>`.
    """
    return Principal("system", 0, label, frozenset(PERMISSIONS), Reach.ALL, agency_id)


def principal_of(request: HttpRequest) -> Principal | None:
    """The principal behind a request: an API token if one authenticated it, else the user."""
    token_principal = getattr(request, "haven_principal", None)
    if isinstance(token_principal, Principal):
        return token_principal
    return principal_for_user(getattr(request, "user", None))


def check(principal: Principal | None, permission: str) -> Principal:
    """Return the principal if it holds `permission`, else raise PermissionDenied."""
    if principal is None or not principal.can(permission):
        raise PermissionDenied(f"this needs the {permission!r} permission")
    return principal


@dataclass(frozen=True, slots=True)
class ReachFields:
    """Where a model keeps what reach reads: its agency, team and owner (None: it has none).

    ScopedRecord's fields are the default; people, agencies, teams and tokens name theirs.
    """

    agency: str = "agency_id"
    team: str | None = "team_id"
    owner: str | None = "owner_id"


SCOPED_RECORD = ReachFields()


def reach_filter(principal: Principal, fields: ReachFields = SCOPED_RECORD) -> Q:
    """The records a principal sees, as a filter on the model's agency/team/owner fields."""
    if principal.reach is Reach.ALL:
        return Q()
    agency = Q(**{fields.agency: principal.agency_id})
    if principal.reach is Reach.AGENCY:
        return agency
    if principal.reach is Reach.TEAM and principal.team_id is not None:
        if fields.team is None:
            return agency
        # A record of no team belongs to the agency as a whole (banks, unassigned records).
        return agency & (
            Q(**{fields.team: principal.team_id}) | Q(**{f"{fields.team}__isnull": True})
        )
    if principal.user_id is None or fields.owner is None:
        return Q(pk__in=[])
    return agency & Q(**{fields.owner: principal.user_id})


def visible(
    queryset: QuerySet[M], principal: Principal, fields: ReachFields = SCOPED_RECORD
) -> QuerySet[M]:
    return queryset.filter(reach_filter(principal, fields))


def get_visible_or_404(queryset: QuerySet[M], principal: Principal, **lookup: Any) -> M:
    """One record within reach; 404 both when it does not exist and when it is out of reach."""
    found = visible(queryset, principal).filter(**lookup).first()
    if found is None:
        raise Http404("no such record")
    return found


def require(permission: str) -> Callable[[View], View]:
    """Decorate a view: sign-in required, then `permission`; 403 page when it is missing."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            principal = principal_for_user(request.user)
            if principal is None:
                return redirect_to_login(request.get_full_path())
            if not principal.can(permission):
                return render(request, "web/forbidden.html", {"permission": permission}, status=403)
            request.haven_principal = principal  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate

"""Account changes that administrators make, from the web pages or the `haven` command.

Each function validates, changes and audits in one transaction, so a change and its audit
entry commit together. Who acted comes from the request (the web) or an explicit actor
(`system:cli` for the command line). Audit entries name records by id; nothing personal
goes into their detail.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import signin
from haven.accounts.models import TOKEN_PREFIX, Agency, ApiToken, Team, User
from haven.accounts.permissions import Principal, ReachFields, system_principal, visible
from haven.accounts.roles import TOKEN_SCOPES, Role
from haven.audit.services import record

__all__ = [
    "CLI_ACTOR",
    "DEFAULT_EXPIRY_DAYS",
    "Actor",
    "agencies_within_reach",
    "create_agency",
    "create_team",
    "create_user",
    "deactivate_user",
    "find_tokens",
    "generate_password",
    "issue_token",
    "parse_scopes",
    "reset_password",
    "reset_totp",
    "revoke_token",
    "teams_within_reach",
    "tokens_within_reach",
    "unlock_user",
    "update_user",
    "users_within_reach",
]

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a web request (its signed-in user) or a system principal."""

    request: HttpRequest | None = None
    principal: Principal | None = None

    def audit(self, action: str, **fields: Any) -> None:
        record(action, request=self.request, principal=self.principal, **fields)


CLI_ACTOR = Actor(principal=system_principal(label="cli"))


# Reach: what an administrator sees, by the one rule in haven.accounts.permissions.
# Administrators have reach ALL; a narrower reach (a future agency administrator) sees its
# own agency's people, teams and tokens only.
_PEOPLE = ReachFields(agency="agency_id", team="team_id", owner="pk")
_AGENCIES = ReachFields(agency="pk", team=None, owner=None)
_TEAMS = ReachFields(agency="agency_id", team="pk", owner=None)
_TOKENS = ReachFields(agency="agency_id", team=None, owner="created_by_id")


def users_within_reach(principal: Principal) -> QuerySet[User]:
    return visible(User.objects.select_related("agency", "team"), principal, _PEOPLE)


def agencies_within_reach(principal: Principal) -> QuerySet[Agency]:
    return visible(Agency.objects.all(), principal, _AGENCIES)


def teams_within_reach(principal: Principal) -> QuerySet[Team]:
    return visible(Team.objects.select_related("agency"), principal, _TEAMS)


def tokens_within_reach(principal: Principal) -> QuerySet[ApiToken]:
    return visible(ApiToken.objects.select_related("agency", "created_by"), principal, _TOKENS)


def generate_password() -> str:
    """A random initial password (about 120 bits) that every configured validator accepts."""
    while True:
        candidate = "-".join(secrets.token_urlsafe(6) for _ in range(4))
        if any(ch.isalpha() for ch in candidate):
            return candidate


def create_agency(name: str, by: Actor, *, country: str = "") -> Agency:
    with transaction.atomic():
        agency = Agency.objects.create(name=name.strip(), country=country.strip().upper())
        by.audit("agency.create", target_type="agency", target_id=agency.pk)
    return agency


def create_team(agency: Agency, name: str, by: Actor) -> Team:
    with transaction.atomic():
        team = Team.objects.create(agency=agency, name=name.strip())
        by.audit("team.create", target_type="team", target_id=team.pk, detail={"agency": agency.pk})
    return team


def create_user(
    username: str,
    role: Role,
    agency: Agency,
    by: Actor,
    *,
    team: Team | None = None,
    email: str = "",
    full_name: str = "",
    password: str,
) -> User:
    """Create a user; the password must pass AUTH_PASSWORD_VALIDATORS (ValidationError)."""
    if team is not None and team.agency_id != agency.pk:
        raise ValueError(f"team {team.name!r} belongs to another agency")
    user = User(
        username=username,
        role=role.value,
        agency=agency,
        team=team,
        email=email,
        full_name=full_name,
    )
    validate_password(password, user=user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        by.audit(
            "user.create",
            target_type="user",
            target_id=user.pk,
            detail={"role": role.value, "agency": agency.pk, "team": team.pk if team else None},
        )
    return user


_TRACKED = ("role", "agency_id", "team_id", "is_active", "email", "full_name")


def update_user(user: User, by: Actor, **changes: Any) -> list[str]:
    """Apply changes to role, agency, team, active, e-mail or name; returns what changed."""
    before = {name: getattr(user, name) for name in _TRACKED}
    for name, value in changes.items():
        setattr(user, name, value)
    if user.team is not None and user.team.agency_id != user.agency_id:
        raise ValueError("the team belongs to another agency")
    changed = [name for name in _TRACKED if getattr(user, name) != before[name]]
    if not changed:
        return []
    with transaction.atomic():
        user.save()
        detail: dict[str, Any] = {"fields": [name.removesuffix("_id") for name in changed]}
        # Role, agency and team decide what a person may do and see: record their values.
        for name in ("role", "agency_id", "team_id", "is_active"):
            if name in changed:
                detail[name.removesuffix("_id")] = getattr(user, name)
        by.audit("user.update", target_type="user", target_id=user.pk, detail=detail)
        if "is_active" in changed and not user.is_active:
            by.audit("user.deactivate", target_type="user", target_id=user.pk)
    return changed


def deactivate_user(user: User, by: Actor) -> bool:
    """Deactivate (never delete: the audit log refers to people by id). False if already."""
    if not user.is_active:
        return False
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        by.audit("user.deactivate", target_type="user", target_id=user.pk)
    return True


def reset_totp(user: User, by: Actor) -> int:
    """Remove the user's TOTP devices: they enrol a new one at their next sign-in, and any
    session verified with the old device is signed out (the device no longer exists)."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(second_factor_failures=0)
        by.audit(
            "user.reset_totp", target_type="user", target_id=user.pk, detail={"devices": removed}
        )
    return int(removed)


def reset_password(user: User, by: Actor) -> str:
    """Give the user a new random password (shown once to the administrator); every session
    of theirs ends, since Django ties sessions to the password hash."""
    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        by.audit("user.reset_password", target_type="user", target_id=user.pk)
    return password


def unlock_user(user: User, by: Actor) -> int:
    """Lift an axes lockout and the wrong-code counts before the cool-off ends."""
    with transaction.atomic():
        removed = signin.unlock(user)
        by.audit("user.unlock", target_type="user", target_id=user.pk, detail={"cleared": removed})
    return removed


def parse_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, checked against TOKEN_SCOPES; ValueError naming the valid ones."""
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in chosen if s not in TOKEN_SCOPES]
    if unknown:
        raise ValueError(
            f"unknown scope {', '.join(repr(s) for s in unknown)}; "
            f"valid scopes: {', '.join(TOKEN_SCOPES)}"
        )
    if not chosen:
        raise ValueError(
            f"a token needs at least one scope; valid scopes: {', '.join(TOKEN_SCOPES)}"
        )
    return chosen


def issue_token(
    name: str,
    scopes: Iterable[str],
    agency: Agency,
    by: Actor,
    *,
    expires_days: int | None = DEFAULT_EXPIRY_DAYS,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token (None days: never expires); returns the row and the text, shown once."""
    checked = parse_scopes(scopes)
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValueError(f"expiry must be 1 to {MAX_EXPIRY_DAYS} days, or never")
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    with transaction.atomic():
        token, text = ApiToken.issue(
            name.strip(), checked, agency, created_by=created_by, expires_at=expires_at
        )
        by.audit(
            "token.create",
            target_type="token",
            target_id=token.pk,
            detail={"scopes": checked, "agency": agency.pk, "expires_days": expires_days},
        )
    return token, text


def revoke_token(token: ApiToken, by: Actor) -> bool:
    """Revoke now; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        by.audit("token.revoke", target_type="token", target_id=token.pk)
    from haven.accounts.api_auth import forget_cached_tokens

    forget_cached_tokens()
    return True


def find_tokens(key_or_name: str) -> list[ApiToken]:
    """Tokens named by key, by whole token text or by name (name matches only unrevoked)."""
    text = key_or_name.strip()
    if text.startswith(TOKEN_PREFIX):
        text = text[len(TOKEN_PREFIX) :].partition("_")[0]
    by_key = list(ApiToken.objects.filter(key=text))
    if by_key:
        return by_key
    return list(ApiToken.objects.filter(name=key_or_name.strip(), revoked_at__isnull=True))

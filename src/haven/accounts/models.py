"""People, agencies and teams, machine clients' tokens, and the scope every record carries."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from haven.accounts.roles import ROLE_LABELS, TOTP_REQUIRED, Role

__all__ = ["Agency", "ApiToken", "ScopedRecord", "Team", "User"]


class Agency(models.Model):
    """An organisation using this node: a platform, a hotline, a police unit, an NGO."""

    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="team_unique")]

    def __str__(self) -> str:
        return f"{self.agency.name} / {self.name}"


class User(AbstractUser):
    """A person. The role decides what they may do; agency and team decide what they see."""

    role = models.CharField(max_length=32, choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="users")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="members", null=True, blank=True
    )
    # One field for the whole name: names do not split into first and last everywhere.
    full_name = models.CharField(max_length=200, blank=True)
    # Wrong second-factor codes in a row, kept on the user (not the session) so that
    # starting a fresh sign-in does not give a guesser a fresh allowance.
    second_factor_failures = models.PositiveSmallIntegerField(default=0)

    REQUIRED_FIELDS = ["role"]

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name()

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    @property
    def needs_second_factor(self) -> bool:
        return Role(self.role) in TOTP_REQUIRED


class ScopedRecord(models.Model):
    """A record seen within its owner's reach: own, team, agency or (for some roles) all."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        abstract = True


TOKEN_PREFIX = "hvn_"
# `hvn_` + 16 hex digits (the key) + `_` + the URL-safe secret (43 characters today).
_TOKEN_TEXT = re.compile(r"hvn_[0-9a-f]{16}_[A-Za-z0-9_-]{16,128}", re.ASCII)


def _digest(secret: str) -> str:
    # Tokens carry 256 random bits, so one SHA-256 is enough (no slow hash needed).
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine client's bearer token: stored hashed, scoped, expiring and revocable.

    The token text is `hvn_<key>_<secret>`: `key` finds the row, the secret's SHA-256 is
    compared in constant time. The text is shown once, at creation.
    """

    name = models.CharField(max_length=200)
    key = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="tokens")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="tokens_created", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @classmethod
    def issue(
        cls,
        name: str,
        scopes: list[str],
        agency: Agency,
        *,
        created_by: User | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token; returns the row and the token text (never stored)."""
        key = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name,
            key=key,
            digest=_digest(secret),
            scopes=sorted(set(scopes)),
            agency=agency,
            created_by=created_by,
            expires_at=expires_at,
        )
        return token, f"{TOKEN_PREFIX}{key}_{secret}"

    @classmethod
    def find(cls, text: str) -> ApiToken | None:
        """The live token this text names, or None (unknown, wrong secret, expired, revoked)."""
        if not isinstance(text, str) or not _TOKEN_TEXT.fullmatch(text):
            # Anything else never reaches the database (PostgreSQL refuses NUL bytes, say).
            return None
        key, _, secret = text[len(TOKEN_PREFIX) :].partition("_")
        token = cls.objects.select_related("agency").filter(key=key).first()
        if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
            return None
        return token if token.is_live else None

    @property
    def is_live(self) -> bool:
        now = timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

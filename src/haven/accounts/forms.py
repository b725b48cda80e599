"""Forms of the user, agency, team and token administration pages.

Choices of agency and team are limited to the administrator's reach, so a form never offers
(nor accepts) a record the person could not see.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from haven.accounts.models import Agency, Team, User
from haven.accounts.roles import DEFAULT_TOKEN_SCOPES, ROLE_LABELS, TOKEN_SCOPES, Role
from haven.accounts.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS

__all__ = [
    "AgencyForm",
    "TeamForm",
    "TokenCreateForm",
    "UserCreateForm",
    "UserEditForm",
    "UserSearchForm",
]

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class _ReachForm(forms.Form):
    """A form whose agency and team choices come from the administrator's reach."""

    def __init__(
        self,
        *args: Any,
        agencies: QuerySet[Agency],
        teams: QuerySet[Team] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if "agency" in self.fields:
            self.fields["agency"].queryset = agencies  # type: ignore[attr-defined]
        if "team" in self.fields and teams is not None:
            self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def _check_team(self, cleaned: dict[str, Any]) -> None:
        team, agency = cleaned.get("team"), cleaned.get("agency")
        if team is not None and agency is not None and team.agency_id != agency.pk:
            self.add_error("team", f"Team {team.name!r} belongs to agency {team.agency.name!r}.")


class UserSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=150, label="Search")
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *ROLE_CHOICES])


class UserCreateForm(_ReachForm):
    username = forms.CharField(
        max_length=150,
        label="User name",
        validators=[User.username_validator],
        help_text="Letters, digits and @ . + - _ only.",
    )
    full_name = forms.CharField(max_length=200, required=False, label="Full name")
    email = forms.EmailField(required=False, label="E-mail")
    role = forms.ChoiceField(choices=ROLE_CHOICES, label="Role")
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), label="Agency")
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Team", empty_label="No team"
    )
    password = forms.CharField(
        required=False,
        strip=False,
        max_length=1024,
        label="Initial password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to generate one (shown once). "
        + " ".join(password_validators_help_texts()),
    )
    password_again = forms.CharField(
        required=False,
        strip=False,
        max_length=1024,
        label="Initial password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with this name already exists.")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_team(cleaned)
        password, again = cleaned.get("password", ""), cleaned.get("password_again", "")
        if password or again:
            if password != again:
                self.add_error("password_again", "The two passwords differ.")
            else:
                candidate = User(
                    username=cleaned.get("username", ""),
                    email=cleaned.get("email", ""),
                    full_name=cleaned.get("full_name", ""),
                )
                try:
                    validate_password(password, user=candidate)
                except ValidationError as exc:
                    self.add_error("password", exc)
        return cleaned


class UserEditForm(_ReachForm):
    full_name = forms.CharField(max_length=200, required=False, label="Full name")
    email = forms.EmailField(required=False, label="E-mail")
    role = forms.ChoiceField(choices=ROLE_CHOICES, label="Role")
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), label="Agency")
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Team", empty_label="No team"
    )
    is_active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="An inactive user cannot sign in; their records and audit trail remain.",
    )

    def __init__(self, *args: Any, editing_self: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing_self = editing_self
        if editing_self:
            # Nobody demotes or deactivates themselves by accident (and locks the node out).
            for name in ("role", "is_active"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "You cannot change this for your own account."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_team(cleaned)
        return cleaned


class AgencyForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    country = forms.CharField(
        max_length=2,
        min_length=2,
        required=False,
        label="Country",
        help_text="Two-letter ISO 3166-1 code, for example NL.",
    )

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError("Give a name.")
        if Agency.objects.filter(name__iexact=name).exists():
            raise ValidationError("An agency with this name already exists.")
        return name

    def clean_country(self) -> str:
        country = str(self.cleaned_data.get("country") or "").strip().upper()
        if country and not (country.isascii() and country.isalpha()):
            raise ValidationError("Use two letters, for example NL.")
        return country


class TeamForm(_ReachForm):
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), label="Agency")
    name = forms.CharField(max_length=200, label="Name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, agency = str(cleaned.get("name") or "").strip(), cleaned.get("agency")
        if "name" in cleaned and not name:
            self.add_error("name", "Give a name.")
        elif agency is not None and Team.objects.filter(agency=agency, name__iexact=name).exists():
            self.add_error("name", "This agency already has a team with this name.")
        cleaned["name"] = name
        return cleaned


class TokenCreateForm(_ReachForm):
    name = forms.CharField(
        max_length=200, label="Name", help_text="What uses the token, e.g. the upload scanner."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {meaning}") for name, meaning in TOKEN_SCOPES.items()],
        initial=list(DEFAULT_TOKEN_SCOPES),
        widget=forms.CheckboxSelectMultiple,
        label="Scopes",
        error_messages={"required": "Choose at least one scope."},
    )
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), label="Agency")
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        initial=DEFAULT_EXPIRY_DAYS,
        label="Expires after (days)",
    )
    never_expires = forms.BooleanField(required=False, label="Never expires")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError("Give a name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            not cleaned.get("never_expires")
            and cleaned.get("expires_days") is None
            and "expires_days" not in self.errors
        ):
            self.add_error("expires_days", "Give a number of days, or tick “Never expires”.")
        return cleaned

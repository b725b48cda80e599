"""User, agency, team and token administration pages: who may use them, what they do."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from tests.accounts.helpers import PASSWORD, make_agency, make_device, make_user, signed_in_client

from haven.accounts.models import Agency, ApiToken, Team, User
from haven.accounts.roles import ROLE_PERMISSIONS, Role
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("accounts:users", "users:manage"),
    ("accounts:user-create", "users:manage"),
    ("accounts:agencies", "users:manage"),
    ("accounts:teams", "users:manage"),
    ("accounts:tokens", "tokens:manage"),
    ("accounts:token-create", "tokens:manage"),
]


@pytest.fixture
def admin(client: Client) -> Client:
    return signed_in_client(client, make_user("administrator", username="root-admin"))


def _last(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-seq").first()
    assert entry is not None, f"no {action} entry"
    return entry


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("name", "permission"), ADMIN_PAGES)
def test_admin_pages_allow_and_deny_by_role(role: Role, name: str, permission: str) -> None:
    client = signed_in_client(Client(), make_user(role))
    response = client.get(reverse(name))
    expected = 200 if permission in ROLE_PERMISSIONS[role] else 403
    assert response.status_code == expected


@pytest.mark.parametrize(("name", "_permission"), ADMIN_PAGES)
def test_admin_pages_send_the_anonymous_to_sign_in(name: str, _permission: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_post_only_actions_refuse_other_roles_and_get() -> None:
    target = make_user("auditor")
    token = ApiToken.issue("t", ["hash"], make_agency())[0]
    analyst = signed_in_client(Client(), make_user("provider_analyst"))
    for url in (
        reverse("accounts:user-deactivate", args=[target.pk]),
        reverse("accounts:user-reset-totp", args=[target.pk]),
        reverse("accounts:user-unlock", args=[target.pk]),
        reverse("accounts:token-revoke", args=[token.pk]),
    ):
        assert analyst.post(url).status_code == 403
    target.refresh_from_db()
    assert target.is_active
    admin = signed_in_client(Client(), make_user("administrator"))
    assert admin.get(reverse("accounts:user-deactivate", args=[target.pk])).status_code == 405


def test_user_list_search_and_role_filter(admin: Client) -> None:
    make_user("case_worker", username="carla")
    make_user("auditor", username="audrey")
    make_user("case_worker", username="cedric")
    page = admin.get(reverse("accounts:users"), {"q": "c"}).content.decode()
    assert "carla" in page and "cedric" in page
    page = admin.get(reverse("accounts:users"), {"role": "auditor"}).content.decode()
    assert "audrey" in page and "carla" not in page
    page = admin.get(reverse("accounts:users"), {"q": "zzz-nobody"}).content.decode()
    assert "No users match." in page


def test_create_user_with_a_generated_password_shown_once(admin: Client) -> None:
    agency = make_agency("Hotline")
    team = Team.objects.create(agency=agency, name="Intake")
    response = admin.post(
        reverse("accounts:user-create"),
        {
            "username": "newcomer",
            "full_name": "New Comer",
            "email": "newcomer@example.org",
            "role": "case_worker",
            "agency": agency.pk,
            "team": team.pk,
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    password = response.context["password"]
    assert password and password in response.content.decode()
    assert "second factor" in response.content.decode()
    user = User.objects.get(username="newcomer")
    assert user.password.startswith("argon2") and user.check_password(password)
    assert (user.role, user.agency, user.team, user.full_name) == (
        "case_worker",
        agency,
        team,
        "New Comer",
    )
    entry = _last("user.create")
    assert entry.target_id == str(user.pk) and entry.actor.startswith("user:")
    assert password not in str(entry.detail) and "newcomer" not in str(entry.detail)
    # Not shown again anywhere.
    detail = admin.get(reverse("accounts:user-detail", args=[user.pk]))
    assert password not in detail.content.decode()


def test_create_user_with_a_chosen_password_and_validation_errors(admin: Client) -> None:
    agency = make_agency()
    other = make_agency("Elsewhere")
    foreign_team = Team.objects.create(agency=other, name="Far")
    url = reverse("accounts:user-create")
    bad = admin.post(
        url,
        {
            "username": "weak",
            "role": "auditor",
            "agency": agency.pk,
            "team": foreign_team.pk,
            "password": "short",
            "password_again": "short",
        },
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "too short" in text and "belongs to agency" in text
    assert not User.objects.filter(username="weak").exists()

    mismatch = admin.post(
        url,
        {
            "username": "x1",
            "role": "auditor",
            "agency": agency.pk,
            "password": PASSWORD,
            "password_again": PASSWORD + "!",
        },
    )
    assert "The two passwords differ." in mismatch.content.decode()

    ok = admin.post(
        url,
        {
            "username": "chosen",
            "role": "auditor",
            "agency": agency.pk,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert ok.status_code == 200 and ok.context["password"] == ""
    assert User.objects.get(username="chosen").check_password(PASSWORD)

    dup = admin.post(url, {"username": "CHOSEN", "role": "auditor", "agency": agency.pk})
    assert "already exists" in dup.content.decode()
    assert "csrfmiddlewaretoken" in dup.content.decode()


def test_edit_user_role_agency_team_and_active(admin: Client) -> None:
    user = make_user("case_worker")
    agency = make_agency("Shelter")
    team = Team.objects.create(agency=agency, name="Night")
    url = reverse("accounts:user-detail", args=[user.pk])
    response = admin.post(
        url,
        {
            "role": "supervisor",
            "agency": agency.pk,
            "team": team.pk,
            "is_active": "on",
            "full_name": "",
            "email": "",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.role, user.agency, user.team, user.is_active) == ("supervisor", agency, team, True)
    entry = _last("user.update")
    assert entry.detail["role"] == "supervisor" and entry.detail["agency"] == agency.pk
    assert set(entry.detail["fields"]) == {"role", "agency", "team"}

    admin.post(url, {"role": "supervisor", "agency": agency.pk, "team": team.pk})
    user.refresh_from_db()
    assert not user.is_active
    assert _last("user.deactivate").target_id == str(user.pk)


def test_deactivate_never_deletes(admin: Client) -> None:
    user = make_user("auditor", password=PASSWORD)
    response = admin.post(reverse("accounts:user-deactivate", args=[user.pk]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert _last("user.deactivate").target_id == str(user.pk)
    # They cannot sign in any more.
    form = {"username": user.username, "password": PASSWORD}
    assert Client().post(reverse("accounts:login"), form).status_code == 200


def test_an_administrator_cannot_deactivate_or_demote_themselves(admin: Client) -> None:
    me = User.objects.get(username="root-admin")
    admin.post(reverse("accounts:user-deactivate", args=[me.pk]))
    admin.post(
        reverse("accounts:user-detail", args=[me.pk]),
        {"role": "trainer", "agency": me.agency_id, "full_name": "Me", "email": ""},
    )
    me.refresh_from_db()
    assert me.is_active and me.role == "administrator" and me.full_name == "Me"


def test_reset_totp_from_the_page(admin: Client) -> None:
    user = make_user("case_worker")
    make_device(user)
    page = admin.get(reverse("accounts:user-detail", args=[user.pk])).content.decode()
    assert "set up" in page
    admin.post(reverse("accounts:user-reset-totp", args=[user.pk]))
    assert not user.totpdevice_set.exists()
    assert _last("user.reset_totp").detail == {"devices": 1}


def test_unknown_user_answers_404(admin: Client) -> None:
    assert admin.get(reverse("accounts:user-detail", args=[999999])).status_code == 404
    assert admin.post(reverse("accounts:user-unlock", args=[999999])).status_code == 404


def test_agencies_and_teams_are_created_and_audited(admin: Client) -> None:
    response = admin.post(reverse("accounts:agencies"), {"name": "Focal point", "country": "nl"})
    assert response.status_code == 302
    agency = Agency.objects.get(name="Focal point")
    assert agency.country == "NL"
    assert _last("agency.create").target_id == str(agency.pk)
    again = admin.post(reverse("accounts:agencies"), {"name": "focal POINT"})
    assert "already exists" in again.content.decode()
    assert "Focal point" in admin.get(reverse("accounts:agencies")).content.decode()

    response = admin.post(reverse("accounts:teams"), {"agency": agency.pk, "name": "Intake"})
    assert response.status_code == 302
    team = Team.objects.get(agency=agency, name="Intake")
    assert _last("team.create").target_id == str(team.pk)
    again = admin.post(reverse("accounts:teams"), {"agency": agency.pk, "name": "intake"})
    assert "already has a team" in again.content.decode()


def test_token_create_shows_the_text_once_and_revoke(admin: Client) -> None:
    agency = make_agency("Platform")
    response = admin.post(
        reverse("accounts:token-create"),
        {
            "name": "upload scanner",
            "scopes": ["hash", "match"],
            "agency": agency.pk,
            "expires_days": "30",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    text = response.context["text"]
    assert re.fullmatch(r"hvn_[0-9a-f]{16}_[A-Za-z0-9_-]+", text)
    assert text in response.content.decode()
    assert "shown only this once" in response.content.decode()
    token = ApiToken.objects.get(name="upload scanner")
    assert token.scopes == ["hash", "match"] and token.agency == agency
    assert token.created_by == User.objects.get(username="root-admin")
    assert ApiToken.find(text) == token
    assert _last("token.create").target_id == str(token.pk)

    listing = admin.get(reverse("accounts:tokens")).content.decode()
    assert token.key in listing and text not in listing and "active" in listing

    admin.post(reverse("accounts:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.status == "revoked" and ApiToken.find(text) is None
    assert _last("token.revoke").target_id == str(token.pk)


def test_token_form_errors(admin: Client) -> None:
    agency = make_agency()
    url = reverse("accounts:token-create")
    response = admin.post(url, {"name": "x", "agency": agency.pk, "expires_days": "90"})
    assert "Choose at least one scope." in response.content.decode()
    response = admin.post(
        url, {"name": "x", "scopes": ["users:manage"], "agency": agency.pk, "expires_days": "90"}
    )
    assert "Select a valid choice" in response.content.decode()
    response = admin.post(url, {"name": "x", "scopes": ["hash"], "agency": agency.pk})
    assert "Never expires" in response.content.decode() and response.status_code == 200
    assert not ApiToken.objects.exists()
    response = admin.post(
        url, {"name": "x", "scopes": ["hash"], "agency": agency.pk, "never_expires": "on"}
    )
    assert response.status_code == 200
    assert ApiToken.objects.get(name="x").expires_at is None


def test_create_page_defaults(admin: Client) -> None:
    make_agency()
    page = admin.get(reverse("accounts:token-create")).content.decode()
    assert 'value="90"' in page
    for scope in ("hash", "match"):
        assert re.search(rf'value="{scope}"[^>]*checked', page)
    assert 'for="id_name"' in page


def test_forms_need_the_csrf_token() -> None:
    agency = make_agency()
    client = signed_in_client(Client(enforce_csrf_checks=True), make_user("administrator"))
    form = {"name": "x", "scopes": ["hash"], "agency": agency.pk, "expires_days": "9"}
    assert client.post(reverse("accounts:token-create"), form).status_code == 403
    assert not ApiToken.objects.exists()


def test_reach_limits_what_an_agency_wide_administrator_sees() -> None:
    from haven.accounts import services
    from haven.accounts.permissions import Principal
    from haven.accounts.roles import Reach

    mine, theirs = make_agency("Mine"), make_agency("Theirs")
    me = make_user("administrator", agency=mine)
    other = make_user("auditor", agency=theirs)
    ApiToken.issue("theirs", ["hash"], theirs)
    local = Principal(
        "user", me.pk, me.username, frozenset({"users:manage"}), Reach.AGENCY, mine.pk
    )
    assert list(services.users_within_reach(local)) == [me]
    assert other not in services.users_within_reach(local)
    assert list(services.agencies_within_reach(local)) == [mine]
    assert not services.tokens_within_reach(local).exists()
    everyone = Principal("user", me.pk, me.username, frozenset(), Reach.ALL, mine.pk)
    assert set(services.users_within_reach(everyone)) == {me, other}

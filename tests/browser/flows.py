"""Steps several browser tests share: signing in through the real two-step form."""

from __future__ import annotations

import re
from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.accounts.helpers import PASSWORD, code_for, make_device, make_user
from tests.browser.tab import Tab

from haven.accounts.models import User

__all__ = ["nav_labels", "person", "sign_in", "submit_code", "submit_password"]


def person(role: str, username: str | None = None) -> tuple[User, TOTPDevice | None]:
    """A user who signs in with PASSWORD, and their confirmed device when the role needs one."""
    user = make_user(role, username=username, password=PASSWORD)
    device = make_device(user) if user.needs_second_factor else None
    return user, device


def submit_password(tab: Tab, username: str, password: str = PASSWORD) -> None:
    page = tab.page
    if not page.url.endswith("/accounts/login/"):
        tab.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def submit_code(tab: Tab, code: str) -> None:
    page = tab.page
    page.locator("input[name=code]").fill(code)
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state()


def sign_in(tab: Tab, user: User, device: TOTPDevice | None) -> None:
    """Password, then (for roles that need it) the current TOTP code; ends signed in."""
    submit_password(tab, user.get_username())
    if device is not None:
        assert re.search(r"/accounts/login/code/$", tab.page.url), tab.page.url
        device.refresh_from_db()
        submit_code(tab, code_for(device))
    assert "/accounts/login" not in tab.page.url, f"still signing in at {tab.page.url}"


def nav_labels(page: Any) -> list[str]:
    """The main navigation's link texts, in order."""
    return [text.strip() for text in page.locator("nav[aria-label=Main] a").all_inner_texts()]

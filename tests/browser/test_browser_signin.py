"""Signing in as a person does: password, then the TOTP code; enrolment; keyboard only."""

from __future__ import annotations

import re

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.accounts.helpers import PASSWORD, code_for
from tests.browser.flows import nav_labels, person, sign_in, submit_code, submit_password
from tests.browser.tab import Tab

from haven.accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_password_then_code_lands_on_the_dashboard_with_the_analysts_navigation(
    tab: Tab,
) -> None:
    user, device = person(Role.PROVIDER_ANALYST, "pat-provider")
    assert device is not None
    submit_password(tab, user.get_username())
    assert tab.page.url.endswith("/accounts/login/code/")
    submit_code(tab, code_for(device))

    assert tab.page.url.endswith("/dashboard/")
    assert tab.page.locator("h1").first.is_visible()
    labels = nav_labels(tab.page)
    assert labels[:3] == ["Dashboard", "Banks", "Match debugger"]
    for hidden in ("Audit log", "Users", "API tokens", "Node"):
        assert hidden not in labels
    assert "Provider analyst" in tab.page.locator("header").inner_text()
    assert not tab.csp_violations()


def test_an_auditor_signs_in_with_a_password_and_sees_the_audit_log_link(tab: Tab) -> None:
    user, device = person(Role.AUDITOR, "avi-auditor")
    assert device is None  # auditors touch no cases or evidence: password only
    sign_in(tab, user, device)
    labels = nav_labels(tab.page)
    assert "Audit log" in labels
    assert "Match debugger" not in labels  # auditors never see media
    assert "Users" not in labels


def test_a_wrong_code_shows_an_error_and_signs_nobody_in(tab: Tab) -> None:
    user, device = person(Role.AUTHORITY_ANALYST, "ana-authority")
    assert device is not None
    submit_password(tab, user.get_username())
    right = code_for(device)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    submit_code(tab, wrong)

    assert tab.page.url.endswith("/accounts/login/code/")
    alert = tab.page.get_by_role("alert")
    assert re.search(r"not valid", alert.inner_text())
    tab.screenshot("wrong-code")
    assert tab.page.locator("input[name=code]").get_attribute("aria-invalid") in (None, "true")
    tab.goto("/dashboard/")
    assert "/accounts/login/" in tab.page.url  # still not signed in


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(tab: Tab) -> None:
    user, _ = person(Role.PROVIDER_ANALYST, "pia-provider")
    submit_password(tab, user.get_username(), "not the password at all")
    assert tab.page.url.endswith("/accounts/login/")
    assert "Wrong user name or password" in tab.page.get_by_role("alert").inner_text()


def test_a_new_analyst_enrols_a_second_factor(tab: Tab) -> None:
    user, _ = person(Role.PROVIDER_ANALYST, "nell-new")
    TOTPDevice.objects.filter(user=user).delete()  # first sign-in: no device yet
    submit_password(tab, user.get_username())

    page = tab.page
    assert page.url.endswith("/accounts/login/enroll/")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    # The QR code must actually render (an SVG without its xmlns shows as a broken image).
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code is broken"
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    tab.screenshot("enroll")

    # A wrong code first: refused, the same secret is still shown.
    submit_code(tab, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert page.url.endswith("/accounts/login/enroll/")
    assert page.get_by_role("alert").is_visible()
    assert page.locator("#totp-secret").inner_text().strip() == secret

    page.wait_for_timeout(1_500)  # django-otp makes one wait a second after a wrong code
    submit_code(tab, pyotp.TOTP(secret).now())
    assert page.url.endswith("/dashboard/")
    assert "Second factor set up" in page.get_by_role("status").inner_text()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_sign_in_and_navigation_work_with_the_keyboard_alone(tab: Tab) -> None:
    user, device = person(Role.AUTHORITY_ANALYST, "kim-keyboard")
    assert device is not None
    page = tab.page
    tab.goto("/accounts/login/")
    keyboard = page.keyboard
    # The user name field has the focus on arrival; Tab moves to the password; Enter sends.
    assert page.evaluate("document.activeElement.name") == "username"
    keyboard.type(user.get_username())
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    keyboard.type(PASSWORD)
    with page.expect_navigation():
        keyboard.press("Enter")
    assert page.url.endswith("/accounts/login/code/")
    assert page.evaluate("document.activeElement.name") == "code"
    keyboard.type(code_for(device))
    with page.expect_navigation():
        keyboard.press("Enter")
    assert page.url.endswith("/dashboard/")

    # The first Tab reaches the skip link, and it is visible when focused.
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    # Tab on through the header to the "Banks" link; every stop shows a focus outline.
    for _ in range(15):
        keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", page.evaluate("document.activeElement.outerHTML")
        if page.evaluate("document.activeElement.textContent").strip() == "Banks":
            break
    else:
        raise AssertionError("Tab never reached the Banks link")
    with page.expect_navigation():
        keyboard.press("Enter")
    assert page.url.endswith("/banks/")
    assert not tab.csp_violations()

"""The Content-Security-Policy is sent with every page and nothing on the pages breaks it.

The tab fixture fails any browser test whose pages log a CSP violation; this module walks
every page in the navigation (as an administrator, and the audit log as an auditor),
checks the header itself, and proves the violation detector works by tripping it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.browser.flows import nav_labels, person, sign_in
from tests.browser.tab import Tab

from haven.accounts.roles import Role
from haven.banks.models import Bank, BankChange, BankEntry, LookupCounter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _directives(header: str) -> dict[str, list[str]]:
    found = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def _assert_strict(header: str | None, where: str) -> None:
    assert header, f"{where}: no Content-Security-Policy header"
    policy = _directives(header)
    assert policy.get("default-src") == ["'none'"], (where, header)
    for directive in ("script-src", "style-src"):
        sources = policy.get(directive, [])
        assert sources, (where, directive, header)
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources), (where, header)
    assert policy.get("frame-ancestors") == ["'none'"], (where, header)
    assert policy.get("object-src") == ["'none'"], (where, header)


def _fill_the_dashboard(agency_id: int) -> None:
    """Some banks and a day of lookups, so the dashboard's cards and chart have content."""
    bank = Bank.objects.create(name="Benign demo list", agency_id=agency_id, source="tests")
    for n in range(12):
        BankEntry.objects.create(
            bank=bank, signal_type="pdq", hash=bytes([n]) * 32, external_id=f"demo-{n}"
        )
    Bank.objects.create(name="Allow-list", agency_id=agency_id, is_allow_list=True)
    BankChange.objects.create(bank=bank, kind="reload")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours_ago in range(0, 24, 2):
        LookupCounter.objects.create(
            hour=now - timedelta(hours=hours_ago),
            lookups=1000 + 150 * hours_ago,
            requests=10 + hours_ago,
            matched=hours_ago,
        )


def test_every_page_in_the_navigation_sends_a_strict_policy_and_breaks_none(tab: Tab) -> None:
    user, device = person(Role.ADMINISTRATOR, "cy-csp")
    _fill_the_dashboard(user.agency_id)
    login = tab.goto("/accounts/login/")
    _assert_strict(login.headers.get("content-security-policy"), "sign-in page")
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/dashboard/")
    tab.screenshot("dashboard")
    links = page.locator("nav[aria-label=Main] a")
    targets = [
        (label, links.nth(i).get_attribute("href") or "")
        for i, label in enumerate(nav_labels(page))
    ]
    assert {"Dashboard", "Banks", "Match debugger", "Users", "API tokens", "Node"} <= {
        label for label, _ in targets
    }
    for label, href in targets:
        response = tab.goto(href)
        assert response.status == 200, (label, href, response.status)
        _assert_strict(response.headers.get("content-security-policy"), label)
        assert page.locator("h1").count() == 1, f"{label}: one main heading"
    assert not tab.csp_violations()


def test_the_audit_log_sends_a_strict_policy(tab: Tab) -> None:
    user, device = person(Role.AUDITOR, "aud-csp")
    sign_in(tab, user, device)
    response = tab.goto("/audit/")
    assert response.status == 200
    _assert_strict(response.headers.get("content-security-policy"), "audit log")
    assert not tab.csp_violations()


def test_the_violation_detector_notices_an_inline_script(tab: Tab) -> None:
    """The check above can fail: an injected inline script is refused and reported."""
    tab.goto("/accounts/login/")
    tab.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.appendChild(script);
        }"""
    )
    tab.page.wait_for_timeout(100)
    assert tab.page.evaluate("window.injected === undefined")
    assert tab.csp_violations(), tab.console
    tab.console.clear()  # expected here; the fixture fails tests that leave violations


def test_the_api_docs_render_under_the_policy(tab: Tab) -> None:
    """/api/docs (Swagger UI, served from this node) shows the operations, breaking no rule."""
    response = tab.goto("/api/docs")
    assert response.status == 200
    _assert_strict(response.headers.get("content-security-policy"), "API docs")
    page = tab.page
    page.wait_for_selector(".opblock, .errors-wrapper, .loading-container .errors")
    errors = page.locator(".errors-wrapper")
    assert errors.count() == 0, f"Swagger UI cannot show the document: {errors.inner_text()}"
    text = page.locator("body").inner_text()
    for path in ("/api/v1/match", "/api/v1/hash", "/api/v1/banks"):
        assert path in text, path
    assert not any(not r.url.startswith(tab.base_url) for r in tab.responses), "left the node"

"""Browser tests: Playwright for Python driving Debian's Chromium, against `live_server`.

Only the system's /usr/bin/chromium is used, never a browser downloaded by Playwright.
Without it the tests are skipped on a workstation and fail under CI (`CI` set), where
`make test` installs it.

Each test gets a fresh browser context (no cookies carried over) on a shared browser, and
a `Tab` that records what the page did: console messages, page errors and every network
response, so tests can assert that no CSP violation occurred and that no response carried
bytes it should not have.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.tab import Response, Tab

# Playwright's sync API runs an asyncio event loop in the test's thread, and Django refuses
# ORM calls from a thread with a running loop (SynchronousOnlyOperation). The tests are
# plain synchronous code that sets up records between page actions; nothing is really
# concurrent with them (the live server answers from its own thread), so the guard is
# lifted for this test process. Set here, in the browser tests' conftest only.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def tab(chromium: Any, live_server: Any) -> Iterator[Tab]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    the_tab = Tab(page=page, base_url=live_server.url)
    page.on("console", lambda message: the_tab.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: the_tab.page_errors.append(str(error)))

    def on_response(response: Any) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body to read
            body = b""
        the_tab.responses.append(
            Response(response.url, response.status, response.headers.get("content-type", ""), body)
        )

    page.on("response", on_response)
    try:
        yield the_tab
    finally:
        context.close()
    # Every page a browser test visits must load without a CSP violation: the policy is
    # strict (no inline script or style), and a violation means something is broken.
    violations = the_tab.csp_violations()
    if violations:
        pytest.fail(f"Content-Security-Policy violations: {violations}")
    if the_tab.page_errors:
        pytest.fail(f"script errors on the page: {the_tab.page_errors}")


@pytest.fixture(autouse=True)
def _fresh_sign_in_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts a fresh per-address sign-in window.

    Every browser test signs in from 127.0.0.1, so the per-minute limit on sign-in POSTs
    (kept in the process, shared with the live server's thread) would otherwise be spent by
    the tests before, and a later test would see "too many attempts".
    """
    from haven.accounts import views

    limiter = getattr(views, "_login_limiter", None)
    if limiter is not None:
        monkeypatch.setattr(limiter, "_counts", {})

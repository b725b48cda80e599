"""The review queue in Chromium: blurred greyscale previews, a keyboard reveal that loads the
exact original (and is audited), re-blurring, a keyboard-led confirmation, and the wellness
timer's break banner.

The held uploads are generated pictures (stripes, a disc, a triangle drawn with Pillow),
scanned with their file through `haven.detection.services.scan`: benign and synthetic.
"""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.browser.flows import person, sign_in
from tests.browser.tab import Tab
from tests.detection.test_detection_review_views import held_upload, shapes_png

from haven.accounts.roles import Role
from haven.audit.models import AuditEntry
from haven.banks.matcher import reset_matcher
from haven.detection.models import RevealGrant, Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_FETCH_BASE64 = """async (url) => {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return [response.status, response.headers.get("content-type"), btoa(text)];
}"""

_FETCH_SHA256 = """async (url) => {
  const response = await fetch(url);
  const digest = await crypto.subtle.digest("SHA-256", await response.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}"""


def _sharpness(image: Image.Image) -> float:
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = (
        -4 * pixels[1:-1, 1:-1]
        + pixels[:-2, 1:-1]
        + pixels[2:, 1:-1]
        + pixels[1:-1, :-2]
        + pixels[1:-1, 2:]
    )
    return float(np.abs(laplacian).mean())


@pytest.fixture(autouse=True)
def _fresh_matcher_and_warm_server(live_server: Any) -> None:
    """A fresh matcher index; and the live server's first request (which imports every
    view, slow on a busy machine) made here, not under the page's 10-second timeout."""
    reset_matcher()
    with urllib.request.urlopen(live_server.url + "/healthz", timeout=120) as response:
        assert response.status == 200


def test_a_reviewer_sees_blurred_previews_reveals_by_key_and_confirms(
    tab: Tab, tmp_path: Path
) -> None:
    user, device = person(Role.PROVIDER_ANALYST, "rae-review")
    original = shapes_png(0)
    review = held_upload(user.agency, "post-1", original, tmp_path)
    following = held_upload(user.agency, "post-2", shapes_png(1), tmp_path)
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/provider/review/")
    assert "2 pending" in page.get_by_role("heading", level=1).inner_text()
    thumb = page.locator("table.review-queue img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    status, content_type, encoded = page.evaluate(_FETCH_BASE64, thumb.get_attribute("src"))
    assert status == 200 and content_type == "image/jpeg"
    preview = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert preview.format == "JPEG" and preview.mode == "L", "the preview is not greyscale"
    reference = Image.open(io.BytesIO(original)).convert("L").resize(preview.size)
    assert _sharpness(preview) < 0.35 * _sharpness(reference), "the preview is not blurred"

    page.get_by_role("link", name="post-1").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/provider/review/{review.pk}/")
    blurred = page.locator("img.blurred-preview")
    assert blurred.count() == 1 and (blurred.get_attribute("src") or "").startswith(
        "data:image/jpeg;base64,"
    )
    # Nothing the browser received so far carries the original, raw or base64.
    before_reveal = list(tab.responses)
    encoded_original = base64.b64encode(original)
    for response in before_reveal:
        assert original not in response.body, f"{response.url} carried the original"
        assert encoded_original[:200] not in response.body, f"{response.url} embedded it"
    assert not AuditEntry.objects.filter(action="review.reveal").exists()

    # "?" opens the shortcut help; "r" reveals.
    page.keyboard.press("?")
    assert page.get_by_role("heading", name="Keyboard shortcuts").is_visible()
    with page.expect_navigation():
        page.keyboard.press("r")
    shown = page.get_by_role("img", name="The original image, revealed")
    shown.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=shown.element_handle()
    )
    assert shown.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [480, 360]
    file_url = shown.get_attribute("src") or ""
    assert "/file?t=" in file_url
    assert page.evaluate(_FETCH_SHA256, file_url) == hashlib.sha256(original).hexdigest()
    served = [r for r in tab.responses[len(before_reveal) :] if r.body == original]
    assert served and all("/file?t=" in r.url for r in served)
    reveal = AuditEntry.objects.get(action="review.reveal")
    assert reveal.actor == f"user:{user.pk}" and reveal.target_id == str(review.pk)
    review.refresh_from_db()
    assert review.viewed

    # "b" blurs it again, and the server ends the grant: the file URL now refuses.
    with page.expect_navigation():
        page.keyboard.press("b")
    assert page.locator("#review-revealed-image").count() == 0
    assert page.locator("img.blurred-preview").count() == 1
    assert page.request.get(tab.url(file_url)).status == 403

    # Shortcuts never act while typing: an "r" in a note reveals nothing.
    grants = RevealGrant.objects.count()
    page.locator("#confirm-note").click()
    page.keyboard.type("reviewed by keyboard")
    assert page.url.endswith(f"/provider/review/{review.pk}/")
    assert RevealGrant.objects.count() == grants

    # "c" goes to the classification; a decision still needs the form's button.
    page.locator("h1").click()  # leave the field
    page.keyboard.press("c")
    focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
    assert focused == ["classification", "A1"]
    page.keyboard.press("Space")
    assert Review.objects.get(pk=review.pk).state == "pending"
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm", exact=True).click()
    assert page.url.endswith(f"/provider/review/{following.pk}/"), page.url
    assert "Confirmed as A1" in page.get_by_role("status").first.inner_text()
    review.refresh_from_db()
    assert review.state == "confirmed" and review.classification == "A1"
    assert review.note == "reviewed by keyboard"
    assert page.locator("#review-count").inner_text() == "1"
    tab.screenshot("review-item")


def test_the_wellness_banner_offers_a_break_that_blurs_the_page(tab: Tab, tmp_path: Path) -> None:
    user, device = person(Role.PROVIDER_ANALYST, "wes-wellness")
    held_upload(user.agency, "post-1", shapes_png(0), tmp_path)
    sign_in(tab, user, device)
    page = tab.page
    tab.goto("/provider/review/")
    banner = page.locator("#review-break-banner")
    assert page.locator("#review-wellness").get_attribute("data-break-minutes") == "20.0"
    page.wait_for_timeout(1200)
    assert banner.is_hidden()
    elapsed = page.locator("#review-elapsed").inner_text()
    assert elapsed.startswith("0:0"), elapsed

    # A test shortens the interval on the page; the timer reads it on every tick.
    page.evaluate(
        "() => { document.getElementById('review-wellness').dataset.breakMinutes = '0.001'; }"
    )
    banner.wait_for(state="visible")
    assert "Time for a break" in banner.inner_text()
    page.get_by_role("button", name="Take a 5-minute break").click()
    assert page.evaluate("() => document.body.classList.contains('review-on-break')")
    table_filter = page.locator("table.review-queue").evaluate("el => getComputedStyle(el).filter")
    assert "blur" in table_filter, table_filter
    assert page.locator("#review-break-cover").is_visible()
    page.get_by_role("button", name="End the break").click()
    assert not page.evaluate("() => document.body.classList.contains('review-on-break')")

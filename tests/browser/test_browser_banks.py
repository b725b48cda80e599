"""Banks and the match debugger in the browser: import a list, look a hash up, and see an
upload's preview blurred and greyscale until an audited reveal.

The image uploaded is drawn here with Pillow (coloured shapes): benign and synthetic.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from tests.browser.flows import person, sign_in
from tests.browser.tab import Tab

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit.models import AuditEntry
from haven.banks.models import Bank, BankChange, BankEntry
from haven.media.pdq import hash_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDQ_IN_BANK = "f" * 8 + "0123456789abcdef" * 3 + "0" * 8
PDQ_UNKNOWN = "5a" * 32


def _shapes_png() -> bytes:
    """A benign generated picture with edges sharp enough that blurring shows."""
    image = Image.new("RGB", (480, 360), (250, 245, 230))
    draw = ImageDraw.Draw(image)
    for i in range(8):
        draw.rectangle((20 + i * 55, 30, 60 + i * 55, 330), fill=(30 * i, 90, 200 - 20 * i))
    draw.ellipse((120, 80, 360, 300), fill=(220, 60, 40), outline=(0, 0, 0), width=6)
    draw.polygon([(240, 20), (460, 340), (20, 340)], outline=(20, 120, 40), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _bank(user: User, name: str, entries: list[tuple[str, bytes]]) -> Bank:
    """A bank of the user's agency; a "reload" change tells the live server's matcher."""
    bank = Bank.objects.create(name=name, agency=user.agency, description="benign test bank")
    for external_id, digest in entries:
        BankEntry.objects.create(
            bank=bank, signal_type="pdq", hash=digest, external_id=external_id, classification="B2"
        )
    BankChange.objects.create(bank=bank, kind="reload")
    return bank


def _sharpness(image: Image.Image) -> float:
    """Mean absolute Laplacian of the greyscale image: high for edges, low once blurred."""
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = (
        -4 * pixels[1:-1, 1:-1]
        + pixels[:-2, 1:-1]
        + pixels[2:, 1:-1]
        + pixels[1:-1, :-2]
        + pixels[1:-1, 2:]
    )
    return float(np.abs(laplacian).mean())


def _data_uri_image(src: str) -> Image.Image:
    match = re.fullmatch(r"data:image/[a-z]+;base64,(?P<data>[A-Za-z0-9+/=]+)", src)
    assert match, f"the preview is not an embedded image: {src[:60]}..."
    return Image.open(io.BytesIO(base64.b64decode(match["data"])))


def test_a_bank_is_created_and_filled_from_a_csv_list_through_the_pages(tab: Tab) -> None:
    user, device = person(Role.AUTHORITY_ANALYST, "ivy-import")
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/banks/")
    page.get_by_role("link", name="New bank").click()
    page.get_by_label("Name").fill("Benign sample list")
    page.get_by_role("button", name="Create bank").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Benign sample list"

    page.get_by_role("link", name="Import a hash list").click()
    rows = [f"benign-{n}," + f"{n:02x}" * 32 + ",B2" for n in (1, 2, 3)]
    csv = ("external_id,hash,classification\n" + "\n".join(rows) + "\n").encode()
    page.get_by_label("Hash list file").set_input_files(
        {"name": "benign-list.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Import").click()
    result = page.get_by_role("status")
    assert re.search(r"Added\s*3", result.inner_text()), result.inner_text()

    page.get_by_role("link", name="Back to the bank").click()
    table = page.locator("table.entries")
    for n in (1, 2, 3):
        assert table.get_by_role("rowheader", name=f"benign-{n}").is_visible()
    assert f"{2:02x}" * 32 in table.inner_text()
    bank = Bank.objects.get(name="Benign sample list")
    assert bank.agency_id == user.agency_id
    assert bank.entries.count() == 3


def test_a_pasted_hash_that_is_banked_shows_its_match_row(tab: Tab) -> None:
    user, device = person(Role.PROVIDER_ANALYST, "mo-match")
    _bank(user, "Debugger bank", [("known-1", bytes.fromhex(PDQ_IN_BANK))])
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/banks/debugger/")
    page.get_by_role("textbox", name=re.compile("^Hashes")).fill(f"{PDQ_IN_BANK}\n{PDQ_UNKNOWN}")
    page.get_by_role("button", name="Look up", exact=True).click()

    results = page.locator("section.results")
    assert results.get_by_role("heading", name=PDQ_IN_BANK).is_visible()
    row = results.locator("table.matches tr", has_text="known-1")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert "Debugger bank" in cells[0]
    assert "0" in cells[4]  # distance 0: the very hash
    assert "B2" in cells[5]
    assert "No match" in results.inner_text()  # the unknown hash's block

    page.get_by_role("textbox", name=re.compile("^Hashes")).fill("not-a-hash")
    page.get_by_role("button", name="Look up", exact=True).click()
    assert page.get_by_role("alert").first.is_visible()


def test_an_upload_is_shown_blurred_and_greyscale_until_an_audited_reveal(tab: Tab) -> None:
    original = _shapes_png()
    digest = hash_image(original).pdq.hash
    user, device = person(Role.PROVIDER_ANALYST, "rey-reveal")
    _bank(user, "Shapes bank", [("shapes-1", digest)])
    sign_in(tab, user, device)
    page = tab.page

    tab.goto("/banks/debugger/")
    page.get_by_label("Image or video file").set_input_files(
        {"name": "shapes.png", "mimeType": "image/png", "buffer": original}
    )
    page.get_by_role("button", name="Hash and look up").click()
    upload = page.locator("article.upload").first
    assert upload.is_visible()
    assert upload.locator("table.matches tr", has_text="shapes-1").count() == 1

    previews = upload.locator(".strip img")
    assert previews.count() >= 1
    preview = _data_uri_image(previews.first.get_attribute("src") or "")
    pixels = np.asarray(preview.convert("RGB"), dtype=np.int16)
    assert preview.mode == "L" or np.abs(pixels - pixels[..., :1]).max() <= 2, "not greyscale"
    reference = Image.open(io.BytesIO(original)).convert("L").resize(preview.size)
    assert _sharpness(preview) < 0.35 * _sharpness(reference), "the preview is not blurred"
    # ...and no more detailed than the original blurred by a few pixels.
    assert _sharpness(preview) < _sharpness(reference.filter(ImageFilter.GaussianBlur(3)))
    tab.screenshot("debugger")

    # Nothing the browser received so far carries the original's bytes, raw or base64.
    before_reveal = list(tab.responses)
    encoded = base64.b64encode(original)
    for response in before_reveal:
        assert original not in response.body, f"{response.url} carried the original"
        assert encoded[:200] not in response.body, f"{response.url} embedded the original"
    assert AuditEntry.objects.filter(action="media.reveal").count() == 0

    page.once("dialog", lambda dialog: dialog.accept())  # "Show this upload unblurred?"
    page.get_by_role("button", name=re.compile("Reveal the original")).click()
    shown = page.get_by_role("img", name="The original image, revealed")
    shown.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=shown.element_handle()
    )
    assert shown.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [480, 360]
    served = [r for r in tab.responses[len(before_reveal) :] if r.body == original]
    assert len(served) == 1, "the original should arrive once, after the reveal"
    assert "/banks/debugger/original/" in served[0].url

    reveal = AuditEntry.objects.get(action="media.reveal")
    assert reveal.actor == f"user:{user.pk}"
    assert reveal.outcome == "ok"
    assert reveal.target_type == "debugger_upload"
    # The one-time link cannot be used again.
    again = page.request.get(served[0].url)
    assert again.status == 404


def test_an_administrator_sees_no_reveal_button(tab: Tab) -> None:
    """Administrators may use the debugger but never see media (separation of duties)."""
    user, device = person(Role.ADMINISTRATOR, "ada-admin")
    _bank(user, "Shapes bank", [("shapes-1", hash_image(_shapes_png()).pdq.hash)])
    sign_in(tab, user, device)
    page = tab.page
    tab.goto("/banks/debugger/")
    page.get_by_label("Image or video file").set_input_files(
        {"name": "shapes.png", "mimeType": "image/png", "buffer": _shapes_png()}
    )
    page.get_by_role("button", name="Hash and look up").click()
    upload = page.locator("article.upload").first
    assert upload.locator(".strip img").count() >= 1
    assert upload.get_by_role("button", name=re.compile("Reveal")).count() == 0

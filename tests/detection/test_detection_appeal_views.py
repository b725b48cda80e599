"""Appeals decided by a second reviewer, and the uploader history pages.

An overturn must restore the content, withdraw its "removed here" entries, flag the bank
entry behind the match and count against the bank's quality; the reviewer who made the
decision may not decide the appeal against it.
"""

from __future__ import annotations

import pytest
from tests.detection.provider_helpers import (
    Provider,
    build_provider,
    client_for,
    principal,
    review_of,
    scan_upload,
)

from haven.audit.models import AuditEntry
from haven.banks.models import BankEntry
from haven.detection import review as reviews
from haven.detection.appeals import file_appeal
from haven.detection.models import Appeal, ScannedContent, UploaderAccount
from haven.detection.policies import bank_quality
from haven.detection.removed_here import REMOVED_HERE

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> Provider:
    return build_provider()


def _confirmed(world: Provider, cid: str, account: str = "acct-1") -> ScannedContent:
    content = scan_upload(world, cid, account=account)
    reviews.confirm(principal(world.reviewer), review_of(content), classification="A2")
    content.refresh_from_db()
    return content


def _appealed(world: Provider, cid: str) -> Appeal:
    content = _confirmed(world, cid)
    return file_appeal(world.scanner, content, "This is my own synthetic holiday photo.")


def test_the_appeals_page_shows_the_statement_and_the_original_decision(world: Provider) -> None:
    appeal = _appealed(world, "appealed-1")
    page = client_for(world.second_reviewer).get("/provider/appeals/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "This is my own synthetic holiday photo." in body
    assert world.reviewer.username in body and "A2" in body
    assert f'href="/provider/review/{appeal.review_id}/"' in body
    assert f'href="/provider/appeals/{appeal.pk}/"' in body
    own = client_for(world.reviewer).get(f"/provider/appeals/{appeal.pk}/")
    assert "a second reviewer must decide" in own.content.decode()


def test_the_reviewer_who_decided_cannot_decide_the_appeal(world: Provider) -> None:
    appeal = _appealed(world, "appealed-2")
    response = client_for(world.reviewer).post(
        f"/provider/appeals/{appeal.pk}/", {"decision": "overturn", "note": "I was wrong"}
    )
    assert response.status_code == 400
    assert "a second reviewer decides an appeal, not the one who decided" in (
        response.content.decode()
    )
    appeal.refresh_from_db()
    assert appeal.state == "pending"
    assert ScannedContent.objects.get(content_id="appealed-2").decision == "block"


def test_a_note_is_required(world: Provider) -> None:
    appeal = _appealed(world, "appealed-3")
    response = client_for(world.second_reviewer).post(
        f"/provider/appeals/{appeal.pk}/", {"decision": "overturn", "note": "  "}
    )
    assert response.status_code == 400
    appeal.refresh_from_db()
    assert appeal.state == "pending"


def test_an_overturn_restores_the_content_and_counts_against_the_bank(world: Provider) -> None:
    appeal = _appealed(world, "appealed-4")
    content = ScannedContent.objects.get(content_id="appealed-4")
    removed = BankEntry.objects.filter(
        bank__name=REMOVED_HERE, external_id__startswith="content:appealed-4:"
    )
    assert removed.exists() and all(e.enabled for e in removed)
    assert bank_quality([world.bank.pk])[world.bank.pk].confirmed == 1
    assert UploaderAccount.objects.get(account_id="acct-1").confirmed == 1

    response = client_for(world.second_reviewer).post(
        f"/provider/appeals/{appeal.pk}/",
        {"decision": "overturn", "note": "A benign picture: the match was wrong."},
    )
    assert response.status_code == 302, response.content
    appeal.refresh_from_db()
    assert appeal.state == "overturned"
    assert appeal.decided_by == f"user:{world.second_reviewer.pk}"
    content.refresh_from_db()
    assert content.decision == "allow" and content.restored_at is not None
    assert not any(e.enabled for e in removed.all())
    entry = BankEntry.objects.get(bank=world.bank)
    assert entry.metadata["overturned"] == 1
    quality = bank_quality([world.bank.pk])[world.bank.pk]
    assert (quality.confirmed, quality.false_positives) == (0, 1) and quality.score == 0.0
    assert UploaderAccount.objects.get(account_id="acct-1").confirmed == 0
    assert client_for(world.second_reviewer).get("/provider/appeals/").context["rows"] == []
    # Decided once: a second decision is refused.
    again = client_for(world.second_reviewer).post(
        f"/provider/appeals/{appeal.pk}/", {"decision": "uphold", "note": "second thoughts"}
    )
    assert again.status_code == 400 and "decided already" in again.content.decode()


def test_an_upheld_appeal_leaves_the_decision(world: Provider) -> None:
    appeal = _appealed(world, "appealed-5")
    response = client_for(world.second_reviewer).post(
        f"/provider/appeals/{appeal.pk}/", {"decision": "uphold", "note": "The match stands."}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == "upheld"
    assert ScannedContent.objects.get(content_id="appealed-5").decision == "block"
    assert BankEntry.objects.get(bank=world.bank).metadata.get("overturned") is None


def test_appeals_of_another_agency_are_hidden(world: Provider) -> None:
    other = build_provider(seed=21, name="Other provider (synthetic)")
    theirs = _appealed(other, "theirs-1")
    assert (
        client_for(world.second_reviewer).get(f"/provider/appeals/{theirs.pk}/").status_code == 404
    )
    assert client_for(world.admin).get("/provider/appeals/").status_code == 403


def test_uploader_history_and_the_repeat_offender_flag(world: Provider) -> None:
    first = _confirmed(world, "u-1", account="acct-repeat")
    analyst = client_for(world.second_reviewer)
    scan_upload(world, "u-other", account="acct-once")
    repeat = analyst.get("/provider/uploaders/", {"repeat": "on"})
    assert repeat.context["rows"] == []
    second = _confirmed(world, "u-2", account="acct-repeat")
    scan_upload(world, "u-3", account="acct-repeat")  # held, not decided yet

    listing = analyst.get("/provider/uploaders/")
    assert [r["account"].account_id for r in listing.context["rows"]] == [
        "acct-repeat",
        "acct-once",
    ]
    assert [r["repeat"] for r in listing.context["rows"]] == [True, False]
    repeat = analyst.get("/provider/uploaders/", {"repeat": "on"})
    assert [r["account"].account_id for r in repeat.context["rows"]] == ["acct-repeat"]

    account = UploaderAccount.objects.get(account_id="acct-repeat")
    assert (account.matches, account.confirmed) == (3, 2)
    page = analyst.get(f"/provider/uploaders/{account.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "repeat offender" in body
    assert [r.content.content_id for r in page.context["rows"]] == ["u-3", "u-2", "u-1"]
    states = {r.content.content_id: r.review.state for r in page.context["rows"]}
    assert states == {"u-1": "confirmed", "u-2": "confirmed", "u-3": "pending"}
    assert f'href="/provider/review/{review_of(first).pk}/"' in body
    assert f'href="/provider/review/{review_of(second).pk}/"' in body
    assert AuditEntry.objects.filter(
        action="uploader.view", target_id=str(account.pk), actor=f"user:{world.second_reviewer.pk}"
    ).exists()
    assert client_for(world.admin).get(f"/provider/uploaders/{account.pk}/").status_code == 403

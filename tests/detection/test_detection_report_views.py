"""The report pages: drafts of confirmed matches, their edits, sending, the destinations.

Confirmed reviews are made as in production: a generated picture of shapes (no people) is
banked, an edited copy is scanned as an upload with its file, and a provider analyst
confirms it. The authority's pinned key is this node's own (it stands for the authority).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image
from tests.accounts.helpers import make_agency, make_user, signed_in_client
from tests.detection.test_detection_decisions import (  # noqa: F401 (fixtures)
    Scanner,
    agency,
    edited,
    known,
    system,
    upload,
)

from haven.accounts.models import Agency, User
from haven.accounts.permissions import Principal, principal_for_user, system_principal
from haven.accounts.roles import Role
from haven.audit.models import AuditEntry
from haven.banks.models import Bank
from haven.detection import review as reviews
from haven.detection.models import Review, ScannedContent
from haven.exchange.models import PinnedNode
from haven.keys import fingerprint, key_id_of
from haven.reports import services as reports
from haven.reports.models import Destination, OutboxMessage, OutgoingReport
from haven.reports.outbox import destination_token
from haven.web.node import keyring

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(agency: Agency) -> User:  # noqa: F811
    return make_user(Role.PROVIDER_ANALYST, agency, username="analyst-1")


@pytest.fixture
def me(person: User) -> Principal:
    principal = principal_for_user(person)
    assert principal is not None
    return principal


@pytest.fixture
def web(person: User) -> Client:
    return signed_in_client(Client(), person)


@pytest.fixture
def confirmed(upload: Scanner, known: tuple[Bank, Image.Image], me: Principal) -> Review:  # noqa: F811
    _, image = known
    item = Review.objects.get(content=upload("c1", edited(image)))
    return reviews.confirm(me, item, classification="B2", note="synthetic test")


@pytest.fixture
def pin(db: None) -> PinnedNode:
    public = keyring().signing.public_key
    return PinnedNode.objects.create(
        name="National authority (synthetic)",
        public_key=public.hex(),
        key_id=key_id_of(public),
        fingerprint=fingerprint(public),
    )


@pytest.fixture
def admin(agency: Agency) -> User:  # noqa: F811
    return make_user(Role.ADMINISTRATOR, agency, username="admin-1")


@pytest.fixture
def admin_web(admin: User) -> Client:
    return signed_in_client(Client(), admin)


@pytest.fixture
def keeper(agency: Agency) -> Principal:  # noqa: F811
    """Who adds destinations in these tests: the system, standing in for an administrator."""
    return system_principal(agency.pk, "test")


@pytest.fixture
def authority(keeper: Principal, pin: PinnedNode) -> Destination:
    return reports.add_destination(
        keeper,
        name="National authority",
        url="https://authority.example",
        token="t" * 24,
        recipient_key_id=pin.key_id,
    )


def _url(review: Review, tail: str = "") -> str:
    return f"/provider/reports/{review.pk}/{tail}"


def _fields(review: Review, **changes: Any) -> dict[str, Any]:
    """The draft form as the page posts it, unchanged but for `changes`."""
    draft = review.report_draft
    contact = draft["reporter"]["contact"]
    entry = draft["files"][0]
    data: dict[str, Any] = {
        "action": "fields",
        "incident_type": draft["incident"]["type"],
        "escalation_reason": draft["incident"].get("escalation", {}).get("reason", ""),
        "additional_info": draft.get("additional_info", ""),
        "contact_name": contact["name"],
        "contact_email": contact["email"],
        "contact_phone": contact.get("phone", ""),
        "file0-classification": entry.get("classification", ""),
        "file0-publicly_available": {True: "yes", False: "no"}.get(
            entry.get("publicly_available"), ""
        ),
    }
    data.update(changes)
    return data


def _saved(review: Review) -> dict[str, Any]:
    draft: dict[str, Any] = Review.objects.get(pk=review.pk).report_draft
    return draft


# --- the list and the draft ----------------------------------------------------------------


def test_the_list_shows_the_drafts_escalated_first(
    upload: Scanner,  # noqa: F811
    known: tuple[Bank, Image.Image],  # noqa: F811
    me: Principal,
    web: Client,
) -> None:
    _, image = known
    plain = reviews.confirm(
        me, Review.objects.get(content=upload("c1", edited(image))), classification="B2"
    )
    urgent = reviews.confirm(
        me,
        Review.objects.get(content=upload("c2", edited(image), account="acct-2")),
        classification="A1",
        escalation_reason="synthetic: imminent danger",
    )
    page = web.get("/provider/reports/")
    assert page.status_code == 200
    text = page.content.decode()
    first, second = urgent.report_draft["report_id"], plain.report_draft["report_id"]
    assert first in text and second in text
    assert text.index(first) < text.index(second)
    assert "escalated" in text and "No report was sent yet" in text
    # The nav links to the page; the outbox is its "sent" section.
    assert 'href="/provider/reports/"' in text
    outbox = web.get("/provider/reports/outbox/")
    assert outbox.status_code == 302 and outbox["Location"] == "/provider/reports/#sent"


def test_the_draft_page_shows_the_fields_the_flags_and_the_xml(
    confirmed: Review, web: Client
) -> None:
    page = web.get(_url(confirmed))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    text = page.content.decode()
    assert 'name="incident_type"' in text and 'name="contact_email"' in text
    assert '<option value="B2" selected>' in text  # the reviewer's classification
    assert 'name="file0-annotations"' in text and 'name="file0-publicly_available"' in text
    assert 'name="report_json"' in text and "csrfmiddlewaretoken" in text
    assert "from the audited reveals" in text
    assert 'name="file0-viewed_by_provider"' not in text  # shown, never a field
    assert "&lt;incidentSummary&gt;" in text  # the CyberTipline XML preview, escaped
    entry = AuditEntry.objects.get(action="report.draft_view")
    assert entry.target_id == str(confirmed.pk)


# --- edits ---------------------------------------------------------------------------------


def test_a_form_edit_is_validated_and_saved(confirmed: Review, web: Client) -> None:
    answer = web.post(
        _url(confirmed),
        _fields(
            confirmed,
            incident_type="online_enticement",
            incident_annotations=["sextortion"],
            additional_info="Edited by the analyst (synthetic).",
            contact_phone="+12025550123",
            **{"file0-classification": "A2", "file0-annotations": ["viral"]},
        ),
    )
    assert answer.status_code == 302 and answer["Location"] == _url(confirmed)
    draft = _saved(confirmed)
    assert draft["incident"]["type"] == "online_enticement"
    assert draft["incident"]["annotations"] == ["sextortion"]
    assert draft["additional_info"] == "Edited by the analyst (synthetic)."
    assert draft["reporter"]["contact"]["phone"] == "+12025550123"
    assert draft["files"][0]["classification"] == "A2"
    assert draft["files"][0]["annotations"] == ["viral"]
    assert draft["files"][0]["md5"] == confirmed.report_draft["files"][0]["md5"]
    assert AuditEntry.objects.filter(action="review.report_edited").count() == 1


def test_a_form_edit_the_format_refuses_is_shown_beside_its_field_and_not_kept(
    confirmed: Review, web: Client
) -> None:
    before = _saved(confirmed)
    answer = web.post(
        _url(confirmed),
        _fields(confirmed, contact_email="not-an-email", additional_info="should not stay"),
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "<code>reporter.contact.email</code>" in text
    assert 'class="field has-error"' in text  # the email field is marked
    assert _saved(confirmed) == before


def test_an_invalid_json_edit_shows_the_path_and_keeps_the_old_draft(
    confirmed: Review, web: Client
) -> None:
    before = _saved(confirmed)
    broken = json.loads(json.dumps(before))
    broken["files"][0]["md5"] = "not-a-hash"
    broken["additional_info"] = "should not stay"
    answer = web.post(_url(confirmed), {"action": "json", "report_json": json.dumps(broken)})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "<code>files[0].md5</code>" in text and "Nothing was changed" in text
    assert "should not stay" in text  # the analyst's text is given back to fix
    assert _saved(confirmed) == before
    not_json = web.post(_url(confirmed), {"action": "json", "report_json": '{"files": ['})
    assert not_json.status_code == 400 and "not JSON at line 1" in not_json.content.decode()
    renamed = dict(before, report_id="another-id")
    answer = web.post(_url(confirmed), {"action": "json", "report_json": json.dumps(renamed)})
    assert answer.status_code == 400 and "<code>report_id</code>" in answer.content.decode()
    assert _saved(confirmed) == before
    assert web.post(_url(confirmed), {}).status_code == 400


def test_the_viewed_flags_follow_the_reveals_not_the_form_or_the_json(
    confirmed: Review, web: Client
) -> None:
    assert confirmed.viewed is False
    answer = web.post(
        _url(confirmed),
        _fields(
            confirmed,
            **{"file0-viewed_by_provider": "on", "file0-exif_viewed_by_provider": "on"},
        ),
    )
    assert answer.status_code == 302
    entry = _saved(confirmed)["files"][0]
    assert entry["viewed_by_provider"] is False and entry["exif_viewed_by_provider"] is False
    claimed = _saved(confirmed)
    claimed["files"][0]["viewed_by_provider"] = True
    claimed["files"][0]["exif_viewed_by_provider"] = True
    claimed["additional_info"] = "JSON edit (synthetic)"
    answer = web.post(_url(confirmed), {"action": "json", "report_json": json.dumps(claimed)})
    assert answer.status_code == 302
    saved = _saved(confirmed)
    assert saved["additional_info"] == "JSON edit (synthetic)"
    assert saved["files"][0]["viewed_by_provider"] is False
    assert saved["files"][0]["exif_viewed_by_provider"] is False


# --- sending -------------------------------------------------------------------------------


def test_sending_queues_the_sealed_report_and_a_second_send_is_refused(
    confirmed: Review, authority: Destination, web: Client, pin: PinnedNode
) -> None:
    answer = web.post(_url(confirmed, "send"), {"destination": [authority.pk]})
    assert answer.status_code == 302 and answer["Location"] == "/provider/reports/"
    (queued,) = OutgoingReport.objects.all()
    assert queued.destination_id == authority.pk
    assert queued.payload["files"][0]["encrypted_content"]["recipient_key_id"] == pin.key_id
    assert OutboxMessage.objects.get(report=queued).state == "pending"
    confirmed.refresh_from_db()
    assert confirmed.report_id == queued.report_id == confirmed.report_draft["report_id"]
    listing = web.get("/provider/reports/", follow=False).content.decode()
    assert f"Report {queued.report_id} was queued for National authority" in listing
    assert "No draft is waiting" in listing and "pending" in listing
    again = web.post(_url(confirmed, "send"), {"destination": [authority.pk]})
    assert again.status_code == 400 and "sent already" in again.content.decode()
    assert OutgoingReport.objects.count() == 1
    # Sent: the page is read-only, and an edit is refused.
    page = web.get(_url(confirmed)).content.decode()
    assert "it can no longer change" in page and 'name="report_json"' not in page
    edit = web.post(_url(confirmed), _fields(confirmed, additional_info="too late"))
    assert edit.status_code == 400 and "the report was sent" in edit.content.decode()


def test_a_destination_without_a_recipient_key_is_refused_with_the_reason(
    confirmed: Review, keeper: Principal, web: Client
) -> None:
    keyless = reports.add_destination(
        keeper, name="Keyless authority", url="https://keyless.example", token="k" * 24
    )
    answer = web.post(_url(confirmed, "send"), {"destination": [keyless.pk]})
    assert answer.status_code == 400
    assert "has no recipient key" in answer.content.decode()
    assert not OutgoingReport.objects.exists()
    confirmed.refresh_from_db()
    assert confirmed.report_id == ""


def test_sending_needs_a_destination_of_ones_own(
    confirmed: Review, authority: Destination, web: Client
) -> None:
    assert web.post(_url(confirmed, "send"), {}).status_code == 400
    other = make_agency("Other provider (synthetic)")
    theirs = Destination.objects.create(
        agency=other, name="Theirs", url="https://theirs.example", token_encrypted=b"x"
    )
    answer = web.post(_url(confirmed, "send"), {"destination": [authority.pk, theirs.pk]})
    assert answer.status_code == 400 and "no such destination" in answer.content.decode()
    assert web.post(_url(confirmed, "send"), {"destination": ["x"]}).status_code == 400
    assert not OutgoingReport.objects.exists()


# --- destinations --------------------------------------------------------------------------


def test_adding_destinations_of_both_kinds_keeps_the_secret_encrypted(
    pin: PinnedNode, admin_web: Client, web: Client
) -> None:
    # Where reports (and their files) go is an administrator's decision, not an analyst's.
    assert web.get("/provider/reports/destinations/add/").status_code == 403
    web = admin_web
    PinnedNode.objects.create(
        name="Revoked node",
        public_key="ab" * 32,
        key_id="ab" * 8,
        fingerprint="ab:cd",
        revoked_at=timezone.now(),
    )
    form = web.get("/provider/reports/destinations/add/").content.decode()
    assert pin.fingerprint in form and "Revoked node" not in form
    assert "username:password" in form
    secret = "haven-intake-token-synthetic-0001"
    answer = web.post(
        "/provider/reports/destinations/add/",
        {
            "name": "National authority",
            "kind": "haven",
            "url": "https://authority.example",
            "secret": secret,
            "recipient": pin.key_id,
        },
    )
    assert answer.status_code == 302 and answer["Location"] == "/provider/reports/destinations/"
    added = Destination.objects.get(name="National authority")
    assert added.recipient_id == pin.pk and added.kind == "haven"
    assert secret.encode() not in bytes(added.token_encrypted)
    assert destination_token(added) == secret
    ncmec_secret = "synthetic-user:synthetic-password"
    answer = web.post(
        "/provider/reports/destinations/add/",
        {
            "name": "NCMEC",
            "kind": "cybertipline",
            "url": "https://exttest.cybertip.org/ispws",
            "secret": ncmec_secret,
        },
    )
    assert answer.status_code == 302
    ncmec = Destination.objects.get(name="NCMEC")
    assert ncmec.kind == "cybertipline" and ncmec.recipient_id is None
    assert ncmec_secret.encode() not in bytes(ncmec.token_encrypted)
    listing = web.get("/provider/reports/destinations/").content.decode()
    assert "National authority" in listing and pin.fingerprint in listing
    assert secret not in listing and ncmec_secret not in listing
    # Refusals: a recipient for the CyberTipline, a name taken, no secret.
    refused = web.post(
        "/provider/reports/destinations/add/",
        {
            "name": "NCMEC 2",
            "kind": "cybertipline",
            "url": "https://exttest.cybertip.org/ispws",
            "secret": ncmec_secret,
            "recipient": pin.key_id,
        },
    )
    assert refused.status_code == 400 and "only a Haven destination" in refused.content.decode()
    taken = web.post(
        "/provider/reports/destinations/add/",
        {"name": "NCMEC", "kind": "haven", "url": "https://x.example", "secret": "s" * 20},
    )
    assert taken.status_code == 400 and "of this name already" in taken.content.decode()
    assert web.post("/provider/reports/destinations/add/", {}).status_code == 400
    assert Destination.objects.count() == 2


# --- who may ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMINISTRATOR, Role.AUTHORITY_ANALYST])
def test_roles_without_reports_send_are_refused(
    role: Role,
    confirmed: Review,
    agency: Agency,  # noqa: F811
) -> None:
    client = signed_in_client(Client(), make_user(role, agency, username=f"x-{role.value}"))
    for url in ("/provider/reports/", _url(confirmed), "/provider/reports/outbox/"):
        assert client.get(url).status_code == 403, url
    for url in ("/provider/reports/destinations/", "/provider/reports/destinations/add/"):
        expected = 200 if role is Role.ADMINISTRATOR else 403
        assert client.get(url).status_code == expected, url
    assert client.post(_url(confirmed, "send"), {"destination": ["1"]}).status_code == 403
    assert client.post(_url(confirmed), _fields(confirmed)).status_code == 403
    assert not AuditEntry.objects.filter(action="report.draft_view").exists()


def test_another_agencys_review_is_not_found(confirmed: Review, web: Client) -> None:
    other = make_agency("Other provider (synthetic)")
    content = ScannedContent.objects.create(
        agency=other,
        content_id="other-1",
        media="image",
        hashes={"md5": "0" * 32},
        decision="block",
        scanned_by="test",
    )
    theirs = Review.objects.create(
        agency=other, content=content, state="confirmed", report_draft=confirmed.report_draft
    )
    assert web.get(_url(theirs)).status_code == 404
    assert web.post(_url(theirs), _fields(confirmed)).status_code == 404
    assert web.post(_url(theirs, "send"), {}).status_code == 404
    assert "Drafts waiting (1)" in web.get("/provider/reports/").content.decode()
    # A pending review has no draft page either.
    pending = Review.objects.get(pk=confirmed.pk)
    Review.objects.filter(pk=pending.pk).update(state="pending")
    assert web.get(_url(pending)).status_code == 404

"""The policy pages: a saved policy changes what a scan decides; refusals change nothing;
the flood guard pauses a bank and alerts, and an administrator resumes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from tests.detection.provider_helpers import (
    Provider,
    build_provider,
    client_for,
    scan_upload,
)

from haven.audit.models import AuditEntry
from haven.banks import services as banks
from haven.banks.models import Bank
from haven.detection.models import Alert, BankPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> Provider:
    return build_provider()


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hold": "on",
        "report": "on",
        "threshold": 31,
        "enable_percent": 100,
        "flood_limit": 500,
        "flood_window_minutes": 10,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _post(client: Client, bank: Bank, **changes: Any) -> Any:
    return client.post(f"/provider/policies/{bank.pk}/", _form(**changes))


def test_a_saved_policy_changes_what_a_scan_decides(world: Provider) -> None:
    admin = client_for(world.admin)
    assert scan_upload(world, "before").decision == "hold"
    response = _post(admin, world.bank, block="on")
    assert response.status_code == 302, response.content
    policy = BankPolicy.objects.get(bank=world.bank)
    assert (policy.block, policy.hold, policy.report, policy.notify) == (True, True, True, False)
    assert policy.updated_by == f"user:{world.admin.pk}"
    assert scan_upload(world, "after-block").decision == "block"
    assert AuditEntry.objects.filter(action="policy.update", target_id=str(world.bank.pk)).exists()

    assert _post(admin, world.bank, block="on", enable_percent=0).status_code == 302
    trial = scan_upload(world, "after-trial")
    assert trial.decision == "allow"
    assert trial.policy["trial_banks"] == [world.bank.pk] and trial.policy["acting_banks"] == []

    page = admin.get(f"/provider/policies/{world.bank.pk}/")
    assert page.status_code == 200
    assert page.context["form"].initial["enable_percent"] == 0
    listing = admin.get("/provider/policies/")
    assert listing.status_code == 200
    row = next(r for r in listing.context["rows"] if r["bank"].pk == world.bank.pk)
    assert row["actions"] == ["block", "hold", "report"] and row["policy"].enable_percent == 0


def test_the_threshold_is_saved_on_the_bank(world: Provider) -> None:
    assert _post(client_for(world.admin), world.bank, threshold=12).status_code == 302
    world.bank.refresh_from_db()
    assert world.bank.threshold == 12


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hold": None}, "reporting needs hold"),
        ({"enable_percent": 150}, "the enabled share is a percentage, 0 to 100"),
        ({"flood_limit": 0}, "the flood limit is 1 to"),
        ({"flood_window_minutes": 100000}, "the flood window is 1 to"),
        ({"threshold": 999}, "threshold must be 0..64, got 999"),
        ({"enable_percent": "lots"}, "Enter a whole number."),
    ],
)
def test_bad_values_are_refused_with_the_reason_and_nothing_changes(
    world: Provider, changes: dict[str, Any], message: str
) -> None:
    response = _post(client_for(world.admin), world.bank, block="on", **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BankPolicy.objects.filter(bank=world.bank).exists()
    world.bank.refresh_from_db()
    assert world.bank.threshold == 31
    assert scan_upload(world, "still-held").decision == "hold"


def test_allow_lists_of_this_agency_only(world: Provider) -> None:
    admin = client_for(world.admin)
    own = banks.create_bank(world.system, name="Benign allow-list", is_allow_list=True)
    banks.add_entry(world.system, own, signal_type="pdq", hash_hex=world.known.hex())
    other_world = build_provider(seed=12, name="Other provider (synthetic)")
    theirs = banks.create_bank(other_world.system, name="Their allow-list", is_allow_list=True)

    refused = _post(admin, world.bank, allow_lists=[own.pk, theirs.pk])
    assert refused.status_code == 400
    assert "allow-lists must be this agency&#x27;s allow-list banks" in refused.content.decode()
    assert not BankPolicy.objects.filter(bank=world.bank).exists()
    not_allow = _post(admin, world.bank, allow_lists=[world.other_bank.pk])
    assert not_allow.status_code == 400

    page = admin.get(f"/provider/policies/{world.bank.pk}/")
    assert "None ticked = every allow-list" in page.content.decode()
    assert f'value="{own.pk}"' in page.content.decode()
    assert f'value="{theirs.pk}"' not in page.content.decode()
    assert _post(admin, world.bank, allow_lists=[own.pk]).status_code == 302
    policy = BankPolicy.objects.get(bank=world.bank)
    assert [b.pk for b in policy.allow_lists.all()] == [own.pk]
    # The named allow-list suppresses the bank's match.
    assert scan_upload(world, "allowed").decision == "allow"


def test_a_flood_pauses_the_bank_alerts_and_resume_lifts_it(world: Provider) -> None:
    admin = client_for(world.admin)
    assert _post(admin, world.bank, block="on", flood_limit=3).status_code == 302
    decisions = [scan_upload(world, f"flood-{i}").decision for i in range(3)]
    assert decisions == ["block", "block", "block"]
    policy = BankPolicy.objects.get(bank=world.bank)
    assert policy.paused_at is not None and "limit 3" in policy.paused_reason
    (alert,) = Alert.objects.filter(kind="flood_guard", agency=world.agency)
    # Paused: still held for review, no longer blocked at once.
    assert scan_upload(world, "flood-3").decision == "hold"

    listing = admin.get("/provider/policies/").content.decode()
    assert "paused" in listing and policy.paused_reason in listing and 'name="resume"' in listing
    alerts = admin.get("/provider/alerts/")
    assert [a.pk for a in alerts.context["alerts"]] == [alert.pk]
    dashboard = admin.get("/dashboard/")
    assert dashboard.context["alerts"] == {"open": 1, "flood": 1}

    resumed = admin.post(f"/provider/policies/{world.bank.pk}/", {"resume": "1"})
    assert resumed.status_code == 302
    policy.refresh_from_db()
    assert policy.paused_at is None and policy.paused_reason == ""
    again = admin.post(f"/provider/policies/{world.bank.pk}/", {"resume": "1"})
    assert again.status_code == 400 and "not paused" in again.content.decode()

    assert admin.post("/provider/alerts/", {"alert": alert.pk}).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == f"user:{world.admin.pk}"
    assert admin.get("/provider/alerts/").context["alerts"] == []
    twice = admin.post("/provider/alerts/", {"alert": alert.pk})
    assert twice.status_code == 400 and "acknowledged already" in twice.content.decode()
    assert admin.post("/provider/alerts/", {}).status_code == 400


def test_alerts_of_another_agency_are_out_of_reach(world: Provider) -> None:
    from tests.accounts.helpers import make_user

    from haven.accounts.roles import Role

    other = build_provider(seed=13, name="Third provider (synthetic)")
    alert = Alert.objects.create(agency=other.agency, kind="match", message="synthetic")
    # Administrators reach every agency; an agency-bound role with the permission would not.
    assert client_for(world.admin).post("/provider/alerts/", {"alert": alert.pk}).status_code == 302
    analyst = client_for(make_user(Role.PROVIDER_ANALYST, world.agency))
    assert analyst.post("/provider/alerts/", {"alert": alert.pk}).status_code == 403


def test_provider_analysts_cannot_change_policies(world: Provider) -> None:
    analyst = client_for(world.reviewer)
    assert analyst.get("/provider/policies/").status_code == 403
    assert analyst.get(f"/provider/policies/{world.bank.pk}/").status_code == 403
    assert _post(analyst, world.bank, block="on").status_code == 403
    assert not BankPolicy.objects.filter(bank=world.bank).exists()
    auditor = client_for(world.auditor)
    assert auditor.get("/provider/policies/").status_code == 403
    assert auditor.get("/provider/alerts/").status_code == 403


def test_an_allow_list_has_no_policy_page(world: Provider) -> None:
    allow = banks.create_bank(world.system, name="Benign allow-list", is_allow_list=True)
    admin = client_for(world.admin)
    assert admin.get(f"/provider/policies/{allow.pk}/").status_code == 404
    listed = [r["bank"].pk for r in admin.get("/provider/policies/").context["rows"]]
    assert allow.pk not in listed and world.bank.pk in listed

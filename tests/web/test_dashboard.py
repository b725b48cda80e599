"""The dashboard: cards chosen by permission, banks counted within reach, the lookup chart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.accounts.helpers import make_user, signed_in_client

from haven.accounts.models import User
from haven.accounts.permissions import principal_for_user
from haven.banks import services
from haven.banks.matcher import Matcher, reset_matcher
from haven.banks.models import LookupCounter
from haven.web.dashboard import lookups_per_hour

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    reset_matcher()
    yield
    reset_matcher()


def dashboard(user: User) -> Any:
    response = signed_in_client(Client(), user).get(reverse("web:dashboard"))
    assert response.status_code == 200
    return response


def banks_for(user: User) -> None:
    principal = principal_for_user(user)
    assert principal is not None
    listed = services.create_bank(principal, name="Hotline list")
    services.create_bank(principal, name="Known benign", is_allow_list=True)
    services.create_bank(principal, name="Old list", enabled=False)
    for seed in range(3):
        services.add_entry(principal, listed, signal_type="pdq", hash_hex=f"{seed:02x}" * 32)
    entry = services.add_entry(principal, listed, signal_type="md5", hash_hex="ab" * 16)
    services.set_entry_enabled(principal, entry, False)


def test_an_analyst_sees_index_banks_entries_and_the_chart() -> None:
    user = make_user("authority_analyst")
    banks_for(user)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    LookupCounter.objects.create(hour=now, lookups=40, requests=4, matched=2)
    LookupCounter.objects.create(hour=now - timedelta(hours=3), lookups=10, requests=1)
    LookupCounter.objects.create(hour=now - timedelta(hours=30), lookups=999)  # too old

    response = dashboard(user)

    context = response.context
    assert (
        context["index"]["entries"]
        == [
            {"signal": "md5", "label": "MD5", "count": 0},
            {"signal": "pdq", "label": "PDQ", "count": 3},
            {"signal": "sha256", "label": "SHA-256", "count": 0},
            {"signal": "vpdq", "label": "vPDQ", "count": 0},
        ]
        or {e["signal"]: e["count"] for e in context["index"]["entries"]}["pdq"] == 3
    )
    assert context["banks"] == {
        "total": 3,
        "enabled": 2,
        "allow_lists": 1,
        "entries": 4,
        "enabled_entries": 3,
    }
    html = response.content.decode()
    assert 'id="card-index"' in html and 'id="card-banks"' in html and 'id="card-sync"' in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    values = re.findall(r'<rect class="bar"[^>]*data-value="([^"]+)"', svg)
    assert len(values) == 24
    assert values[-1] == "40" and values[-4] == "10" and values.count("0") == 22
    assert '<title id="lookups-chart-title">' in svg and "<desc" in svg
    table = html[html.index("<details>") : html.index("</details>")]
    assert table.count("<tr>") == 25  # header and one row per hour
    assert "50 hashes looked up in the last 24 hours" in html


def test_banks_are_counted_within_reach_only() -> None:
    banks_for(make_user("authority_analyst", agency="Another agency"))
    analyst = make_user("provider_analyst")
    auditor = make_user("auditor")  # reach: all

    assert dashboard(analyst).context["banks"]["total"] == 0
    assert dashboard(auditor).context["banks"]["total"] == 3


def test_a_role_without_bank_or_index_access_sees_only_its_role() -> None:
    worker = make_user("case_worker")
    banks_for(make_user("authority_analyst"))

    response = dashboard(worker)

    assert "banks" not in response.context and "index" not in response.context
    assert "lookups" not in response.context
    html = response.content.decode()
    assert "<svg" not in html and 'id="card-banks"' not in html
    assert "Your role: Case worker" in html
    assert "See the dashboard" in html
    assert reverse("banks:list") not in html and reverse("banks:debugger") not in html


def test_a_supervisor_sees_banks_but_not_the_index_or_the_chart() -> None:
    banks_for(make_user("authority_analyst"))
    supervisor = make_user("supervisor", team="Team A")

    response = dashboard(supervisor)

    assert "banks" in response.context and "index" not in response.context
    assert "lookups" not in response.context
    assert "<svg" not in response.content.decode()


def test_the_role_section_links_what_the_role_may_open() -> None:
    response = dashboard(make_user("provider_analyst"))
    links = {link["label"]: link["url"] for link in response.context["role"]["links"]}
    assert links == {
        "Banks": reverse("banks:list"),
        "Match debugger": reverse("banks:debugger"),
        "Review": reverse("detection:review-queue"),
        "Reports": reverse("detection:report-drafts"),
        "Transparency": reverse("detection:transparency"),
        "Ad networks": reverse("ads:clusters"),
    }
    allowed = response.context["role"]["allowed"]
    assert "reveal a blurred preview of matched media (audited)" in allowed
    assert not any("administer" in a or "create and revoke API tokens" in a for a in allowed)


def test_the_dashboard_loads_when_the_index_cannot_report(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Matcher) -> None:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(Matcher, "status", broken)
    response = dashboard(make_user("auditor"))
    assert response.context["index"] is None
    assert "The index status is unavailable right now." in response.content.decode()


def test_lookups_per_hour_fills_missing_hours_with_zeros() -> None:
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    LookupCounter.objects.create(hour=hour - timedelta(hours=23), lookups=7)
    LookupCounter.objects.create(hour=hour - timedelta(hours=24), lookups=8)

    counts = lookups_per_hour(now)

    assert len(counts) == 24
    assert [c.hour for c in counts] == [hour - timedelta(hours=23 - i) for i in range(24)]
    assert [c.lookups for c in counts] == [7] + [0] * 23

"""Incident grouping: reports that share a file hash, a URL or an account are one incident,
keeping every source; a linking report merges incidents; grouping twice changes nothing;
and, against a brute-force union-find, the incidents are the connected components of
"shares a key" whatever the arrival order and however the batches are cut."""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.accounts.helpers import make_agency
from tests.reports.reports_helpers import report_doc

from haven.accounts.models import Agency
from haven.accounts.permissions import system_principal
from haven.audit.models import AuditEntry
from haven.banks import services as bank_services
from haven.banks.matcher import reset_matcher
from haven.reports import incidents
from haven.reports.format import parse_report, report_json
from haven.reports.incidents import (
    account_history,
    group_pending,
    normalise_url,
    platform_account_key,
    screen_name_key,
)
from haven.reports.intake import receiving_agency
from haven.reports.models import AccountSighting, Incident, IncidentKey, ReceivedReport
from haven.reports.priority import Context, TriageFacts, facts_of, priority_of

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-12-01T10:00:00+00:00")
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    reset_matcher()  # another test's banks must not leak into "material not seen before"
    yield
    reset_matcher()


@pytest.fixture
def authority(db: None) -> Agency:
    return receiving_agency()


@pytest.fixture
def providers(db: None) -> tuple[Agency, Agency]:
    return make_agency("Provider A (synthetic)"), make_agency("Provider B (synthetic)")


def file_doc(md5: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "file_id": f"f-{md5[-8:]}",
        "name": "synthetic.png",
        "md5": md5,
        "viewed_by_provider": False,
        "exif_viewed_by_provider": False,
        "relevance": "reported",
    }
    doc.update(changes)
    return doc


def receive(
    sender: Agency, doc: dict[str, Any], at: datetime | None = None, authority: Agency | None = None
) -> ReceivedReport:
    """Store a report as the intake does (validated, canonical), without the HTTP round."""
    report = parse_report(doc)
    return ReceivedReport.objects.create(
        agency=authority or receiving_agency(),
        sender=sender,
        sender_report_id=report.report_id,
        schema_version="1",
        payload=report_json(report),
        payload_sha256=secrets.token_hex(32),
        receipt_id=secrets.token_hex(16),
        received_at=at or T0 + timedelta(seconds=next(_ids)),
        synthetic=True,
    )


def live() -> list[Incident]:
    return list(Incident.objects.filter(merged_into__isnull=True).order_by("pk"))


def members(incident: Incident) -> set[str]:
    return set(incident.reports.values_list("sender_report_id", flat=True))


def md5(n: int) -> str:
    return f"{n:032x}"


def test_reports_sharing_a_file_hash_are_one_incident_from_both_providers(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    receive(b, report_doc("b-1", files=[file_doc(md5(2)), file_doc(md5(1))]))
    run = group_pending()
    assert (run.grouped, run.opened, run.joined, run.merges) == (2, 1, 1, 0)
    [incident] = live()
    assert members(incident) == {"a-1", "b-1"}
    assert (incident.report_count, incident.sender_count) == (2, 2)
    assert set(incident.reports.values_list("sender__name", flat=True)) == {a.name, b.name}
    assert sorted(incident.keys.filter(kind="md5").values_list("value", flat=True)) == [
        md5(1),
        md5(2),
    ]
    assert not ReceivedReport.objects.filter(grouped_at__isnull=True).exists()
    actions = list(AuditEntry.objects.filter(target_type="incident").values_list("action"))
    assert actions == [("incident.open",), ("incident.join",)]
    entry = AuditEntry.objects.get(action="incident.join")
    assert entry.actor == "system:group-reports" and entry.target_id == str(incident.pk)


def test_urls_match_after_normalising_host_port_and_fragment(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    first = {"kind": "web_page", "url": "https://Example.ORG:443/Gallery/7?x=1#top"}
    second = {"kind": "web_page", "url": "https://example.org/Gallery/7?x=1"}
    other_path = {"kind": "web_page", "url": "https://example.org/gallery/7?x=1"}
    receive(a, report_doc("a-1", locations=[first]))
    receive(b, report_doc("b-1", ads=[{"ad_id": "ad-9", "url": second["url"]}]))
    receive(b, report_doc("b-2", locations=[other_path]))  # paths are case-sensitive
    group_pending()
    assert sorted(members(i) for i in live()) == [{"a-1", "b-1"}, {"b-2"}]
    assert normalise_url("HTTP://Host.Example:80") == "http://host.example/"
    assert normalise_url("https://[2001:DB8::1]:8443/a#b") == "https://[2001:db8::1]:8443/a"


def test_an_account_reported_by_two_providers_is_one_incident_and_a_repeat_offender(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    account_a = {
        "screen_names": ["Synthetic_Trader"],
        "ip_events": [{"ip": "192.0.2.10", "at": "2026-11-30T20:00:00+00:00", "kind": "login"}],
    }
    account_b = {
        "platform_ids": ["u-77"],
        "screen_names": ["synthetic_trader"],
        "ip_events": [{"ip": "198.51.100.4", "at": "2026-11-30T21:00:00+00:00", "kind": "upload"}],
    }
    receive(a, report_doc("a-1", reported_accounts=[account_a]))
    group_pending()
    [alone] = live()
    assert not alone.facts["repeat_offender"]
    receive(b, report_doc("b-1", reported_accounts=[account_b]))
    group_pending()
    [incident] = live()
    assert incident.pk == alone.pk and members(incident) == {"a-1", "b-1"}
    assert incident.facts["repeat_offender"] is True
    assert "repeat_offender" in [r["factor"] for r in incident.priority_reasons]
    history = account_history(incident.agency, screen_name_key("SYNTHETIC_TRADER"))
    assert history.providers == (a.name, b.name)
    assert history.ips == ("192.0.2.10", "198.51.100.4")
    assert [s.sender_report_id for s in history.sightings] == ["a-1", "b-1"]
    assert history.repeat_offender
    only_b = account_history(incident.agency.pk, platform_account_key(b.pk, "u-77"))
    assert only_b.providers == (b.name,) and not only_b.repeat_offender


def test_a_platform_id_names_an_account_only_at_its_provider(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    account = {"platform_ids": ["1001"]}
    receive(a, report_doc("a-1", reported_accounts=[account]))
    receive(b, report_doc("b-1", reported_accounts=[account]))  # another platform's 1001
    receive(a, report_doc("a-2", reported_accounts=[account]))
    group_pending()
    groups = sorted((sorted(members(i)) for i in live()), key=len)
    assert groups == [["b-1"], ["a-1", "a-2"]]
    [twice] = [i for i in live() if i.report_count == 2]
    assert twice.facts["repeat_offender"] is True  # the same account in two reports


def test_a_report_linking_two_incidents_merges_them_into_the_oldest(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    receive(b, report_doc("b-1", locations=[{"kind": "chat", "url": "https://chat.example/r/5"}]))
    group_pending()
    older, newer = live()
    receive(
        a,
        report_doc(
            "a-2",
            files=[file_doc(md5(1))],
            locations=[{"kind": "chat", "url": "https://chat.example/r/5"}],
        ),
    )
    run = group_pending()
    assert (run.merges, run.merged_away) == (1, 1)
    [survivor] = live()
    assert survivor.pk == older.pk and members(survivor) == {"a-1", "b-1", "a-2"}
    assert (survivor.report_count, survivor.sender_count) == (3, 2)
    newer.refresh_from_db()
    assert newer.merged_into_id == older.pk and newer.report_count == 0
    assert set(IncidentKey.objects.values_list("incident_id", flat=True)) == {older.pk}
    entry = AuditEntry.objects.get(action="incident.merge")
    assert json.loads(json.dumps(entry.detail))["merged"] == [newer.pk]


def test_unrelated_reports_stay_apart(providers: tuple[Agency, Agency]) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    receive(b, report_doc("b-1", files=[file_doc(md5(2))]))
    receive(b, report_doc("b-2"))  # an ad with a phone: phones are not keys
    receive(a, report_doc("a-2"))
    run = group_pending()
    assert run.opened == 4 and len(live()) == 4


def snapshot() -> Any:
    return (
        list(Incident.objects.order_by("pk").values()),
        list(IncidentKey.objects.order_by("pk").values()),
        list(ReceivedReport.objects.order_by("pk").values_list("pk", "incident_id", "grouped_at")),
        AccountSighting.objects.count(),
        AuditEntry.objects.count(),
    )


def test_grouping_twice_changes_nothing(providers: tuple[Agency, Agency]) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    receive(
        b, report_doc("b-1", files=[file_doc(md5(1))], reported_accounts=[{"platform_ids": ["x"]}])
    )
    assert group_pending().grouped == 2
    before = snapshot()
    assert group_pending() == incidents.GroupRun()
    assert snapshot() == before


def test_a_report_another_worker_grouped_meanwhile_is_left_alone(
    providers: tuple[Agency, Agency],
) -> None:
    a, _ = providers
    row = receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    prepared = incidents._prepare(row.pk)  # this worker read it ...
    assert prepared is not None
    group_pending()  # ... another grouped it ...
    before = snapshot()
    with transaction.atomic():
        assert incidents._apply(prepared) is None  # ... so this one's claim fails
    assert snapshot() == before


def test_a_key_taken_by_a_concurrent_new_incident_joins_it_on_retry(
    providers: tuple[Agency, Agency], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    group_pending()
    receive(b, report_doc("b-1", files=[file_doc(md5(1))]))
    real = incidents._holders
    calls: list[int] = []

    def blind_once(agency_id: int, keys: Any) -> Any:
        calls.append(1)
        return {} if len(calls) == 1 else real(agency_id, keys)  # the other's commit unseen

    monkeypatch.setattr(incidents, "_holders", blind_once)
    run = group_pending()
    assert run.joined == 1 and len(calls) >= 2  # the unique key failed, the retry joined
    [incident] = live()
    assert members(incident) == {"a-1", "b-1"}
    assert Incident.objects.count() == 1  # the failed attempt left nothing behind


def test_escalation_sets_an_immediate_one_hour_deadline_that_a_join_keeps(
    providers: tuple[Agency, Agency],
) -> None:
    a, b = providers
    escalated = {
        "type": "online_enticement",
        "occurred_at": "2026-11-30T22:15:00+00:00",
        "escalation": {"reason": "synthetic: imminent danger"},
    }
    first = receive(a, report_doc("a-1", incident=escalated, files=[file_doc(md5(1))]))
    group_pending()
    [incident] = live()
    assert incident.escalated and incident.priority_tier == "immediate"
    assert incident.sla_due_at == first.received_at + timedelta(hours=1)
    receive(b, report_doc("b-1", files=[file_doc(md5(1))]))
    group_pending()
    incident.refresh_from_db()
    assert incident.escalated and incident.priority_tier == "immediate"
    assert incident.sla_due_at == first.received_at + timedelta(hours=1)


def test_a_closed_incident_reopens_when_a_report_joins(providers: tuple[Agency, Agency]) -> None:
    a, b = providers
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    group_pending()
    Incident.objects.update(state="closed")
    receive(b, report_doc("b-1", files=[file_doc(md5(1))]))
    group_pending()
    assert [i.state for i in live()] == ["new"]


def test_banked_material_is_not_new(providers: tuple[Agency, Agency], authority: Agency) -> None:
    a, _ = providers
    admin = system_principal(authority.pk, "test")
    bank = bank_services.create_bank(admin, name="Known list (synthetic)")
    bank_services.add_entry(admin, bank, signal_type="md5", hash_hex=md5(1))
    receive(a, report_doc("a-1", files=[file_doc(md5(1))]))
    receive(a, report_doc("a-2", files=[file_doc(md5(2))]))
    group_pending()
    known, unknown = live()
    assert members(known) == {"a-1"} and known.facts["new_material"] is False
    assert members(unknown) == {"a-2"} and unknown.facts["new_material"] is True


def test_a_report_through_the_real_intake_is_grouped(intake: Callable[..., Client]) -> None:
    body = report_doc("http-1", files=[file_doc(md5(1))])
    response = intake().post("/api/v1/intake/reports", body, content_type="application/json")
    assert response.status_code == 201, response.content
    row = ReceivedReport.objects.get()
    assert row.grouped_at is None and row.incident is None
    group_pending()
    row.refresh_from_db()
    assert row.grouped_at is not None and row.incident is not None
    assert row.incident.agency_id == row.agency_id


def test_the_worker_job_groups(providers: tuple[Agency, Agency]) -> None:
    from haven.web.jobs import JOBS

    receive(providers[0], report_doc("a-1"))
    [job] = [j for j in JOBS if j.name == "group-reports"]
    assert job.every_seconds == 10.0
    assert job.run().startswith("grouped 1: opened 1")


# --- the oracle --------------------------------------------------------------------------

# Small pools, so that random reports collide. A key is modelled here independently of the
# service: ("file", n), ("url", n), ("name", n) and ("pid", sender, n).
_URLS = ["https://Pool.example/a#x", "https://pool.example/b", "https://POOL.example:443/c"]
_URL_TWIN = ["https://pool.example/a", "https://pool.EXAMPLE/b#y", "https://pool.example/c"]
_NAMES = ["Pool_Name_0", "pool_name_1", "POOL_NAME_2"]


def _oracle_doc(rid: str, rng: random.Random) -> tuple[dict[str, Any], set[Any], list[Any]]:
    """A random synthetic report, the keys it holds (model), and its account keys."""
    keys: set[Any] = set()
    account_keys: list[Any] = []
    files = []
    for n in rng.sample(range(4), rng.randint(0, 2)):
        files.append(
            file_doc(
                md5(n),
                file_id=f"f-{n}",
                classification=rng.choice([None, "A1", "B2"]),
                annotations=rng.choice([[], ["live_streaming"]]),
            )
        )
        keys.add(("file", n))
    locations = []
    for n in rng.sample(range(3), rng.randint(0, 1)):
        locations.append({"kind": "web_page", "url": rng.choice([_URLS, _URL_TWIN])[n]})
        keys.add(("url", n))
    accounts = []
    sender = rid[0]
    if rng.random() < 0.6:
        names = rng.sample(range(3), rng.randint(0, 1))
        pids = rng.sample(range(2), rng.randint(0 if names else 1, 1))
        account: dict[str, Any] = {}
        if names:
            account["screen_names"] = [rng.choice([str.lower, str.upper])(_NAMES[names[0]])]
            account_keys.append(("name", names[0]))
        if pids:
            account["platform_ids"] = [f"pid-{pids[0]}"]
            account_keys.append(("pid", sender, pids[0]))
        accounts.append(account)
        keys.update(account_keys)
    if not (files or locations):
        locations.append({"kind": "chat", "url": f"https://solo.example/{rid}"})
        keys.add(("solo", rid))
    incident: dict[str, Any] = {
        "type": rng.choice(["child_sex_trafficking", "child_sexual_abuse_material"]),
        "occurred_at": "2026-11-30T22:15:00+00:00",
    }
    if rng.random() < 0.15:
        incident["escalation"] = {"reason": "synthetic"}
    doc = report_doc(
        rid,
        incident=incident,
        files=files,
        locations=locations,
        reported_accounts=accounts,
        victims=[{"estimated_age": 8}] if rng.random() < 0.2 else [],
        ads=[],
    )
    return doc, keys, account_keys


def _components(keys_of: dict[str, set[Any]]) -> set[frozenset[str]]:
    parent = {rid: rid for rid in keys_of}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    holder: dict[Any, str] = {}
    for rid, keys in keys_of.items():
        for key in keys:
            if key in holder:
                parent[find(rid)] = find(holder[key])
            else:
                holder[key] = rid
    groups: dict[str, set[str]] = {}
    for rid in keys_of:
        groups.setdefault(find(rid), set()).add(rid)
    return {frozenset(g) for g in groups.values()}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 14))
def test_incidents_are_the_connected_components_of_shared_keys(
    providers: tuple[Agency, Agency], seed: int, count: int
) -> None:
    rng = random.Random(seed)
    by_prefix = {"a": providers[0], "b": providers[1]}
    docs = {}
    keys_of: dict[str, set[Any]] = {}
    accounts_of: dict[str, list[Any]] = {}
    for i in range(count):
        rid = f"{rng.choice('ab')}-{i}"
        docs[rid], keys_of[rid], accounts_of[rid] = _oracle_doc(rid, rng)
    arrival = list(docs)
    rng.shuffle(arrival)
    with transaction.atomic():
        # Reports arrive in a random order, in random bursts, grouped in random batches.
        position = 0
        while position < len(arrival):
            burst = arrival[position : position + rng.randint(1, 5)]
            position += len(burst)
            for rid in burst:
                receive(by_prefix[rid[0]], docs[rid], at=T0 + timedelta(seconds=position))
            if rng.random() < 0.7:
                while group_pending(limit=rng.randint(1, 4)).grouped:
                    pass
        while group_pending(limit=rng.randint(1, 4)).grouped:
            pass

        expected = _components(keys_of)
        found = live()
        assert {frozenset(members(i)) for i in found} == expected
        assert not ReceivedReport.objects.filter(incident__merged_into__isnull=False).exists()
        for merged in Incident.objects.filter(merged_into__isnull=False):
            assert merged.merged_into is not None and merged.merged_into.merged_into_id is None
        for incident in found:
            rids = members(incident)
            assert incident.report_count == len(rids)
            assert incident.sender_count == len({rid[0] for rid in rids})
            # The stored priority is priority_of on the facts of all its reports, joined.
            seen: dict[Any, int] = {}
            for rid in rids:
                for key in set(accounts_of[rid]):
                    seen[key] = seen.get(key, 0) + 1
            facts = TriageFacts.union(
                facts_of(
                    parse_report(docs[rid]),
                    Context(repeat_offender=any(seen[k] >= 2 for k in accounts_of[rid])),
                )
                for rid in rids
            )
            assert incident.facts == facts.as_dict()
            priority = priority_of(facts)
            assert (incident.priority_score, incident.priority_tier) == (
                priority.score,
                priority.tier,
            )
            assert [r["factor"] for r in incident.priority_reasons] == list(facts.present())
        transaction.set_rollback(True)

"""Transparency figures against a brute-force oracle computed here from the rows.

The oracle walks every upload, review, appeal and report in Python and applies the
documented rules; the service must agree for each bank and for all banks together, and
the CSV must say what the page shows.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.accounts.helpers import make_user
from tests.detection.provider_helpers import (
    Provider,
    build_provider,
    client_for,
    principal,
    review_of,
    scan_upload,
)
from tests.reports.reports_helpers import report_doc

from haven.accounts.permissions import system_principal
from haven.accounts.roles import Role
from haven.audit.models import AuditEntry
from haven.banks.models import Bank
from haven.detection import removal
from haven.detection import review as reviews
from haven.detection.appeals import decide_appeal, file_appeal
from haven.detection.models import Review, ScannedContent
from haven.detection.transparency import (
    BankFigures,
    Figures,
    csv_rows,
    default_period,
    figures,
    period_of,
)
from haven.reports.format import parse_report
from haven.reports.models import OutboxMessage, OutgoingReport
from haven.reports.services import add_destination, queue_report

pytestmark = pytest.mark.django_db

SECRET = "synthetic-hook-secret-0123456789"


@pytest.fixture
def world(db: None) -> Provider:
    return build_provider(seed=31)


def _send_report(world: Provider, review: Review, destination: Any) -> OutgoingReport:
    """Queue the review's report and mark the review sent (the review page's send step)."""
    report_id = f"{world.agency.pk}-review-{review.pk}"
    sent = queue_report(principal(world.reviewer), parse_report(report_doc(report_id)), destination)
    Review.objects.filter(pk=review.pk).update(report_id=report_id)
    return sent


def _build(world: Provider) -> None:
    now = timezone.now()
    first_reviewer, second = principal(world.reviewer), principal(world.second_reviewer)
    removal.add_hook(world.system, "https://hooks.example/remove", SECRET)
    plan = [
        ("c1", world.known, now - timedelta(hours=5)),
        ("c2", world.known, now - timedelta(hours=1)),
        ("c3", world.known, None),
        ("c4", world.other_known, now - timedelta(hours=30)),
        ("c5", world.other_known, now - timedelta(hours=2)),
        ("c6", world.known, None),
        ("c7", bytes(32), None),  # matches nothing
        ("c8", world.known, None),
    ]
    content = {
        cid: scan_upload(world, cid, known, account=f"acct-{cid}", uploaded_at=at)
        for cid, known, at in plan
    }
    for cid in ("c1", "c2", "c4", "c5"):
        reviews.confirm(first_reviewer, review_of(content[cid]), classification="B1")
    reviews.false_positive(first_reviewer, review_of(content["c3"]), note="benign")
    removal.deliver_hooks(call=lambda delivery: None)  # the provider's hook acknowledges
    overturn = file_appeal(world.scanner, content["c4"], "Synthetic: my own drawing.")
    decide_appeal(second, overturn, overturn=True, note="the match was wrong")
    upheld = file_appeal(world.scanner, content["c5"], "Synthetic: please look again.")
    decide_appeal(second, upheld, overturn=False, note="the match stands")
    file_appeal(world.scanner, content["c2"], "Synthetic: pending appeal.")
    destination = add_destination(
        system_principal(world.reviewer.agency_id, "test"),
        name="Authority (synthetic)",
        url="https://intake.example",
        token="synthetic-token",
    )
    delivered = _send_report(world, review_of(content["c1"]), destination)
    _send_report(world, review_of(content["c4"]), destination)
    OutboxMessage.objects.filter(report=delivered).update(state="delivered", delivered_at=now)
    # History: c2's removal happened ten days ago (a week bucket of its own), and c8 was
    # scanned long before any period shown by default.
    past = timedelta(days=10)
    ScannedContent.objects.filter(pk=content["c2"].pk).update(
        uploaded_at=now - past - timedelta(hours=1), removed_at=now - past
    )
    ScannedContent.objects.filter(pk=content["c8"].pk).update(scanned_at=now - timedelta(days=200))


def _oracle(agency_id: int, first: date, last: date) -> dict[int | None, dict[str, Any]]:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)

    def inside(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    banks = [b.pk for b in Bank.objects.filter(agency_id=agency_id, is_allow_list=False)]
    counts: dict[int | None, Counter[str]] = {b: Counter() for b in [*banks, None]}
    times: dict[int | None, list[float]] = defaultdict(list)
    for c in ScannedContent.objects.filter(agency_id=agency_id):
        acting = c.policy.get("acting_banks", [])
        if inside(c.scanned_at) and acting:
            counts[None]["matches"] += 1
            for b in acting:
                counts[b]["matches"] += 1
        if inside(c.removed_at):
            assert c.removed_at is not None
            seconds = (c.removed_at - (c.uploaded_at or c.scanned_at)).total_seconds()
            review = Review.objects.filter(content=c).first()
            owners = {m.bank_id for m in review.bank_matches.all()} if review else set()
            for b in [*owners, None]:
                times[b].append(seconds)
    sent = {r.report_id: Counter() for r in OutgoingReport.objects.filter(agency_id=agency_id)}
    for r in OutgoingReport.objects.filter(agency_id=agency_id):
        if inside(r.created_at):
            sent[r.report_id]["reports_sent"] += 1
            sent[r.report_id]["reports_delivered"] += r.outbox.state == "delivered"
            counts[None]["reports_sent"] += 1
            counts[None]["reports_delivered"] += r.outbox.state == "delivered"
    for review in Review.objects.filter(agency_id=agency_id):
        owners = {m.bank_id for m in review.bank_matches.all()}
        appeals = list(review.appeals.all())
        overturned = any(a.state == "overturned" for a in appeals)
        keys = []
        if inside(review.decided_at):
            if review.state == "false_positive" or overturned:
                keys.append("false_positives")
            elif review.state == "confirmed":
                keys.append("confirmed")
        for a in appeals:
            if inside(a.filed_at):
                keys.append("appeals_filed")
            if inside(a.decided_at):
                keys.append(f"appeals_{a.state}")
        for key in keys:
            counts[None][key] += 1
            for b in owners:
                counts[b][key] += 1
        for b in owners:
            counts[b].update(sent.get(review.report_id, Counter()))

    def p90(values: list[float]) -> float | None:
        # The smallest value at or above which lie no more than 10 % of the values.
        if not values:
            return None
        return min(v for v in values if sum(x <= v for x in values) >= 0.9 * len(values))

    out: dict[int | None, dict[str, Any]] = {}
    for b, found in counts.items():
        out[b] = {
            **{k: found[k] for k in FIELDS},
            "removals": len(times[b]),
            "median": statistics.median(times[b]) if times[b] else None,
            "p90": p90(times[b]),
        }
    return out


FIELDS = (
    "matches",
    "confirmed",
    "false_positives",
    "appeals_filed",
    "appeals_upheld",
    "appeals_overturned",
    "reports_sent",
    "reports_delivered",
)


def _as_dict(row: BankFigures) -> dict[str, Any]:
    return {
        **{k: getattr(row, k) for k in FIELDS},
        "removals": row.removals,
        "median": row.removal.median_seconds,
        "p90": row.removal.p90_seconds,
    }


def _check(found: Figures, oracle: dict[int | None, dict[str, Any]]) -> None:
    got = {row.bank_id: _as_dict(row) for row in (*found.banks, found.total)}
    assert set(got) == set(oracle)
    for bank_id, expected in oracle.items():
        for key, value in expected.items():
            if isinstance(value, float):
                assert got[bank_id][key] == pytest.approx(value, abs=1e-3), (bank_id, key)
            else:
                assert got[bank_id][key] == value, (bank_id, key)


def test_the_figures_agree_with_the_oracle(world: Provider) -> None:
    _build(world)
    period = default_period()
    found = figures(principal(world.auditor), period)
    oracle = _oracle(world.agency.pk, period.first, period.last)
    _check(found, oracle)
    # The oracle is not vacuous: the figures this world was built to have.
    bank, other = oracle[world.bank.pk], oracle[world.other_bank.pk]
    assert (bank["matches"], bank["confirmed"], bank["false_positives"]) == (4, 2, 1)
    assert (other["matches"], other["confirmed"], other["false_positives"]) == (2, 1, 1)
    assert (other["appeals_filed"], other["appeals_upheld"], other["appeals_overturned"]) == (
        2,
        1,
        1,
    )
    assert oracle[None]["removals"] == 4 and oracle[None]["matches"] == 6
    assert (oracle[None]["reports_sent"], oracle[None]["reports_delivered"]) == (2, 1)
    assert found.scanned == 7  # c8 was scanned before the period
    assert sum(w.removal.count for w in found.weeks) == 4
    assert len({w.start for w in found.weeks if w.removal.count}) == 2


def test_a_narrow_period_counts_only_what_happened_in_it(world: Provider) -> None:
    _build(world)
    today = timezone.now().date()
    for first, last in [(today, today), (today - timedelta(days=10), today - timedelta(days=10))]:
        period = period_of(first, last)
        _check(figures(principal(world.auditor), period), _oracle(world.agency.pk, first, last))
    old = period_of(date(2020, 1, 1), date(2020, 3, 31))
    found = figures(principal(world.auditor), old)
    assert found.total == BankFigures(None, "All banks") and found.scanned == 0


def test_the_page_and_the_csv_say_the_same(world: Provider) -> None:
    _build(world)
    auditor = client_for(world.auditor)
    page = auditor.get("/provider/transparency/")
    assert page.status_code == 200
    found = page.context["found"]
    body = page.content.decode()
    assert body.count('class="bar-chart"') == 5 and "Download CSV" in body
    today = timezone.now().date()
    assert found.period == period_of(today - timedelta(days=89), today)
    export = auditor.get(
        "/provider/transparency.csv",
        {"first": found.period.first.isoformat(), "last": found.period.last.isoformat()},
    )
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert export["Content-Disposition"].startswith('attachment; filename="transparency-')
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows == csv_rows(found)
    total = rows[-1]
    assert total[3] == "All banks" and total[12] == "4"
    assert total[13] == f"{found.total.removal.median_seconds / 3600:.2f}"
    assert f"<td>{total[13]}</td>" in body  # the page shows the same median
    assert AuditEntry.objects.filter(
        action="transparency.export", actor=f"user:{world.auditor.pk}"
    ).exists()


def test_a_wrong_period_is_refused(world: Provider) -> None:
    auditor = client_for(world.auditor)
    backwards = auditor.get(
        "/provider/transparency/", {"first": "2026-03-01", "last": "2026-01-01"}
    )
    assert backwards.status_code == 400
    assert "the period ends before it starts" in backwards.content.decode()
    assert auditor.get("/provider/transparency.csv", {"first": "soon"}).status_code == 400
    assert not AuditEntry.objects.filter(action="transparency.export").exists()


def test_who_may_read_the_figures(world: Provider) -> None:
    auditor = client_for(world.auditor)
    assert auditor.get("/provider/transparency/").status_code == 200
    assert auditor.get("/provider/policies/").status_code == 403
    assert client_for(world.admin).get("/provider/transparency/").status_code == 200
    assert client_for(world.reviewer).get("/provider/transparency/").status_code == 200
    worker = client_for(make_user(Role.CASE_WORKER, world.agency))
    assert worker.get("/provider/transparency/").status_code == 403
    assert worker.get("/provider/transparency.csv").status_code == 403
    nav = [link["label"] for link in auditor.get("/dashboard/").context["nav_links"]]
    assert "Transparency" in nav and "Policies" not in nav

"""Transparency figures: what the banks matched, what reviewers and appeals made of it.

A provider publishes these (EU Digital Services Act, art. 15 and 24) and an administrator
reads them to judge the banks: a bank whose matches reviewers keep overturning hurts
innocent uploaders. Each figure counts an event in the period it happened in:

- matches: uploads scanned in the period that a bank's policy acted on (its "acting"
  banks, as stored with the upload's verdict; a trial or suppressed match does not count);
- confirmations and false positives: reviews decided in the period, per bank behind the
  review's matches; a confirmation an appeal overturned counts as a false positive, as in
  the bank's quality score (`haven.detection.policies.bank_quality`);
- appeals filed in the period, and appeals upheld or overturned in it;
- reports sent (queued to an authority) in the period, and how many of those were delivered;
- removals acknowledged by the provider's hook in the period, and the time from upload
  (the provider's `uploaded_at`, else the scan) to removal: median and 90th percentile
  (nearest rank), overall and per week.

Counts come from aggregate queries; the times are read as one column each and ranked here
(SQLite has no percentile aggregate). Out: plain frozen dataclasses, and CSV rows.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q

from haven.accounts.permissions import Principal, check
from haven.banks.models import Bank
from haven.detection.models import Appeal, Review, ReviewMatch, ScannedContent
from haven.detection.policies import decision_counts
from haven.reports.models import OutgoingReport

__all__ = [
    "CSV_HEADER",
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "BankFigures",
    "Figures",
    "Period",
    "PeriodError",
    "RemovalTimes",
    "WeekFigures",
    "csv_rows",
    "default_period",
    "figures",
    "nearest_rank",
    "period_of",
    "removal_times",
]

DEFAULT_DAYS = 90
MAX_DAYS = 3660


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}"


class PeriodError(ValueError):
    """A date range the figures cannot be computed for; the message says why."""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days, `first` to `last` inclusive."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_of(first: date, last: date) -> Period:
    if last < first:
        raise PeriodError("the period ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"choose a period of at most {MAX_DAYS} days")
    return Period(first, last)


def default_period(today: date | None = None) -> Period:
    """The last 90 days, today included."""
    today = today or datetime.now(UTC).date()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


@dataclass(frozen=True, slots=True)
class RemovalTimes:
    """How long removals took, in seconds from upload to the provider's acknowledgement."""

    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def median_hours(self) -> str:
        """Hours to two places, as the page and the CSV show them ("" for no removal)."""
        return _hours(self.median_seconds)

    @property
    def p90_hours(self) -> str:
        return _hours(self.p90_seconds)


@dataclass(frozen=True, slots=True)
class BankFigures:
    """One bank's figures; `bank_id` None is the row for all banks (uploads counted once)."""

    bank_id: int | None
    bank: str
    matches: int = 0
    confirmed: int = 0
    false_positives: int = 0
    appeals_filed: int = 0
    appeals_upheld: int = 0
    appeals_overturned: int = 0
    reports_sent: int = 0
    reports_delivered: int = 0
    removal: RemovalTimes = RemovalTimes()

    @property
    def removals(self) -> int:
        return self.removal.count


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """Removals acknowledged in the week starting on `start` (a Monday, or the first day)."""

    start: date
    removal: RemovalTimes


@dataclass(frozen=True, slots=True)
class Figures:
    agency_id: int
    period: Period
    scanned: int
    banks: tuple[BankFigures, ...]
    total: BankFigures
    weeks: tuple[WeekFigures, ...]


def nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value at or above `share` of them."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def removal_times(seconds: Iterable[float]) -> RemovalTimes:
    found = list(seconds)
    if not found:
        return RemovalTimes()
    return RemovalTimes(len(found), float(statistics.median(found)), nearest_rank(found, 0.9))


def _between(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def _matches(agency_id: int, period: Period) -> tuple[int, int, Counter[int]]:
    """Uploads scanned, uploads acted on, and acting matches per bank."""
    scanned = ScannedContent.objects.filter(agency_id=agency_id).filter(
        _between("scanned_at", period)
    )
    per_bank: Counter[int] = Counter()
    acted = 0
    # Only uploads that matched anything carry acting banks; the list is read as one column.
    rows = scanned.exclude(matches=[]).values_list("policy__acting_banks", flat=True)
    for acting in rows.iterator():
        banks = {int(b) for b in acting or []}
        acted += bool(banks)
        per_bank.update(banks)
    return scanned.count(), acted, per_bank


def _decisions(agency_id: int, period: Period) -> dict[int, tuple[int, int]]:
    rows = (
        ReviewMatch.objects.filter(review__agency_id=agency_id)
        .filter(_between("review__decided_at", period))
        .values("bank_id")
        .annotate(**decision_counts())
    )
    return {r["bank_id"]: (r["confirmed"], r["false_positives"]) for r in rows}


def _appeal_counts(
    agency_id: int, period: Period
) -> tuple[dict[int, tuple[int, int, int]], tuple[int, int, int]]:
    appeals = Appeal.objects.filter(agency_id=agency_id)
    filed = _between("filed_at", period)
    decided = _between("decided_at", period)
    counts = {
        "filed": Count("pk", filter=filed, distinct=True),
        "upheld": Count("pk", filter=decided & Q(state="upheld"), distinct=True),
        "overturned": Count("pk", filter=decided & Q(state="overturned"), distinct=True),
    }
    rows = (
        appeals.filter(filed | decided).values("review__bank_matches__bank_id").annotate(**counts)
    )
    per_bank = {
        r["review__bank_matches__bank_id"]: (r["filed"], r["upheld"], r["overturned"])
        for r in rows
        if r["review__bank_matches__bank_id"] is not None
    }
    total = appeals.aggregate(**counts)
    return per_bank, (total["filed"], total["upheld"], total["overturned"])


def _reports(agency_id: int, period: Period) -> tuple[dict[int, tuple[int, int]], tuple[int, int]]:
    sent = (
        OutgoingReport.objects.filter(agency_id=agency_id)
        .filter(_between("created_at", period))
        .values("report_id")
        .annotate(
            sent=Count("pk", distinct=True),
            delivered=Count("pk", filter=Q(outbox__state="delivered"), distinct=True),
        )
    )
    by_id = {r["report_id"]: (r["sent"], r["delivered"]) for r in sent}
    total = (sum(s for s, _ in by_id.values()), sum(d for _, d in by_id.values()))
    per_bank: dict[int, tuple[int, int]] = {}
    links = (
        ReviewMatch.objects.filter(review__agency_id=agency_id, review__report_id__in=list(by_id))
        .values_list("bank_id", "review__report_id")
        .distinct()
    )
    for bank_id, report_id in links:
        s, d = per_bank.get(bank_id, (0, 0))
        per_bank[bank_id] = (s + by_id[report_id][0], d + by_id[report_id][1])
    return per_bank, total


def _removals(
    agency_id: int, period: Period
) -> tuple[dict[int, list[float]], list[float], list[tuple[datetime, float]]]:
    removed = ScannedContent.objects.filter(agency_id=agency_id).filter(
        _between("removed_at", period)
    )
    overall: list[tuple[datetime, float]] = []
    per_content: dict[int, float] = {}
    for pk, uploaded, scanned, at in removed.values_list(
        "pk", "uploaded_at", "scanned_at", "removed_at"
    ):
        assert at is not None  # the filter holds removed uploads only
        seconds = max(0.0, (at - (uploaded or scanned)).total_seconds())
        per_content[pk] = seconds
        overall.append((at, seconds))
    per_bank: dict[int, list[float]] = defaultdict(list)
    links = (
        ReviewMatch.objects.filter(review__content_id__in=list(per_content))
        .values_list("bank_id", "review__content_id")
        .distinct()
    )
    for bank_id, content_id in links:
        per_bank[bank_id].append(per_content[int(content_id)])
    return per_bank, [s for _, s in overall], overall


def _weeks(period: Period, removals: list[tuple[datetime, float]]) -> tuple[WeekFigures, ...]:
    starts = [period.first]
    day = period.first + timedelta(days=7 - period.first.weekday())
    while day <= period.last:
        starts.append(day)
        day += timedelta(days=7)
    buckets: dict[date, list[float]] = {start: [] for start in starts}
    for at, seconds in removals:
        when = at.astimezone(UTC).date()
        start = max(s for s in starts if s <= when)
        buckets[start].append(seconds)
    return tuple(WeekFigures(start, removal_times(buckets[start])) for start in starts)


def figures(principal: Principal, period: Period, agency_id: int | None = None) -> Figures:
    """The figures of the principal's agency (or `agency_id`) over `period`."""
    check(principal, "transparency:read")
    agency = principal.agency_id if agency_id is None else agency_id
    scanned, acted, matches = _matches(agency, period)
    decisions = _decisions(agency, period)
    appeals, appeal_total = _appeal_counts(agency, period)
    reports, report_total = _reports(agency, period)
    removal_banks, removal_all, removal_events = _removals(agency, period)
    named = dict(
        Bank.objects.filter(agency_id=agency, is_allow_list=False).values_list("pk", "name")
    )
    seen = set(matches) | set(decisions) | set(appeals) | set(reports) | set(removal_banks)
    missing = seen - set(named)
    if missing:  # a bank of another agency an upload matched (an administrator's reach)
        named.update(Bank.objects.filter(pk__in=missing).values_list("pk", "name"))
    rows = []
    for bank_id, name in sorted(named.items(), key=lambda item: (item[1].casefold(), item[0])):
        filed, upheld, overturned = appeals.get(bank_id, (0, 0, 0))
        confirmed, false_positives = decisions.get(bank_id, (0, 0))
        sent, delivered = reports.get(bank_id, (0, 0))
        rows.append(
            BankFigures(
                bank_id=bank_id,
                bank=name,
                matches=matches.get(bank_id, 0),
                confirmed=confirmed,
                false_positives=false_positives,
                appeals_filed=filed,
                appeals_upheld=upheld,
                appeals_overturned=overturned,
                reports_sent=sent,
                reports_delivered=delivered,
                removal=removal_times(removal_banks.get(bank_id, [])),
            )
        )
    total_decisions = _decision_total(agency, period)
    filed, upheld, overturned = appeal_total
    total = BankFigures(
        bank_id=None,
        bank="All banks",
        matches=acted,
        confirmed=total_decisions[0],
        false_positives=total_decisions[1],
        appeals_filed=filed,
        appeals_upheld=upheld,
        appeals_overturned=overturned,
        reports_sent=report_total[0],
        reports_delivered=report_total[1],
        removal=removal_times(removal_all),
    )
    return Figures(agency, period, scanned, tuple(rows), total, _weeks(period, removal_events))


def _decision_total(agency_id: int, period: Period) -> tuple[int, int]:
    """Reviews decided in the period, each counted once however many banks it matched."""
    overturned = Q(appeals__state="overturned")
    found = (
        Review.objects.filter(agency_id=agency_id)
        .filter(_between("decided_at", period))
        .aggregate(
            confirmed=Count("pk", filter=Q(state="confirmed") & ~overturned, distinct=True),
            false_positives=Count(
                "pk", filter=Q(state="false_positive") | overturned, distinct=True
            ),
        )
    )
    return found["confirmed"], found["false_positives"]


CSV_HEADER = (
    "period_first",
    "period_last",
    "bank_id",
    "bank",
    "matches",
    "confirmed",
    "false_positives",
    "appeals_filed",
    "appeals_upheld",
    "appeals_overturned",
    "reports_sent",
    "reports_delivered",
    "removals",
    "median_hours_to_removal",
    "p90_hours_to_removal",
)


def _cell(text: str) -> str:
    """A bank's name as a cell no spreadsheet runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(found: Figures) -> list[list[str]]:
    """The header, a row per bank, then the row for all banks."""
    out = [list(CSV_HEADER)]
    for row in (*found.banks, found.total):
        out.append(
            [
                found.period.first.isoformat(),
                found.period.last.isoformat(),
                "" if row.bank_id is None else str(row.bank_id),
                _cell(row.bank),
                *(
                    str(v)
                    for v in (
                        row.matches,
                        row.confirmed,
                        row.false_positives,
                        row.appeals_filed,
                        row.appeals_upheld,
                        row.appeals_overturned,
                        row.reports_sent,
                        row.reports_delivered,
                        row.removals,
                    )
                ),
                row.removal.median_hours,
                row.removal.p90_hours,
            ]
        )
    return out

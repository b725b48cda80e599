"""Queueing a report for a destination: durable before the caller is told it is queued.

The report row and its outbox message are committed in one transaction, so an analyst's
"sent" means the node will deliver it, through crashes and restarts (`haven.reports.outbox`).
"""

from __future__ import annotations

from django.db import transaction

from haven.accounts.permissions import Principal, check, visible
from haven.audit.services import record
from haven.reports.format import Report, report_json
from haven.reports.models import Destination, OutboxMessage, OutgoingReport
from haven.reports.outbox import encrypt_token

__all__ = ["ReportError", "add_destination", "queue_report"]


class ReportError(ValueError):
    """A report or destination this node cannot take; the message says why."""


def add_destination(principal: Principal, *, name: str, url: str, token: str) -> Destination:
    check(principal, "reports:send")
    if not url.startswith(("https://", "http://")):
        raise ReportError("the destination URL must start with https:// (or http:// on loopback)")
    if not token.strip():
        raise ReportError("the destination needs the token its intake issued")
    destination = Destination.objects.create(
        agency_id=principal.agency_id,
        name=name.strip()[:200],
        url=url.strip(),
        token_encrypted=encrypt_token(token.strip()),
    )
    record(
        "reports.destination.add",
        principal=principal,
        target_type="destination",
        target_id=destination.pk,
        detail={"name": destination.name, "url": destination.url},
    )
    return destination


def queue_report(principal: Principal, report: Report, destination: Destination) -> OutgoingReport:
    """Store the report and its outbox message together; the outbox delivers it."""
    check(principal, "reports:send")
    if not visible(Destination.objects.filter(pk=destination.pk), principal).exists():
        raise ReportError("no such destination")
    if not destination.enabled:
        raise ReportError(f"destination {destination.name!r} is disabled")
    if OutgoingReport.objects.filter(
        agency_id=principal.agency_id, report_id=report.report_id
    ).exists():
        raise ReportError(f"report {report.report_id!r} was queued before")
    with transaction.atomic():
        outgoing = OutgoingReport.objects.create(
            agency_id=principal.agency_id,
            report_id=report.report_id,
            payload=report_json(report),
            destination=destination,
            created_by=principal.actor,
        )
        OutboxMessage.objects.create(report=outgoing)
        record(
            "reports.queue",
            principal=principal,
            target_type="outgoing_report",
            target_id=outgoing.pk,
            detail={"report_id": report.report_id, "destination": destination.name},
        )
    return outgoing

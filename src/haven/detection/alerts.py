"""Alerts an administrator must look at (a flood guard tripped, a match that notifies).

An alert stays open until a person acknowledges it; the acknowledgement is audited, so
"who saw that the bank was flooding, and when" has an answer.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from haven.accounts.permissions import Principal, check, get_visible_or_404, visible
from haven.audit.services import record
from haven.detection.models import Alert

__all__ = ["AlertError", "acknowledge", "open_alerts"]


class AlertError(ValueError):
    """An alert action this node refuses; the message says why."""


def open_alerts(principal: Principal) -> QuerySet[Alert]:
    """Unacknowledged alerts within reach, newest first."""
    check(principal, "policies:manage")
    return visible(Alert.objects.filter(acknowledged_at__isnull=True), principal)


def acknowledge(principal: Principal, alert_id: int) -> Alert:
    check(principal, "policies:manage")
    with transaction.atomic():
        alert = get_visible_or_404(Alert.objects.select_for_update(), principal, pk=alert_id)
        if alert.acknowledged_at is not None:
            raise AlertError(f"this alert was acknowledged already by {alert.acknowledged_by}")
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = principal.actor
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record("alert.acknowledge", principal=principal, target_type="alert", target_id=alert.pk)
    return alert

"""Forms of the provider pages: they check types only; the services check the rules.

Ranges and cross-field rules (a report needs hold, the flood limit's bounds, whose
allow-lists may be named) live in `haven.detection.policies`, so the page and any other
caller get the same refusal with the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from haven.banks.models import Bank
from haven.detection.models import BankPolicy
from haven.detection.policies import PolicyChange

__all__ = ["AppealDecisionForm", "PeriodForm", "PolicyForm", "UploaderFilterForm"]


class _IdsField(forms.Field):
    """Ticked checkboxes as bank ids; which ids are allowed is the service's to say."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise ValidationError("allow-lists are named by their bank id") from None


class PolicyForm(forms.Form):
    block = forms.BooleanField(required=False, help_text="block the upload at once")
    hold = forms.BooleanField(required=False, help_text="hold the upload for a reviewer")
    report = forms.BooleanField(
        required=False, help_text="report it once a reviewer confirms (needs hold)"
    )
    notify = forms.BooleanField(required=False, help_text="alert the administrators")
    threshold = forms.IntegerField(
        label="Distance threshold",
        help_text="the largest PDQ distance that counts as a match (the bank's own setting)",
    )
    allow_lists = _IdsField(
        required=False,
        label="Allow-lists that suppress this bank's matches",
        help_text="None ticked = every allow-list of the agency suppresses this bank's matches.",
    )
    enable_percent = forms.IntegerField(
        label="Enabled share (%)",
        help_text="gradual enable: the actions apply to this share of matching uploads; "
        "the rest are counted as trial matches",
    )
    flood_limit = forms.IntegerField(
        label="Flood limit", help_text="this many matches within the window pause auto-actions"
    )
    flood_window_minutes = forms.IntegerField(label="Flood window (minutes)")

    def __init__(self, *args: Any, allow_choices: Sequence[Bank] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = self.fields["allow_lists"].widget
        assert isinstance(widget, forms.CheckboxSelectMultiple)
        widget.choices = [(b.pk, b.name) for b in allow_choices]

    @staticmethod
    def initial_of(policy: BankPolicy, bank: Bank) -> dict[str, Any]:
        return {
            "block": policy.block,
            "hold": policy.hold,
            "report": policy.report,
            "notify": policy.notify,
            "threshold": bank.threshold,
            "allow_lists": [b.pk for b in policy.allow_lists.all()] if policy.pk else [],
            "enable_percent": policy.enable_percent,
            "flood_limit": policy.flood_limit,
            "flood_window_minutes": policy.flood_window_minutes,
        }

    def change(self) -> PolicyChange:
        data = self.cleaned_data
        return PolicyChange(
            block=bool(data["block"]),
            hold=bool(data["hold"]),
            report=bool(data["report"]),
            notify=bool(data["notify"]),
            allow_lists=tuple(data["allow_lists"]),
            enable_percent=int(data["enable_percent"]),
            flood_limit=int(data["flood_limit"]),
            flood_window_minutes=int(data["flood_window_minutes"]),
            threshold=int(data["threshold"]),
        )


class UploaderFilterForm(forms.Form):
    repeat = forms.BooleanField(required=False, label="Repeat offenders only")


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("uphold", "Uphold: the decision stands"),
            ("overturn", "Overturn: the decision was wrong; restore the content"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="why: the uploader's statement of reasons quotes it",
    )


class PeriodForm(forms.Form):
    first = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def dates(self) -> tuple[date, date]:
        return self.cleaned_data["first"], self.cleaned_data["last"]

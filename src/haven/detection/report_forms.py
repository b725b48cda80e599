"""Forms of the report pages: they check types only; the report format checks the rest.

An analyst edits the few fields of a draft that a person decides (incident type and tags,
escalation, each file's classification and tags, who to contact); the form writes them into
the stored draft and `haven.detection.reporting.update_draft` validates the whole report
against the published format, so the page, the JSON editor and any other caller are refused
with the same words. The problems it answers carry paths (`files[0].classification`);
`field_of` says which field of these forms a path belongs to, to show it beside that field.

The viewed flags are deliberately no field here: they come from the audited reveals.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django import forms

from haven.exchange.models import PinnedNode
from haven.reports.cybertip_xml import INCIDENT_TYPE_LABELS
from haven.reports.format import FileAnnotation, IncidentAnnotation, IndustryClassification
from haven.reports.models import DESTINATION_KINDS

__all__ = ["DestinationForm", "DraftForm", "FileForm", "edited", "field_of", "file_prefix"]

_CLASSIFICATION_LABELS = {
    IndustryClassification.A1: "A1: prepubescent, sex act",
    IndustryClassification.A2: "A2: prepubescent, lascivious exhibition",
    IndustryClassification.B1: "B1: pubescent, sex act",
    IndustryClassification.B2: "B2: pubescent, lascivious exhibition",
}
_PUBLIC_CHOICES = [("", "unknown"), ("yes", "yes"), ("no", "no")]
_PUBLIC_VALUES = {"yes": True, "no": False}


def _words(value: str) -> str:
    return value.replace("_", " ")


def _set_or_drop(target: dict[str, Any], key: str, value: str) -> None:
    """An optional text: set when given, absent when cleared (the format has no empty text)."""
    if value:
        target[key] = value
    else:
        target.pop(key, None)


class DraftForm(forms.Form):
    """The report-wide fields an analyst decides."""

    incident_type = forms.ChoiceField(
        label="Incident type",
        choices=[(t.value, label) for t, label in INCIDENT_TYPE_LABELS.items()],
        help_text="the CyberTipline's incident types",
    )
    incident_annotations = forms.MultipleChoiceField(
        label="Incident tags",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(a.value, _words(a.value)) for a in IncidentAnnotation],
    )
    escalation_reason = forms.CharField(
        label="Escalation reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="set to mark the report highest priority (a child in imminent danger); "
        "empty for none",
    )
    additional_info = forms.CharField(
        label="Additional information",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="anything else the authority should know, as free text",
    )
    contact_name = forms.CharField(label="Contact name", required=False)
    contact_email = forms.CharField(label="Contact email", required=False)
    contact_phone = forms.CharField(
        label="Contact phone",
        required=False,
        help_text="E.164: + and digits, e.g. +12025550123; empty for none",
    )

    @staticmethod
    def initial_of(draft: dict[str, Any]) -> dict[str, Any]:
        incident = draft.get("incident", {})
        contact = draft.get("reporter", {}).get("contact", {})
        return {
            "incident_type": incident.get("type", ""),
            "incident_annotations": list(incident.get("annotations", [])),
            "escalation_reason": incident.get("escalation", {}).get("reason", ""),
            "additional_info": draft.get("additional_info", ""),
            "contact_name": contact.get("name", ""),
            "contact_email": contact.get("email", ""),
            "contact_phone": contact.get("phone", ""),
        }

    def apply(self, draft: dict[str, Any]) -> None:
        """Write the cleaned fields into `draft` (a copy the caller owns)."""
        data = self.cleaned_data
        incident = draft.setdefault("incident", {})
        incident["type"] = data["incident_type"]
        if data["incident_annotations"]:
            incident["annotations"] = list(data["incident_annotations"])
        else:
            incident.pop("annotations", None)
        reason = data["escalation_reason"]
        if reason:
            incident["escalation"] = {"reason": reason}
        else:
            incident.pop("escalation", None)
        _set_or_drop(draft, "additional_info", data["additional_info"])
        contact = draft.setdefault("reporter", {}).setdefault("contact", {})
        contact["name"] = data["contact_name"]
        contact["email"] = data["contact_email"]
        _set_or_drop(contact, "phone", data["contact_phone"])


class FileForm(forms.Form):
    """One file's fields an analyst decides (its hashes and viewed flags are the node's)."""

    classification = forms.ChoiceField(
        label="Industry classification",
        required=False,
        choices=[("", "none (a supplemental file)")]
        + [(c.value, label) for c, label in _CLASSIFICATION_LABELS.items()],
    )
    annotations = forms.MultipleChoiceField(
        label="File tags",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(a.value, _words(a.value)) for a in FileAnnotation],
    )
    publicly_available = forms.ChoiceField(
        label="Publicly available", required=False, choices=_PUBLIC_CHOICES
    )

    @staticmethod
    def initial_of(entry: dict[str, Any]) -> dict[str, Any]:
        public = entry.get("publicly_available")
        return {
            "classification": entry.get("classification", ""),
            "annotations": list(entry.get("annotations", [])),
            "publicly_available": "" if public is None else ("yes" if public else "no"),
        }

    def apply(self, entry: dict[str, Any]) -> None:
        data = self.cleaned_data
        _set_or_drop(entry, "classification", data["classification"])
        if data["annotations"]:
            entry["annotations"] = list(data["annotations"])
        else:
            entry.pop("annotations", None)
        public = _PUBLIC_VALUES.get(data["publicly_available"])
        if public is None:
            entry.pop("publicly_available", None)
        else:
            entry["publicly_available"] = public


def file_prefix(index: int) -> str:
    return f"file{index}"


def edited(draft: dict[str, Any], form: DraftForm, file_forms: list[FileForm]) -> dict[str, Any]:
    """The draft with the forms' fields written in; the stored draft is left untouched."""
    changed = copy.deepcopy(draft)
    form.apply(changed)
    for entry, file_form in zip(changed.get("files", []), file_forms, strict=False):
        file_form.apply(entry)
    return changed


_FIELD_OF_PATH = {
    "incident.type": "incident_type",
    "incident.annotations": "incident_annotations",
    "incident.escalation": "escalation_reason",
    "additional_info": "additional_info",
    "reporter.contact.name": "contact_name",
    "reporter.contact.email": "contact_email",
    "reporter.contact.phone": "contact_phone",
}
_FILE_PATH = re.compile(r"^files\[(\d+)\]\.(classification|annotations|publicly_available)\b")


def field_of(path: str) -> tuple[int | None, str] | None:
    """Which form field a problem's path is about: (file index or None, field name)."""
    found = _FILE_PATH.match(path)
    if found:
        return int(found.group(1)), found.group(2)
    for prefix, name in _FIELD_OF_PATH.items():
        if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
            return None, name
    return None


class DestinationForm(forms.Form):
    """A destination's name, kind, URL, secret and (for Haven) the pinned recipient key."""

    name = forms.CharField(label="Name", max_length=200)
    kind = forms.ChoiceField(label="Kind", choices=DESTINATION_KINDS)
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="the intake's base URL, https:// (the CyberTipline's: its API address)",
    )
    secret = forms.CharField(
        label="Secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Haven: the bearer token the authority's intake issued you. CyberTipline: "
        '"username:password" of your reporting API account. Stored encrypted with the '
        "node's master key; it is never shown again.",
    )
    recipient = forms.ChoiceField(
        label="Recipient key (Haven only)",
        required=False,
        help_text="the authority node's identity key, pinned by an administrator after "
        "checking its fingerprint: files are sealed to it. Without one, reports with files "
        "cannot go to this destination. Leave empty for the CyberTipline.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pins = PinnedNode.objects.filter(revoked_at__isnull=True).order_by("name", "pk")
        field = self.fields["recipient"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "none")] + [
            (pin.key_id, f"{pin.name} — {pin.fingerprint}") for pin in pins
        ]

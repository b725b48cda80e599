"""Forms of the bank pages and the match debugger.

They only check the shape of input (lengths, choices, hex) so that errors show next to the
field; what a bank may hold and who may change it is decided by `haven.banks.services`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from haven.banks.models import CLASSIFICATION_SCHEMES, CLASSIFICATIONS, MAX_THRESHOLD
from haven.banks.services import CLASSIFICATIONS_BY_SCHEME
from haven.index.formats import FORMATS
from haven.media.signals import MalformedHash, signal_type

__all__ = [
    "MAX_DEBUGGER_HASHES",
    "SIGNAL_TYPE_CHOICES",
    "BankForm",
    "BankSearchForm",
    "DebuggerHashForm",
    "DebuggerUploadForm",
    "EntrySearchForm",
    "ExportForm",
    "ImportForm",
]

MAX_DEBUGGER_HASHES = 1000

SIGNAL_TYPE_CHOICES = [
    ("pdq", "PDQ (image or video frame)"),
    ("md5", "MD5 (whole file)"),
    ("sha256", "SHA-256 (whole file)"),
]
_CLASSIFICATION_CHOICES = [("", "None")] + [(c, c) for c in CLASSIFICATIONS if c]
_FORMAT_CHOICES = [("", "Detect from the file")] + [(f, f) for f in FORMATS]


def _limit_label(size: int) -> str:
    return f"{size / 1_048_576:.0f} MB" if size >= 1_048_576 else f"{size:,} bytes"


def _check_size(upload: UploadedFile | None) -> UploadedFile | None:
    limit = settings.HAVEN.max_upload_bytes
    if upload is not None and (upload.size or 0) > limit:
        raise forms.ValidationError(
            f"The file is {upload.size:,} bytes, over this node's limit of {_limit_label(limit)}.",
            code="too_large",
        )
    return upload


class BankForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    source = forms.CharField(
        max_length=200, required=False, help_text="Who supplied the list (a hotline, an authority)."
    )
    classification_scheme = forms.ChoiceField(choices=CLASSIFICATION_SCHEMES, initial="categories")
    threshold = forms.IntegerField(
        min_value=0,
        max_value=MAX_THRESHOLD,
        initial=31,
        help_text=f"Largest PDQ distance (0-{MAX_THRESHOLD}) that counts as a match in this bank.",
    )
    is_allow_list = forms.BooleanField(
        required=False,
        label="Allow-list",
        help_text="A match in this bank suppresses matches in every other bank.",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("A bank needs a name.", code="required")
        return name


class BankSearchForm(forms.Form):
    q = forms.CharField(
        max_length=200,
        required=False,
        label="Search banks",
        help_text="Name, description or source.",
    )


class EntrySearchForm(forms.Form):
    q = forms.CharField(
        max_length=200,
        required=False,
        label="Search entries",
        help_text="An external id, or the first hex digits of a hash.",
    )
    state = forms.ChoiceField(
        choices=[("", "All"), ("enabled", "Enabled"), ("disabled", "Disabled")],
        required=False,
        label="Show",
    )


class ImportForm(forms.Form):
    file = forms.FileField(label="Hash list file")
    format = forms.ChoiceField(choices=_FORMAT_CHOICES, required=False)
    signal_type = forms.ChoiceField(
        choices=[*SIGNAL_TYPE_CHOICES, ("vpdq", "vPDQ (one video, from a .vpdq list)")],
        initial="pdq",
        label="Signal type",
        help_text="For lists that do not say (plain lists of hashes).",
    )
    classification = forms.ChoiceField(
        choices=_CLASSIFICATION_CHOICES,
        required=False,
        help_text="Given to entries whose line carries no classification.",
    )

    def __init__(self, *args: Any, scheme: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = CLASSIFICATIONS_BY_SCHEME.get(scheme)
        if allowed is not None:
            field = self.fields["classification"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "None")] + [(c, c) for c in allowed if c]

    def clean_file(self) -> UploadedFile | None:
        return _check_size(self.cleaned_data.get("file"))


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[(f, f) for f in FORMATS],
        initial="csv",
        help_text="csv keeps ids, classifications and provenance; the others only hashes.",
    )
    include_disabled = forms.BooleanField(required=False, label="Include disabled entries")


class DebuggerHashForm(forms.Form):
    """Pasted hashes, one per line (or separated by spaces or commas), of one signal type."""

    hashes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        max_length=MAX_DEBUGGER_HASHES * 70,
        help_text=f"One hash per line, in hex; at most {MAX_DEBUGGER_HASHES}.",
    )
    signal_type = forms.ChoiceField(choices=SIGNAL_TYPE_CHOICES, initial="pdq", label="Signal type")
    radius = forms.IntegerField(
        min_value=0,
        max_value=MAX_THRESHOLD,
        required=False,
        help_text="PDQ distance to search within; empty uses each bank's own threshold.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text = cleaned.get("hashes")
        name = cleaned.get("signal_type")
        if not text or not name:
            return cleaned
        signal = signal_type(str(name))
        tokens = str(text).replace(",", " ").split()
        if len(tokens) > MAX_DEBUGGER_HASHES:
            self.add_error("hashes", f"At most {MAX_DEBUGGER_HASHES} hashes at a time.")
            return cleaned
        parsed: list[tuple[str, bytes]] = []
        problems: list[str] = []
        for number, token in enumerate(tokens, 1):
            try:
                parsed.append((token.lower(), signal.parse(token)))
            except MalformedHash as exc:
                problems.append(f"Hash {number}: {exc}.")
        if problems:
            shown = problems[:10]
            if len(problems) > 10:
                shown.append(f"... and {len(problems) - 10} more.")
            self.add_error("hashes", shown)
        elif not parsed:
            self.add_error("hashes", "Paste at least one hash.")
        cleaned["parsed"] = parsed
        return cleaned


class DebuggerUploadForm(forms.Form):
    file = forms.FileField(
        label="Image or video file",
        help_text="Hashed on the server; shown only blurred. Deleted after an hour.",
    )

    def clean_file(self) -> UploadedFile | None:
        return _check_size(self.cleaned_data.get("file"))

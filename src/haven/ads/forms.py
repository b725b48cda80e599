"""The clusters page's filters."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from haven.ads.models import READINGS
from haven.ads.scanning import ScanInputError, check_region

__all__ = ["PAGE_INGEST_BYTES", "ClusterFilterForm", "IngestForm"]

# The page ingests within the request (scan, store, relink): about 12,000 ads of ~600
# characters, well inside the server's request timeout. Larger crawls: `haven text ingest`.
PAGE_INGEST_BYTES = 8 * 1024 * 1024


class ClusterFilterForm(forms.Form):
    q = forms.CharField(
        max_length=200,
        required=False,
        label="Find",
        help_text="A phone (as written, even spelled out), e-mail, handle, wallet or city.",
    )
    reading = forms.ChoiceField(
        choices=[("", "any reading"), *READINGS], required=False, label="Reading"
    )
    min_size = forms.IntegerField(
        min_value=2, max_value=1_000_000, required=False, label="At least this many ads"
    )


class IngestForm(forms.Form):
    file = forms.FileField(
        label="Ads file", help_text="JSON Lines (one ad per line) or CSV with a header row."
    )
    format = forms.ChoiceField(
        choices=[("", "from the file's name"), ("jsonl", "JSON Lines"), ("csv", "CSV")],
        required=False,
    )
    region = forms.CharField(
        max_length=2,
        required=False,
        label="Phone region",
        help_text="Country for numbers without a country code, in rows that give none "
        "(default: the node's).",
    )

    def clean_file(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("file")
        limit = min(settings.HAVEN.max_upload_bytes, PAGE_INGEST_BYTES)
        if upload is not None and (upload.size or 0) > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; this page takes up to {limit:,}. "
                "Split it, or ingest it on the node with `haven text ingest`.",
                code="too_large",
            )
        return upload

    def clean_region(self) -> str:
        try:
            return check_region(
                self.cleaned_data.get("region"), "region", settings.HAVEN.phone_region
            )
        except ScanInputError as exc:
            raise forms.ValidationError(exc.problem, code="region") from None

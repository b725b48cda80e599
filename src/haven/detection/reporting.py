"""From a confirmed match to a report the analyst checks, edits and sends.

Confirmation builds a draft in Haven's report format from what the node knows: the upload
(account, screen name, IP and time of upload, URL, surface), the preserved file's hashes
(MD5, SHA-1, SHA-256, PDQ), the reviewer's classification and escalation, and whether a
person viewed the file and its EXIF (from the audited reveals, never from a checkbox). The
analyst may change the draft; every change is validated against the published schema
before it is kept, and sending queues it with its file sealed to each destination.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, check
from haven.audit.services import record
from haven.detection.models import Review
from haven.detection.uploaders import bump
from haven.evidence.services import EvidenceError, mark_reported, read_unseen
from haven.reports.format import Report, ReportFormatError, parse_report, report_json
from haven.reports.models import Destination, OutgoingReport
from haven.reports.services import ReportError, queue_report_to, sender_contact

__all__ = ["DraftError", "build_draft", "draft_report", "send_report", "update_draft"]

_LOCATION_OF_SURFACE = {
    "public_post": "web_page",
    "profile": "web_page",
    "comment": "web_page",
    "ad": "ad",
    "private_message": "chat",
    "other": "web_page",
}


class DraftError(ValueError):
    """A draft that is not a valid report; `problems` lists (path, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def _file(review: Review) -> dict[str, Any]:
    content = review.content
    hashes = content.hashes
    evidence = review.evidence
    entry: dict[str, Any] = {
        "file_id": f"file-{content.pk}",
        "name": (
            evidence.original_name if evidence and evidence.original_name else content.content_id
        )[:256],
        "viewed_by_provider": review.viewed,
        "exif_viewed_by_provider": review.exif_viewed,
        "publicly_available": content.surface in ("public_post", "profile", "comment", "ad"),
        "relevance": "reported",
        "classification": review.classification or None,
        "md5": (evidence.md5 if evidence else hashes.get("md5")) or None,
        "sha1": evidence.sha1 if evidence else None,
        "sha256": (evidence.sha256 if evidence else hashes.get("sha256")) or None,
        "pdq": hashes.get("pdq") or None,
    }
    if evidence is not None:
        entry["size"] = evidence.size
    if content.ip and content.uploaded_at:
        entry["uploaded_from"] = {
            "ip": content.ip,
            "at": content.uploaded_at.isoformat(),
            "kind": "upload",
        }
    return {k: v for k, v in entry.items() if v is not None}


def build_draft(review: Review, principal: Principal) -> dict[str, Any]:
    """The report a confirmation implies, as canonical JSON (valid by construction)."""
    content = review.content
    agency = Agency.objects.get(pk=content.agency_id)
    account: dict[str, Any] = {}
    if content.uploader_account:
        account["platform_ids"] = [content.uploader_account]
    if content.uploader_name:
        account["screen_names"] = [content.uploader_name]
    if content.ip and content.uploaded_at:
        account["ip_events"] = [
            {"ip": content.ip, "at": content.uploaded_at.isoformat(), "kind": "upload"}
        ]
    incident: dict[str, Any] = {
        "type": "child_sexual_abuse_material",
        "occurred_at": (content.uploaded_at or content.scanned_at).isoformat(),
    }
    if review.escalated:
        incident["escalation"] = {"reason": review.escalation_reason}
    banks = sorted({str(m.get("bank")) for m in content.matches if m.get("status") == "match"})
    draft: dict[str, Any] = {
        "schema_version": "1",
        "report_id": f"{agency.pk}-review-{review.pk}",
        "created_at": timezone.now().isoformat(),
        "incident": incident,
        "reporter": {"provider": agency.name[:256], "contact": sender_contact(principal)},
        "reported_accounts": [account] if account else [],
        "files": [_file(review)],
        "additional_info": (
            f"Matched at upload ({content.get_surface_display()}) against: {', '.join(banks)}. "
            f"Confirmed by a reviewer on {review.decided_at:%Y-%m-%d}."
            if review.decided_at
            else f"Matched at upload against: {', '.join(banks)}."
        ),
    }
    if content.url.startswith(("http://", "https://")):
        draft["locations"] = [
            {"kind": _LOCATION_OF_SURFACE.get(content.surface, "web_page"), "url": content.url}
        ]
    if not review.viewed:
        draft["additional_info"] += " No person at the provider viewed the file."
    return report_json(parse_report(draft))


def draft_report(review: Review) -> Report:
    """The review's draft as a report; raises DraftError when there is none."""
    if not review.report_draft:
        raise DraftError("this review has no report draft", [])
    try:
        return parse_report(review.report_draft)
    except ReportFormatError as exc:
        raise DraftError(str(exc), [(p.path, p.problem) for p in exc.problems]) from None


def update_draft(principal: Principal, review: Review, data: object) -> dict[str, Any]:
    """Keep the analyst's edited draft if it is a valid report; what a person saw stays true.

    The viewed flags come from the audited reveals: an edit cannot claim a viewing that did
    not happen (or hide one that did). The report id cannot change either.
    """
    check(principal, "reports:send")
    if review.report_id:
        raise DraftError("the report was sent; it can no longer change", [])
    try:
        report = parse_report(data)
    except ReportFormatError as exc:
        raise DraftError(str(exc), [(p.path, p.problem) for p in exc.problems]) from None
    payload = report_json(report)
    if review.report_draft and payload["report_id"] != review.report_draft.get("report_id"):
        raise DraftError("the report id is set by the node", [("report_id", "cannot change")])
    for entry in payload.get("files", []):
        if entry["file_id"] == f"file-{review.content_id}":
            entry["viewed_by_provider"] = review.viewed
            entry["exif_viewed_by_provider"] = review.exif_viewed
    with transaction.atomic():
        Review.objects.filter(pk=review.pk).update(report_draft=payload)
        review.report_draft = payload
        record(
            "review.report_edited", principal=principal, target_type="review", target_id=review.pk
        )
    return payload


def send_report(
    principal: Principal, review: Review, destinations: list[Destination]
) -> list[OutgoingReport]:
    """Queue the review's report, with its preserved file, to each destination at once.

    The file is sealed to each destination (its pinned authority key, or this node's own
    key until the CyberTipline upload); the evidence's retention now runs from the report.
    Everything commits together or not at all: the analyst sees "sent" only when the
    outbox holds every delivery.
    """
    check(principal, "reports:send")
    if review.state != "confirmed":
        raise DraftError("only a confirmed match is reported", [])
    if review.report_id:
        raise DraftError(f"this report was sent already as {review.report_id}", [])
    if not destinations:
        raise DraftError("choose at least one destination", [])
    report = draft_report(review)
    files: list[tuple[str, bytes]] = []
    evidence = review.evidence
    listed = {f.file_id for f in report.files}
    if evidence is not None and f"file-{review.content_id}" in listed:
        try:
            files.append((f"file-{review.content_id}", read_unseen(evidence)))
        except EvidenceError as exc:
            raise DraftError(str(exc), []) from None
    try:
        with transaction.atomic():
            queued = queue_report_to(principal, report, destinations, files)
            now = timezone.now()
            Review.objects.filter(pk=review.pk).update(report_id=report.report_id)
            review.report_id = report.report_id
            if evidence is not None:
                mark_reported(principal, evidence, now, report.report_id)
            bump(review.content, "reports")
    except ReportError as exc:
        raise DraftError(str(exc), []) from None
    return queued

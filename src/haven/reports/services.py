"""Queueing a report for its destinations: durable before the caller is told it is queued.

The report row, its outbox message and its sealed files are committed in one transaction,
so an analyst's "sent" means the node will deliver it, through crashes and restarts
(`haven.reports.outbox`). One report may go to several destinations (the national
authority and NCMEC); `queue_report_to` queues it to all of them in one transaction, or to
none.

A report's files are sealed before they are stored (`haven.reports.sealing`): for a Haven
destination to the authority's pinned identity key (the destination's `recipient`), so
that nobody but that node, this one included, can open them; for the CyberTipline to this
node's own key, so they are encrypted at rest until the outbox opens them to upload them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from haven.accounts.models import User
from haven.accounts.permissions import Principal, check, visible
from haven.audit.services import record
from haven.exchange.models import PinnedNode
from haven.exchange.services import pinned_key
from haven.reports.format import EncryptedContent, Report, ReportFile, report_json
from haven.reports.models import (
    DESTINATION_KINDS,
    Destination,
    OutboxMessage,
    OutgoingFile,
    OutgoingReport,
)
from haven.reports.outbox import encrypt_token, seal_for_node
from haven.reports.sealing import SealedFile, SealError, hash_mismatches, seal_file

__all__ = [
    "ReportError",
    "add_destination",
    "pick_destinations",
    "queue_report",
    "queue_report_to",
    "sender_contact",
]

#: A file queued with a report: the file's `file_id` in the report, and its bytes.
QueuedFile = tuple[str, bytes]


class ReportError(ValueError):
    """A report or destination this node cannot take; the message says why."""


def _recipient(key_id: str | None) -> PinnedNode | None:
    if key_id is None or not key_id.strip():
        return None
    pin = PinnedNode.objects.filter(key_id=key_id.strip()).first()
    if pin is None:
        raise ReportError(
            f"no pinned node has key id {key_id.strip()!r}: pin the authority's key first "
            "(`haven node pin`, after checking its fingerprint)"
        )
    if pin.revoked_at is not None:
        raise ReportError(f"the pin of {pin.name!r} ({pin.key_id}) is revoked")
    return pin


def sender_contact(principal: Principal) -> dict[str, str]:
    """Whom the authority contacts about a report: the person sending it, or the team."""
    user = User.objects.filter(pk=principal.user_id).first() if principal.user_id else None
    name = (user.full_name or user.username).strip() if user else ""
    email = user.email if user and user.email else "trust-and-safety@provider.invalid"
    return {"name": name[:256] or "Trust and safety team", "email": email}


def pick_destinations(available: QuerySet[Destination], chosen: Sequence[str]) -> list[Destination]:
    """The destinations a form's ticked values name, all among `available`; ReportError
    when none is ticked or one is unknown (a forged or stale value)."""
    if not chosen:
        raise ReportError("choose at least one destination")
    try:
        ids = {int(value) for value in chosen}
    except ValueError:
        raise ReportError("no such destination") from None
    found = list(available.filter(pk__in=ids))
    if len(ids) != len(chosen) or len(found) != len(ids):
        raise ReportError("no such destination")
    return found


def add_destination(
    principal: Principal,
    *,
    name: str,
    url: str,
    token: str,
    kind: str = "haven",
    recipient_key_id: str | None = None,
) -> Destination:
    """A destination for the principal's agency; `recipient_key_id` names the pinned key of
    the authority node that a Haven destination's files are sealed to (needed for files)."""
    check(principal, "reports:destinations")
    if kind not in dict(DESTINATION_KINDS):
        raise ReportError(f"a destination is {' or '.join(dict(DESTINATION_KINDS))}, not {kind!r}")
    if not url.startswith(("https://", "http://")):
        raise ReportError("the destination URL must start with https:// (or http:// on loopback)")
    if not token.strip():
        raise ReportError("the destination needs the token its intake issued")
    recipient = _recipient(recipient_key_id)
    if recipient is not None and kind != "haven":
        raise ReportError("only a Haven destination has a recipient key (the authority node's)")
    destination = Destination.objects.create(
        agency_id=principal.agency_id,
        name=name.strip()[:200],
        kind=kind,
        url=url.strip(),
        token_encrypted=encrypt_token(token.strip()),
        recipient=recipient,
    )
    record(
        "reports.destination.add",
        principal=principal,
        target_type="destination",
        target_id=destination.pk,
        detail={
            "name": destination.name,
            "url": destination.url,
            "kind": kind,
            "recipient": recipient.key_id if recipient else "",
        },
    )
    return destination


def _checked_files(report: Report, files: Sequence[QueuedFile]) -> list[tuple[ReportFile, bytes]]:
    """Each queued file with its listing in the report; ReportError for any mismatch."""
    listed = {entry.file_id: entry for entry in report.files}
    seen: set[str] = set()
    checked: list[tuple[ReportFile, bytes]] = []
    for file_id, content in files:
        entry = listed.get(file_id)
        if entry is None:
            raise ReportError(f"file {file_id!r} is not listed in report {report.report_id!r}")
        if file_id in seen:
            raise ReportError(f"file {file_id!r} is given twice")
        seen.add(file_id)
        wrong = hash_mismatches(entry.model_dump(mode="json"), bytes(content))
        if wrong:
            raise ReportError(
                f"file {file_id!r}: its {', '.join(wrong)} differ from what the report lists"
            )
        checked.append((entry, bytes(content)))
    return checked


def _recipient_key(destination: Destination) -> tuple[bytes, str]:
    """The pinned, unrevoked public key a Haven destination's files are sealed to."""
    pin = destination.recipient
    if pin is None:
        raise ReportError(
            f"destination {destination.name!r} has no recipient key: files travel sealed "
            "to the authority node's pinned key, which an administrator sets"
        )
    if pin.revoked_at is not None:
        raise ReportError(
            f"the pinned key of {pin.name!r} ({pin.key_id}), destination "
            f"{destination.name!r}'s recipient, is revoked: pin the authority's new key "
            "and add the destination again with it"
        )
    key = pinned_key(pin.key_id)
    if key is None:
        raise ReportError(f"the pin of {pin.name!r} does not match its key id; pin it again")
    return key, pin.key_id


def _with_metas(report: Report, metas: dict[str, EncryptedContent]) -> Report:
    """The report with `encrypted_content` set on exactly the files sealed for this copy
    (a stale entry the caller left on another file would announce bytes that never come)."""
    if not metas and all(entry.encrypted_content is None for entry in report.files):
        return report
    files = tuple(
        entry.model_copy(update={"encrypted_content": metas.get(entry.file_id)})
        for entry in report.files
    )
    return report.model_copy(update={"files": files})


def _sealed(
    report: Report, destination: Destination, checked: list[tuple[ReportFile, bytes]]
) -> tuple[Report, list[tuple[str, SealedFile]]]:
    """The report as this destination receives it, and its files sealed for it."""
    if destination.kind != "haven":
        # The CyberTipline takes the plaintext at upload; until then it is sealed to this node.
        kept = [(entry.file_id, seal_for_node(content)) for entry, content in checked]
        return _with_metas(report, {}), kept
    sealed: list[tuple[str, SealedFile]] = []
    if checked:
        public_key, key_id = _recipient_key(destination)
        limit = settings.HAVEN.max_upload_bytes
        for entry, content in checked:
            try:
                one = seal_file(content, public_key, key_id)
            except SealError as exc:
                raise ReportError(f"destination {destination.name!r}: {exc}") from None
            if one.meta["size"] > limit:
                raise ReportError(
                    f"file {entry.file_id!r} sealed is {one.meta['size']:,} bytes; a file "
                    f"travels in one request of at most HAVEN_MAX_UPLOAD_BYTES ({limit:,})"
                )
            sealed.append((entry.file_id, one))
    metas = {file_id: EncryptedContent(**one.meta) for file_id, one in sealed}
    return _with_metas(report, metas), sealed


def queue_report(
    principal: Principal,
    report: Report,
    destination: Destination,
    files: Sequence[QueuedFile] = (),
) -> OutgoingReport:
    """Store the report, its sealed files and its outbox message together; the outbox
    delivers them. `files` are (file_id, content) pairs of files the report lists."""
    return queue_report_to(principal, report, [destination], files)[0]


def queue_report_to(
    principal: Principal,
    report: Report,
    destinations: Sequence[Destination],
    files: Sequence[QueuedFile] = (),
) -> list[OutgoingReport]:
    """Queue one report to each destination, in one transaction: to all of them or none."""
    check(principal, "reports:send")
    if not destinations:
        raise ReportError("name at least one destination")
    if len({d.pk for d in destinations}) != len(destinations):
        raise ReportError("the same destination is named twice")
    reachable = set(
        visible(
            Destination.objects.filter(pk__in=[d.pk for d in destinations]), principal
        ).values_list("pk", flat=True)
    )
    fresh: list[Destination] = []
    for destination in destinations:
        if destination.pk not in reachable:
            raise ReportError("no such destination")
        found = Destination.objects.select_related("recipient").get(pk=destination.pk)
        if not found.enabled:
            raise ReportError(f"destination {found.name!r} is disabled")
        if OutgoingReport.objects.filter(
            agency_id=principal.agency_id, report_id=report.report_id, destination=found
        ).exists():
            raise ReportError(f"report {report.report_id!r} was queued before for {found.name!r}")
        fresh.append(found)
    checked = _checked_files(report, files)
    prepared = [(d, *_sealed(report, d, checked)) for d in fresh]  # seal before the commit
    try:
        with transaction.atomic():
            queued = _store(principal, report.report_id, prepared)
    except IntegrityError:  # queued at the same moment by another process
        raise ReportError(f"report {report.report_id!r} was queued before") from None
    return queued


def _store(
    principal: Principal,
    report_id: str,
    prepared: list[tuple[Destination, Report, list[tuple[str, SealedFile]]]],
) -> list[OutgoingReport]:
    """The rows of each destination's copy: report, sealed files, outbox message, audit."""
    queued: list[OutgoingReport] = []
    for destination, version, sealed in prepared:
        outgoing = OutgoingReport.objects.create(
            agency_id=principal.agency_id,
            report_id=report_id,
            payload=report_json(version),
            destination=destination,
            created_by=principal.actor,
        )
        OutgoingFile.objects.bulk_create(
            OutgoingFile(
                report=outgoing,
                file_id=file_id,
                ciphertext=one.ciphertext,
                sha256=one.meta["sha256_of_ciphertext"],
                size=one.meta["size"],
                sealed_to=one.meta["recipient_key_id"],
            )
            for file_id, one in sealed
        )
        OutboxMessage.objects.create(report=outgoing)
        record(
            "reports.queue",
            principal=principal,
            target_type="outgoing_report",
            target_id=outgoing.pk,
            detail={"report_id": report_id, "destination": destination.name, "files": len(sealed)},
        )
        queued.append(outgoing)
    return queued

"""Every change to a bank goes through here: checked, validated, logged for the matchers, audited.

The web pages, the API and the `haven bank` command all call these functions, so the rules
live in one place: the principal's permission and reach are checked, input is validated
before anything is written (bad input changes nothing), each change writes a `BankChange`
row in the same transaction (the matchers in every process replay those rows to stay
current) and an audit entry. After the commit the local process's matcher syncs at once;
other processes pick the change up on their next lookup (within a quarter of a second).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Count, Field, Max, Min, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from haven.accounts.permissions import (
    Principal,
    check,
    get_visible_or_404,
    system_principal,
    visible,
)
from haven.audit.services import record
from haven.banks.models import (
    CLASSIFICATION_SCHEMES,
    MAX_THRESHOLD,
    Bank,
    BankChange,
    BankEntry,
)
from haven.index.bank import VIDEO_QUALITY_THRESHOLD
from haven.index.formats import (
    FORMATS,
    HashListError,
    HashRecord,
    detect_format,
    read_hash_list_text,
    write_hash_list,
)
from haven.media.signals import SIGNAL_TYPES, MalformedHash

__all__ = [
    "CLASSIFICATIONS_BY_SCHEME",
    "EXPORT_FORMATS",
    "IMPORT_BATCH",
    "SYSTEM_ACTOR",
    "BankError",
    "ImportResult",
    "add_entry",
    "add_video_entry",
    "create_bank",
    "export_bank",
    "get_bank",
    "get_entry",
    "import_hash_list",
    "pack_frames",
    "set_entry_enabled",
    "system_principal",
    "unpack_frames",
    "update_bank",
    "update_entry",
    "visible_banks",
]

log = logging.getLogger("haven.banks")

SYSTEM_ACTOR = "system:cli"
IMPORT_BATCH = 5000
EXPORT_FORMATS = FORMATS
FRAME_BYTES = 33  # one quality byte, then the 32-byte PDQ

# Which classifications each scheme admits ("" = not classified).
CLASSIFICATIONS_BY_SCHEME: dict[str, tuple[str, ...]] = {
    "categories": ("", "A1", "A2", "B1", "B2"),
    "baseline": ("", "baseline", "national", "not_illegal"),
    "none": ("",),
}
_SCHEMES = {name for name, _ in CLASSIFICATION_SCHEMES}
_BANK_FIELDS = (
    "name",
    "description",
    "source",
    "classification_scheme",
    "threshold",
    "is_allow_list",
    "enabled",
)
_ENTRY_SIGNALS = ("pdq", "md5", "sha256")  # vPDQ videos arrive as .vpdq lists (imports)


class BankError(ValueError):
    """Input a bank operation refuses; the message is fit to show (the API answers 400)."""


@dataclass(frozen=True)
class ImportResult:
    """What an import did. `errors` holds notes on accepted input (nothing failed)."""

    added: int
    duplicates: int
    total: int
    errors: list[str] = field(default_factory=list)


# -- principals and audit -------------------------------------------------------------------


def _audit(
    action: str,
    principal: Principal,
    request: HttpRequest | None,
    target_type: str,
    target_id: object,
    detail: dict[str, Any] | None = None,
    outcome: str = "ok",
) -> None:
    record(
        action,
        request=request,
        principal=principal,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        detail=detail,
    )


def _sync_after_commit() -> None:
    """Make this process's matcher see the change at once (others follow the change log)."""

    def sync() -> None:
        from haven.banks.matcher import built_matcher

        index = built_matcher()  # a process that never matched has nothing to keep current
        if index is None:
            return
        try:
            index.sync(force=True)
        except Exception:  # the next lookup syncs anyway; a change must not fail on it
            log.exception("matcher sync after commit failed")

    transaction.on_commit(sync)


# -- reading --------------------------------------------------------------------------------


def visible_banks(principal: Principal) -> QuerySet[Bank]:
    """Banks within the principal's reach (needs banks:read, or match to name banks)."""
    if not (principal.can("banks:read") or principal.can("match")):
        check(principal, "banks:read")
    return visible(Bank.objects.all(), principal)


def get_bank(principal: Principal, bank_id: int) -> Bank:
    """One bank within reach; Http404 when it does not exist or is out of reach."""
    if not isinstance(bank_id, int) or isinstance(bank_id, bool):
        raise Http404("no such bank")
    return get_visible_or_404(visible_banks(principal), principal, pk=bank_id)


def get_entry(principal: Principal, bank: Bank, entry_id: int) -> BankEntry:
    """One entry of a bank within reach; Http404 otherwise."""
    check(principal, "banks:read")
    bank = get_bank(principal, bank.pk)
    entry = BankEntry.objects.filter(bank=bank, pk=entry_id).first()
    if entry is None:
        raise Http404("no such entry")
    return entry


# -- validation -----------------------------------------------------------------------------


def _clean_text(value: object, what: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise BankError(f"{what} must be text")
    text = value.strip()
    if required and not text:
        raise BankError(f"{what} must not be empty")
    if len(text) > limit:
        raise BankError(f"{what} is longer than {limit} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise BankError(f"{what} contains control characters")
    return text


def _clean_threshold(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BankError(f"threshold must be an integer 0..{MAX_THRESHOLD}")
    if not 0 <= value <= MAX_THRESHOLD:
        raise BankError(f"threshold must be 0..{MAX_THRESHOLD}, got {value}")
    return value


def _clean_scheme(value: object) -> str:
    if value not in _SCHEMES:
        raise BankError(
            f"unknown classification scheme {value!r} (known: {', '.join(sorted(_SCHEMES))})"
        )
    return str(value)


def _clean_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise BankError(f"{what} must be true or false")
    return value


def _clean_classification(bank: Bank, value: object) -> str:
    if not isinstance(value, str):
        raise BankError("classification must be text")
    text = value.strip()
    allowed = CLASSIFICATIONS_BY_SCHEME.get(bank.classification_scheme, ("",))
    if text not in allowed:
        shown = ", ".join(a for a in allowed if a) or "none"
        raise BankError(
            f"classification {text!r} is not in bank {bank.name!r}'s scheme "
            f"{bank.classification_scheme!r} (allowed: {shown}, or empty)"
        )
    return text


def _clean_signal(value: object, allowed: Iterable[str] = _ENTRY_SIGNALS) -> str:
    names = tuple(allowed)
    if value not in names:
        if value == "vpdq":
            raise BankError("add a vPDQ video by importing its .vpdq hash list")
        raise BankError(f"unknown signal type {value!r} (known: {', '.join(names)})")
    return str(value)


def _parse_hash(signal: str, text: object) -> bytes:
    try:
        return SIGNAL_TYPES[signal].parse(text)  # type: ignore[arg-type]
    except MalformedHash as exc:
        raise BankError(str(exc)) from None


def _name_taken(agency_id: int, name: str, exclude: int | None = None) -> bool:
    query = Bank.objects.filter(agency_id=agency_id, name=name)
    if exclude is not None:
        query = query.exclude(pk=exclude)
    return query.exists()


# -- banks ----------------------------------------------------------------------------------


def create_bank(
    principal: Principal,
    *,
    name: str,
    description: str = "",
    source: str = "",
    classification_scheme: str = "categories",
    threshold: int = 31,
    is_allow_list: bool = False,
    enabled: bool = True,
    request: HttpRequest | None = None,
) -> Bank:
    """A new bank in the principal's agency (and team), owned by the principal if a user."""
    check(principal, "banks:write")
    values = {
        "name": _clean_text(name, "name", 200, required=True),
        "description": _clean_text(description, "description", 10_000),
        "source": _clean_text(source, "source", 200),
        "classification_scheme": _clean_scheme(classification_scheme),
        "threshold": _clean_threshold(threshold),
        "is_allow_list": _clean_bool(is_allow_list, "is_allow_list"),
        "enabled": _clean_bool(enabled, "enabled"),
    }
    if not principal.agency_id:
        raise BankError("a bank must belong to an agency")
    if _name_taken(principal.agency_id, values["name"]):  # type: ignore[arg-type]
        raise BankError(f"a bank named {values['name']!r} already exists in this agency")
    try:
        with transaction.atomic():
            bank = Bank.objects.create(
                agency_id=principal.agency_id,
                team_id=principal.team_id,
                owner_id=principal.user_id,
                created_by_id=principal.user_id,
                **values,
            )
            BankChange.objects.create(bank=bank, kind="settings")
            _audit(
                "bank.create",
                principal,
                request,
                "bank",
                bank.pk,
                {
                    "threshold": bank.threshold,
                    "is_allow_list": bank.is_allow_list,
                    "enabled": bank.enabled,
                },
            )
            _sync_after_commit()
    except IntegrityError:
        raise BankError(f"a bank named {values['name']!r} already exists in this agency") from None
    return bank


def update_bank(
    principal: Principal, bank: Bank, *, request: HttpRequest | None = None, **changes: Any
) -> Bank:
    """Change a bank's settings; only the fields given change. Unknown fields are refused."""
    check(principal, "banks:write")
    bank = get_bank(principal, bank.pk)
    unknown = sorted(set(changes) - set(_BANK_FIELDS))
    if unknown:
        raise BankError(f"cannot change {', '.join(unknown)} (allowed: {', '.join(_BANK_FIELDS)})")
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: _clean_text(v, "name", 200, required=True),
        "description": lambda v: _clean_text(v, "description", 10_000),
        "source": lambda v: _clean_text(v, "source", 200),
        "classification_scheme": _clean_scheme,
        "threshold": _clean_threshold,
        "is_allow_list": lambda v: _clean_bool(v, "is_allow_list"),
        "enabled": lambda v: _clean_bool(v, "enabled"),
    }
    cleaned = {key: cleaners[key](value) for key, value in changes.items()}
    changed = {k: v for k, v in cleaned.items() if getattr(bank, k) != v}
    if "name" in changed and _name_taken(bank.agency_id, changed["name"], exclude=bank.pk):
        raise BankError(f"a bank named {changed['name']!r} already exists in this agency")
    if "classification_scheme" in changed:
        allowed = CLASSIFICATIONS_BY_SCHEME[changed["classification_scheme"]]
        misfit = bank.entries.exclude(classification__in=allowed).count()
        if misfit:
            raise BankError(
                f"{misfit} entries have classifications outside the scheme "
                f"{changed['classification_scheme']!r}; reclassify them first"
            )
    if not changed:
        return bank
    with transaction.atomic():
        for key, value in changed.items():
            setattr(bank, key, value)
        bank.save(update_fields=[*changed, "updated_at"])
        BankChange.objects.create(bank=bank, kind="settings")
        detail = {k: v for k, v in changed.items() if k not in ("name", "description", "source")}
        detail["fields"] = sorted(changed)
        _audit("bank.update", principal, request, "bank", bank.pk, detail)
        _sync_after_commit()
    return bank


# -- entries --------------------------------------------------------------------------------


def add_entry(
    principal: Principal,
    bank: Bank,
    *,
    signal_type: str,
    hash_hex: str,
    external_id: str = "",
    classification: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> BankEntry:
    """One hash added by hand (source list "manual"); the external id defaults to
    `<signal>:<hash hex>`."""
    check(principal, "banks:write")
    bank = get_bank(principal, bank.pk)
    signal = _clean_signal(signal_type)
    digest = _parse_hash(signal, hash_hex)
    entry_id = _clean_text(external_id, "external id", 200) or f"{signal}:{digest.hex()}"
    values = {
        "classification": _clean_classification(bank, classification),
        "note": _clean_text(note, "note", 10_000),
    }
    if BankEntry.objects.filter(bank=bank, external_id=entry_id).exists():
        raise BankError(f"bank {bank.name!r} already has an entry with id {entry_id!r}")
    try:
        with transaction.atomic():
            entry = BankEntry.objects.create(
                bank=bank,
                signal_type=signal,
                hash=digest,
                external_id=entry_id,
                source_list="manual",
                added_by_id=principal.user_id,
                **values,
            )
            BankChange.objects.create(bank=bank, entry=entry, kind="entry")
            _audit(
                "bank.entry_add",
                principal,
                request,
                "bank_entry",
                entry.pk,
                {"bank": bank.pk, "signal_type": signal},
            )
            _sync_after_commit()
    except IntegrityError:
        raise BankError(f"bank {bank.name!r} already has an entry with id {entry_id!r}") from None
    return entry


def add_video_entry(
    principal: Principal,
    bank: Bank,
    *,
    frames: Sequence[tuple[int, bytes]],
    external_id: str,
    classification: str = "",
    note: str = "",
) -> BankEntry:
    """One whole video (its frames' quality and PDQ) added as a vPDQ entry, like an import."""
    check(principal, "banks:write")
    bank = get_bank(principal, bank.pk)
    blob = pack_frames(frames)
    entry_id = _clean_text(external_id, "external id", 200, required=True)
    good = sum(1 for quality, _ in frames if quality >= VIDEO_QUALITY_THRESHOLD)
    try:
        with transaction.atomic():
            entry = BankEntry.objects.create(
                bank=bank,
                signal_type="vpdq",
                hash=hashlib.sha256(blob).digest(),
                frames=blob,
                external_id=entry_id,
                source_list="manual",
                added_by_id=principal.user_id,
                classification=_clean_classification(bank, classification),
                note=_clean_text(note, "note", 10_000),
                metadata={"frame_count": len(frames), "matchable_frames": good},
            )
            BankChange.objects.create(bank=bank, entry=entry, kind="entry")
            _audit(
                "bank.entry_add",
                principal,
                None,
                "bank_entry",
                entry.pk,
                {"bank": bank.pk, "signal_type": "vpdq"},
            )
            _sync_after_commit()
    except IntegrityError:
        raise BankError(f"bank {bank.name!r} already has an entry with id {entry_id!r}") from None
    return entry


def set_entry_enabled(
    principal: Principal, entry: BankEntry, enabled: bool, *, request: HttpRequest | None = None
) -> BankEntry:
    """Enable or disable one entry; takes effect for matching within a second everywhere."""
    check(principal, "banks:write")
    bank = get_bank(principal, entry.bank_id)
    enabled = _clean_bool(enabled, "enabled")
    entry = BankEntry.objects.get(pk=entry.pk, bank=bank)
    if entry.enabled == enabled:
        return entry
    with transaction.atomic():
        entry.enabled = enabled
        entry.save(update_fields=["enabled"])
        BankChange.objects.create(bank=bank, entry=entry, kind="entry")
        action = "bank.entry_enable" if enabled else "bank.entry_disable"
        _audit(action, principal, request, "bank_entry", entry.pk, {"bank": bank.pk})
        _sync_after_commit()
    return entry


def update_entry(
    principal: Principal,
    entry: BankEntry,
    *,
    note: str | None = None,
    classification: str | None = None,
    request: HttpRequest | None = None,
) -> BankEntry:
    """Change an entry's note or classification (its hash never changes: add a new one)."""
    check(principal, "banks:write")
    bank = get_bank(principal, entry.bank_id)
    entry = BankEntry.objects.get(pk=entry.pk, bank=bank)
    changed: dict[str, str] = {}
    if note is not None:
        cleaned = _clean_text(note, "note", 10_000)
        if cleaned != entry.note:
            changed["note"] = cleaned
    if classification is not None:
        cleaned = _clean_classification(bank, classification)
        if cleaned != entry.classification:
            changed["classification"] = cleaned
    if not changed:
        return entry
    with transaction.atomic():
        for key, value in changed.items():
            setattr(entry, key, value)
        entry.save(update_fields=list(changed))
        detail: dict[str, Any] = {"bank": bank.pk, "fields": sorted(changed)}
        if "classification" in changed:
            detail["classification"] = changed["classification"]
        _audit("bank.entry_update", principal, request, "bank_entry", entry.pk, detail)
    return entry


# -- vPDQ frames ----------------------------------------------------------------------------


def pack_frames(frames: Iterable[tuple[int, bytes]]) -> bytes:
    """(quality, pdq) pairs as the `frames` blob: one quality byte + 32 bytes per frame."""
    out = bytearray()
    for quality, pdq in frames:
        if not 0 <= quality <= 100 or len(pdq) != 32:
            raise BankError("a vPDQ frame needs a quality 0..100 and a 32-byte PDQ")
        out.append(quality)
        out += pdq
    return bytes(out)


def unpack_frames(blob: bytes | memoryview | None) -> list[tuple[int, bytes]]:
    """The `frames` blob back as (quality, pdq) pairs."""
    raw = bytes(blob or b"")
    if len(raw) % FRAME_BYTES:
        raise ValueError(f"a frames blob is a multiple of {FRAME_BYTES} bytes, got {len(raw)}")
    return [(raw[i], raw[i + 1 : i + FRAME_BYTES]) for i in range(0, len(raw), FRAME_BYTES)]


# -- import ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    signal: str
    hash: bytes
    external_id: str
    source_list: str
    classification: str
    note: str = ""
    frames: bytes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _video_row(
    records: list[HashRecord], source_name: str, classification: str
) -> tuple[_Row, list[str]]:
    """A vPDQ list is one video: one entry holding all its frames."""
    frames = [(int(r.metadata.get("quality", "100")), r.hash) for r in records]
    blob = pack_frames(frames)
    good = {pdq for quality, pdq in frames if quality >= VIDEO_QUALITY_THRESHOLD}
    notes = []
    if not good:
        notes.append(
            f"{source_name}: no frame has quality >= {VIDEO_QUALITY_THRESHOLD}; "
            "the video is banked but can never match"
        )
    seconds = [r.metadata.get("seconds") for r in records]
    metadata: dict[str, Any] = {
        "frame_count": len(frames),
        "matchable_frames": len(good),
        "frame_numbers": [int(r.metadata.get("frame", i)) for i, r in enumerate(records)],
    }
    if any(s is not None for s in seconds):
        metadata["seconds"] = [float(s) if s is not None else None for s in seconds]
    row = _Row(
        signal="vpdq",
        # A video's identity is the digest of its frames, so re-importing it is recognised.
        hash=hashlib.sha256(blob).digest(),
        external_id=source_name[:200],
        source_list=source_name[:200],
        classification=classification,
        frames=blob,
        metadata=metadata,
    )
    return row, notes


def _rows_from_records(
    bank: Bank, records: list[HashRecord], source_name: str, classification: str
) -> list[_Row]:
    rows = []
    for rec in records:
        if rec.signal not in _ENTRY_SIGNALS:
            raise BankError(
                f"{rec.source}:{rec.line}: a {rec.signal} entry cannot be listed here; "
                "import each vPDQ video from its own .vpdq list"
            )
        meta = dict(rec.metadata)
        own = meta.pop("classification", "").strip()
        try:
            cls = _clean_classification(bank, own) if own else classification
        except BankError as exc:
            raise BankError(f"{rec.source}:{rec.line}: {exc}") from None
        note = meta.pop("note", "")[:10_000]
        listed_source = meta.pop("source_list", "").strip()
        for derived in ("enabled", "added_at"):
            meta.pop(derived, None)
        if len(rec.id) > 200:
            raise BankError(f"{rec.source}:{rec.line}: the id is longer than 200 characters")
        rows.append(
            _Row(
                signal=rec.signal,
                hash=rec.hash,
                external_id=rec.id,
                source_list=(listed_source or source_name)[:200],
                classification=cls,
                note=note,
                metadata=meta,
            )
        )
    return rows


def import_hash_list(
    principal: Principal,
    bank: Bank,
    text: str,
    source_name: str,
    *,
    format: str | None = None,
    signal_type: str = "pdq",
    classification: str = "",
    progress: Callable[[int, int], None] | None = None,
    request: HttpRequest | None = None,
    max_bytes: int | None = None,
) -> ImportResult:
    """Import a hash list held in memory, keeping its provenance.

    The whole list is parsed and validated first, so a bad line refuses the list and
    changes nothing. Then entries are written in batches of `IMPORT_BATCH`, each batch its
    own transaction (so a long import does not hold SQLite's write lock for minutes); an
    entry whose external id the bank already holds counts as a duplicate, which makes a
    re-run of an interrupted import safe. `progress(done, total)` is called after each batch.
    Text over `max_bytes` (default: HAVEN_MAX_UPLOAD_BYTES; the command line may allow
    more) is refused.
    """
    check(principal, "banks:write")
    bank = get_bank(principal, bank.pk)
    if not isinstance(text, str):
        raise BankError("the hash list must be text")
    limit = settings.HAVEN.max_upload_bytes if max_bytes is None else max_bytes
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        raise BankError(
            f"the hash list is larger than the {limit:,}-byte limit"
            + (" (HAVEN_MAX_UPLOAD_BYTES)" if max_bytes is None else "")
            + "; split it into several files"
        )
    if "\x00" in text:
        raise BankError("the list contains NUL characters: it is not a text hash list")
    source = _clean_text(source_name, "source name", 200) or "upload"
    if format is not None and format not in FORMATS:
        raise BankError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    if signal_type == "vpdq":
        if format not in (None, "vpdq"):
            raise BankError("vPDQ entries come from vpdq lists (format 'vpdq')")
        format = "vpdq"
        signal_type = "pdq"
    signal = _clean_signal(signal_type)
    default_cls = _clean_classification(bank, classification)
    chosen = format or detect_format(source, text[:100_000].splitlines()[:50])
    try:
        records = read_hash_list_text(text, source, format=chosen, signal=SIGNAL_TYPES[signal])
    except (HashListError, MalformedHash) as exc:
        raise BankError(str(exc)) from None
    if not records:
        raise BankError(f"{source}: the list holds no hashes")
    notes: list[str] = []
    if chosen == "vpdq":
        row, notes = _video_row(records, source, default_cls)
        rows = [row]
    else:
        rows = _rows_from_records(bank, records, source, default_cls)
    return _write_rows(principal, bank, rows, source, notes, progress, request)


def _write_rows(
    principal: Principal,
    bank: Bank,
    rows: list[_Row],
    source: str,
    notes: list[str],
    progress: Callable[[int, int], None] | None,
    request: HttpRequest | None,
) -> ImportResult:
    total = len(rows)
    added = duplicates = 0
    seen: set[str] = set()
    try:
        for start in range(0, total, IMPORT_BATCH):
            batch = []
            for row in rows[start : start + IMPORT_BATCH]:
                if row.external_id in seen:
                    duplicates += 1
                    continue
                seen.add(row.external_id)
                batch.append(row)
            new, repeated = _write_batch(principal, bank, batch)
            added += new
            duplicates += repeated
            if progress is not None:
                progress(min(start + IMPORT_BATCH, total), total)
    except Exception:
        _audit(
            "bank.import",
            principal,
            request,
            "bank",
            bank.pk,
            {"added": added, "duplicates": duplicates, "total": total},
            outcome="failed",
        )
        raise
    _audit(
        "bank.import",
        principal,
        request,
        "bank",
        bank.pk,
        {"added": added, "duplicates": duplicates, "total": total, "source_list": source[:64]},
    )
    if duplicates:
        notes.append(f"{duplicates} entries were already in the bank (same id) and were skipped")
    return ImportResult(added=added, duplicates=duplicates, total=total, errors=notes)


_INSERT_FIELDS = (
    "bank",
    "signal_type",
    "hash",
    "frames",
    "external_id",
    "source_list",
    "classification",
    "added_at",
    "added_by",
    "enabled",
    "note",
    "metadata",
)


def _insert(principal: Principal, bank: Bank, rows: list[_Row]) -> None:
    """INSERT the rows with one executemany.

    The ORM's bulk_create spends ~250 µs a row preparing twelve values (4 minutes for a
    million-entry list); here each constant is prepared once and each row's values by its
    field, so the database sees exactly what the ORM would have sent.
    """
    meta = BankEntry._meta
    fields = [meta.get_field(name) for name in _INSERT_FIELDS]
    concrete = [f for f in fields if isinstance(f, Field)]
    assert len(concrete) == len(fields)
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the per-call proxy
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in concrete)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    prep = {f.name: f.get_db_prep_save for f in concrete}
    added_at = prep["added_at"](timezone.now(), db)
    enabled = prep["enabled"](True, db)
    hash_of, frames_of, meta_of = prep["hash"], prep["frames"], prep["metadata"]
    no_metadata = meta_of({}, db)
    params = [
        (
            bank.pk,
            row.signal,
            hash_of(row.hash, db),
            None if row.frames is None else frames_of(row.frames, db),
            row.external_id,
            row.source_list,
            row.classification,
            added_at,
            principal.user_id,
            enabled,
            row.note,
            meta_of(row.metadata, db) if row.metadata else no_metadata,
        )
        for row in rows
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def _write_batch(principal: Principal, bank: Bank, batch: list[_Row]) -> tuple[int, int]:
    """Insert one batch in its own transaction; returns (added, duplicates)."""
    if not batch:
        return 0, 0
    ids = [row.external_id for row in batch]
    with transaction.atomic():
        mine = BankEntry.objects.filter(bank=bank, external_id__in=ids)
        existing = set(mine.values_list("external_id", flat=True))
        fresh = [row for row in batch if row.external_id not in existing]
        if not fresh:
            return 0, len(batch)
        try:
            with transaction.atomic():
                _insert(principal, bank, fresh)
            clean = True
        except IntegrityError:
            # A concurrent writer added some of these ids (PostgreSQL): skip those.
            BankEntry.objects.bulk_create(
                [
                    BankEntry(
                        bank=bank,
                        signal_type=row.signal,
                        hash=row.hash,
                        frames=row.frames,
                        external_id=row.external_id,
                        source_list=row.source_list,
                        classification=row.classification,
                        note=row.note,
                        metadata=row.metadata,
                        added_by_id=principal.user_id,
                    )
                    for row in fresh
                ],
                ignore_conflicts=True,
            )
            clean = False
        span = mine.exclude(external_id__in=existing) if existing else mine
        found = span.aggregate(count=Count("pk"), low=Min("pk"), high=Max("pk"))
        new = int(found["count"])
        if clean and new:
            BankChange.objects.create(
                bank=bank, kind="range", entry_from=found["low"], entry_to=found["high"]
            )
        else:
            BankChange.objects.create(bank=bank, kind="reload")
        _sync_after_commit()
    return new, len(batch) - new


# -- export ---------------------------------------------------------------------------------


def _export_records(entries: Iterable[BankEntry]) -> list[HashRecord]:
    out = []
    for entry in entries:
        meta = {k: str(v) for k, v in (entry.metadata or {}).items() if isinstance(v, str | int)}
        meta["classification"] = entry.classification
        meta["source_list"] = entry.source_list
        if entry.note:
            meta["note"] = entry.note.replace("\r", " ").replace("\n", " ")
        out.append(HashRecord(entry.external_id, entry.signal_type, bytes(entry.hash), "", 0, meta))
    return out


def _vpdq_text(entry: BankEntry) -> str:
    frames = unpack_frames(entry.frames)
    meta = entry.metadata or {}
    numbers = meta.get("frame_numbers") or list(range(len(frames)))
    seconds = meta.get("seconds") or [None] * len(frames)
    if len(numbers) != len(frames) or len(seconds) != len(frames):
        numbers, seconds = list(range(len(frames))), [None] * len(frames)
    lines = []
    for (quality, pdq), number, second in zip(frames, numbers, seconds, strict=True):
        line = f"{int(number)},{quality},{pdq.hex()}"
        lines.append(f"{line},{float(second):.3f}\n" if second is not None else f"{line}\n")
    return "".join(lines)


def export_bank(
    principal: Principal,
    bank: Bank,
    *,
    format: str = "csv",
    request: HttpRequest | None = None,
    include_disabled: bool = False,
    entry_id: int | None = None,
) -> str:
    """A bank's enabled entries as a hash list, in one of the engine's formats.

    csv keeps ids, classification, provenance and notes; plain and local_file carry only
    hashes. vPDQ videos are exported one at a time as their frames (format 'vpdq'): give
    `entry_id`, or the bank must hold exactly one; the other formats leave them out.
    """
    check(principal, "banks:export")
    bank = get_bank(principal, bank.pk)
    if format not in FORMATS:
        raise BankError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    entries = bank.entries.all().order_by("pk")
    if not include_disabled:
        entries = entries.filter(enabled=True)
    if format == "vpdq":
        videos = entries.filter(signal_type="vpdq")
        if entry_id is not None:
            videos = videos.filter(pk=entry_id)
        found = list(videos[:2])
        if len(found) != 1:
            raise BankError(
                "a vpdq file holds one video: name the entry to export"
                if found
                else "this bank holds no such vPDQ video; choose another format"
            )
        text = _vpdq_text(found[0])
        count = 1
    else:
        rows = entries.exclude(signal_type="vpdq")
        if format == "plain":
            kinds = set(rows.values_list("signal_type", flat=True).distinct())
            if len(kinds) > 1:
                raise BankError(
                    f"the bank mixes signal types ({', '.join(sorted(kinds))}); a plain list "
                    "holds one: export csv or local_file"
                )
        records = _export_records(rows.iterator(chunk_size=5000))
        text = write_hash_list(records, format)
        count = len(records)
    _audit(
        "bank.export",
        principal,
        request,
        "bank",
        bank.pk,
        {"format": format, "entries": count, "include_disabled": include_disabled},
    )
    return text

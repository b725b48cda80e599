"""Blurred previews for the match debugger, and the short-lived store behind its reveal.

Reviewers' wellness is a hard rule (DESIGN.md): the browser never receives the bytes of an
uploaded image or video until the reviewer asks, and every such reveal is audited. So the
debugger page embeds only what this module makes on the server — a greyscale, downscaled,
heavily blurred JPEG as a `data:` URI (for a video, a strip of up to six such frames) — and
the original is served only through a one-time ticket (signed, 60 s, single use, one user).

Uploads are kept encrypted under the node's master key in `HAVEN_MEDIA_DIR/debugger/` (files
0600, the folder 0700) for one hour at most, and nowhere else: a video is written there in
plaintext only for the seconds FFmpeg needs a path, and removed at once.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core import signing
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from haven.keys.keyring import KeyRingError
from haven.media.errors import MediaError
from haven.media.image import DecodeOptions, decode_image
from haven.web.config import ensure_private_dir, write_private_file

__all__ = [
    "MAX_PREVIEW_SIDE",
    "MIN_BLUR_RADIUS",
    "STRIP_FRAMES",
    "TICKET_SECONDS",
    "UPLOAD_SECONDS",
    "Analysis",
    "Preview",
    "StoredUpload",
    "TicketRefused",
    "UploadRejected",
    "UploadStore",
    "analyse_upload",
    "blur_pixels",
    "debugger_store",
    "image_preview",
    "issue_ticket",
    "redeem_ticket",
    "sample_frames",
    "video_strip",
]

log = logging.getLogger(__name__)

MAX_PREVIEW_SIDE = 320
STRIP_SIDE = 200
STRIP_FRAMES = 6
# The blur is at least this many pixels of radius, and grows with the preview's size, so a
# 320 px preview is blurred by ~19 px: shapes and tones survive, faces and text do not.
MIN_BLUR_RADIUS = 12.0
BLUR_SHARE = 0.06
UPLOAD_SECONDS = 3600
TICKET_SECONDS = 60
_TICKET_SALT = "haven.banks.debugger.original"
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_NONCE = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class Preview:
    """One blurred, greyscale JPEG, ready to embed: `src` is a `data:image/jpeg` URI."""

    src: str
    width: int
    height: int
    label: str = ""

    @property
    def jpeg(self) -> bytes:
        return base64.b64decode(self.src.partition(",")[2])


def blur_pixels(
    pixels: NDArray[np.uint8], *, max_side: int = MAX_PREVIEW_SIDE, label: str = ""
) -> Preview:
    """Greyscale, shrink so the longest side is at most `max_side`, blur heavily, JPEG."""
    if pixels.ndim == 3:
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3])).convert("L")
    else:
        image = Image.fromarray(np.ascontiguousarray(pixels), "L")
    # Shrinking first (a box filter) keeps the blur cheap and already drops fine detail.
    image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    radius = max(MIN_BLUR_RADIUS, BLUR_SHARE * max(image.size))
    blurred = image.filter(ImageFilter.GaussianBlur(radius))
    buffer = io.BytesIO()
    # A fresh L image carries no EXIF, ICC profile or comment from the upload.
    blurred.save(buffer, format="JPEG", quality=70, optimize=True)
    src = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Preview(src, blurred.width, blurred.height, label)


def image_preview(data: bytes) -> Preview:
    """The blurred preview of an image file's bytes; raises `MediaError` for bad input.

    Decoding goes through the engine's decoder, so the same pixel cap refuses
    decompression bombs here as when hashing.
    """
    decoded = decode_image(data, DecodeOptions(fast=True, min_decoded_side=MAX_PREVIEW_SIDE))
    return blur_pixels(decoded.pixels, label="blurred greyscale preview")


def sample_frames(
    path: Path, *, frames: int, convert: Callable[[Any], NDArray[np.uint8]]
) -> list[tuple[float, NDArray[np.uint8]]]:
    """Up to `frames` (seconds, converted frame) pairs spread over a video, no audio at all.

    Frames are sampled once per second, as the hash samples them; a list of kept frames
    is halved (and its stride doubled) whenever it outgrows twice the wanted number, so a
    video of any length is decoded once in bounded memory and the sample still spans all
    of it. `convert` turns a decoded PyAV frame into the pixels kept (small, so memory
    stays bounded).
    """
    from haven.media import video as engine

    options = engine.VideoOptions(frames_per_second=1.0, thread_count=1)
    size = path.stat().st_size
    kept: list[tuple[float, NDArray[np.uint8]]] = []
    stride = 1
    sampled = 0
    with engine._open(path, size, options) as container:
        stream = engine._video_stream(container)
        engine._configure(stream, options)
        clock = engine._Clock(stream)
        sampler = engine._Sampler(options.sampling_rate)
        state = engine._DecodeState()
        for frame in engine._decoded_frames(container, stream, options.max_decode_errors, state):
            engine._check_size(frame.width, frame.height, options.max_pixels_per_frame)
            seconds = clock.time_of(frame)
            if not sampler.take(seconds):
                continue
            if sampled % stride == 0:
                kept.append((float(seconds), convert(frame)))
                if len(kept) >= 2 * frames:
                    kept = kept[::2]
                    stride *= 2
            sampled += 1
            if sampled >= options.max_frames:
                break
    if len(kept) > frames:
        last = len(kept) - 1
        kept = [kept[round(i * last / (frames - 1))] for i in range(frames)]
    return kept


def video_strip(path: Path, *, frames: int = STRIP_FRAMES) -> list[Preview]:
    """Up to `frames` blurred frames spread over a video: a silent strip."""
    from haven.media import video as engine

    kept = sample_frames(path, frames=frames, convert=lambda f: engine._luma(f, STRIP_SIDE))
    return [
        blur_pixels(luma, max_side=STRIP_SIDE, label=f"blurred frame at {seconds:.0f} s")
        for seconds, luma in kept
    ]


# --- the debugger's upload store ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """What the sidecar says about one upload (never its name or its bytes)."""

    id: str
    owner_id: int
    created: float
    content_type: str
    kind: str

    @property
    def expires(self) -> float:
        return self.created + UPLOAD_SECONDS


class UploadStore:
    """Encrypted uploads under one folder: `<id>.bin` (the original), `<id>.view.bin` (the
    hashes and blurred previews, encrypted too), `<id>.json` (owner, time, type)."""

    def __init__(self, root: Path, ttl: float = UPLOAD_SECONDS) -> None:
        self.root = root
        self.ttl = ttl

    def _folder(self) -> Path:
        return ensure_private_dir(self.root)

    @staticmethod
    def valid_id(upload_id: str) -> bool:
        return bool(_ID.fullmatch(upload_id))

    def save(
        self, data: bytes, *, owner_id: int, content_type: str, kind: str, view: dict[str, Any]
    ) -> StoredUpload:
        from haven.web.node import keyring

        folder = self._folder()
        upload_id = secrets.token_urlsafe(18)
        ring = keyring()
        stored = StoredUpload(upload_id, owner_id, time.time(), content_type, kind)
        write_private_file(
            folder / f"{upload_id}.bin", ring.encrypt(data, associated=upload_id.encode())
        )
        write_private_file(
            folder / f"{upload_id}.view.bin",
            ring.encrypt(json.dumps(view).encode(), associated=f"{upload_id}:view".encode()),
        )
        sidecar = {
            "owner": owner_id,
            "created": stored.created,
            "content_type": content_type,
            "kind": kind,
        }
        write_private_file(folder / f"{upload_id}.json", json.dumps(sidecar).encode())
        return stored

    def get(self, upload_id: str, owner_id: int) -> StoredUpload | None:
        """The upload if it exists, is not expired and belongs to `owner_id`; else None."""
        if not self.valid_id(upload_id):
            return None
        try:
            sidecar = json.loads((self.root / f"{upload_id}.json").read_bytes())
            stored = StoredUpload(
                upload_id,
                int(sidecar["owner"]),
                float(sidecar["created"]),
                str(sidecar["content_type"]),
                str(sidecar["kind"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if stored.owner_id != owner_id or time.time() - stored.created > self.ttl:
            return None
        return stored

    def _decrypt(self, name: str, associated: str) -> bytes | None:
        from haven.web.node import keyring

        try:
            return keyring().decrypt((self.root / name).read_bytes(), associated.encode())
        except (OSError, KeyRingError):
            return None

    def original(self, stored: StoredUpload) -> bytes | None:
        return self._decrypt(f"{stored.id}.bin", stored.id)

    def view(self, stored: StoredUpload) -> dict[str, Any] | None:
        blob = self._decrypt(f"{stored.id}.view.bin", f"{stored.id}:view")
        if blob is None:
            return None
        try:
            view = json.loads(blob)
        except ValueError:
            return None
        return view if isinstance(view, dict) else None

    def delete(self, upload_id: str) -> None:
        if not self.valid_id(upload_id) or not self.root.is_dir():
            return
        for path in self.root.glob(f"{upload_id}.*"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every file older than the time to live; returns how many went."""
        if not self.root.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - self.ttl
        removed = 0
        for path in self.root.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    @contextlib.contextmanager
    def scratch(self, data: bytes) -> Iterator[Path]:
        """The plaintext as a file (0600) in this folder, for FFmpeg; gone on exit."""
        path = self._folder() / f".scratch-{secrets.token_hex(12)}.tmp"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def claim(self, upload_id: str, nonce: str) -> bool:
        """True the first time a ticket's nonce is claimed, False ever after (any process)."""
        if not self.valid_id(upload_id) or not _NONCE.fullmatch(nonce):
            return False
        marker = self._folder() / f"{upload_id}.{nonce}.used"
        try:
            descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(descriptor)
        return True


def debugger_store() -> UploadStore:
    return UploadStore(Path(settings.HAVEN.media_dir) / "debugger")


# --- one-time tickets for the original -----------------------------------------------------


class TicketRefused(Exception):
    """A ticket that is forged, expired, used, for another user or for a gone upload."""


def issue_ticket(upload_id: str, user_id: int) -> str:
    """A signed ticket for one fetch of the original by `user_id` within TICKET_SECONDS."""
    nonce = secrets.token_hex(8)
    return signing.TimestampSigner(salt=_TICKET_SALT).sign_object(
        {"u": upload_id, "o": user_id, "n": nonce}
    )


def redeem_ticket(
    ticket: str, user_id: int, store: UploadStore, *, max_age: float = TICKET_SECONDS
) -> StoredUpload:
    """Check and use up a ticket; returns the upload it opens or raises TicketRefused."""
    try:
        payload = signing.TimestampSigner(salt=_TICKET_SALT).unsign_object(ticket, max_age=max_age)
    except signing.SignatureExpired:
        raise TicketRefused("the link has expired") from None
    except (signing.BadSignature, ValueError):
        raise TicketRefused("the link is not valid") from None
    if not isinstance(payload, dict) or payload.get("o") != user_id:
        raise TicketRefused("the link was issued to someone else")
    upload_id, nonce = str(payload.get("u", "")), str(payload.get("n", ""))
    stored = store.get(upload_id, user_id)
    if stored is None:
        raise TicketRefused("the upload is gone")
    if not store.claim(upload_id, nonce):
        raise TicketRefused("the link was already used")
    return stored


# --- hashing and previewing an upload -----------------------------------------------------

_VIDEO_TYPES = {
    "MP4/MOV": "video/mp4",
    "Matroska/WebM": "video/webm",
    "AVI": "video/x-msvideo",
    "Ogg": "video/ogg",
    "MPEG transport stream": "video/mp2t",
    "MPEG program stream": "video/mpeg",
    "FLV": "video/x-flv",
    "ASF/WMV": "video/x-ms-asf",
}


class UploadRejected(Exception):
    """An upload the engine cannot hash; `code` is the engine's error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Analysis:
    """An upload's hash record (the `haven hash` shape, without a path) and its previews."""

    record: dict[str, Any]
    content_type: str
    previews: tuple[Preview, ...]
    note: str = ""

    @property
    def kind(self) -> str:
        return str(self.record["type"])


def _image_type(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return Image.MIME.get(image.format or "", "application/octet-stream")
    except Exception:  # the engine already read it; this only names the type
        return "application/octet-stream"


def analyse_upload(data: bytes, store: UploadStore) -> Analysis:
    """Hash an upload as `haven hash --dihedral` does, and make its blurred previews.

    Raises `UploadRejected` with the engine's error code (empty, not media, truncated,
    corrupt, decompression bomb, unsupported codec) for anything it cannot hash.
    """
    from haven.media import video as engine
    from haven.scan.batch import ScanOptions, hash_file

    with store.scratch(data) as path:
        record = hash_file(path, ScanOptions(dihedral=True, video_threads=1))
        record.pop("path", None)
        if "error" in record:
            raise UploadRejected(str(record["error"]), str(record["code"]))
        if record["type"] == "image":
            content_type = _image_type(data)
        else:
            kind = engine._container_kind(path) or ""
            content_type = _VIDEO_TYPES.get(kind, "application/octet-stream")
        note = ""
        previews: list[Preview] = []
        try:
            previews = [image_preview(data)] if record["type"] == "image" else video_strip(path)
        except MediaError as exc:
            note = f"no preview could be made: {exc}"
        except Exception:  # the hashes stand; a decoder failing on the preview must not hide them
            log.exception("no preview for a debugger upload")
            note = "no preview could be made"
    if not previews and not note:
        note = "no preview could be made"
    return Analysis(record, content_type, tuple(previews), note)

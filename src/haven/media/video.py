"""vPDQ hashes of video files: decode with PyAV, sample frames in time, PDQ each one.

A video is matched as the PDQ hashes of frames taken at a fixed rate in presentation time
(one per second by default), so the same clip re-encoded at another frame rate, or cut into
a longer upload, still yields comparable frames. Each sampled frame is converted to grey
luma by swscale (honouring the stream's colour range, so qualities compare with Meta's RGB
reference) and box-shrunk like the image fast path before PDQ, because PDQ filters the frame
down to 64x64 regardless and hashing full-HD frames would cost five times more.

Uploads are hostile input: only the containers in `VideoOptions.formats` are probed, only
local files may be opened (an HLS playlist or concat list cannot make FFmpeg read other
files or URLs), frame sizes are capped before decoding, and every failure is one of
`haven.media.errors`. A damaged stream still yields the frames decoded up to the damage,
with `VideoHash.issue` saying what went wrong, because a partial match is evidence too.
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import av.stream
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from haven.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    EmptyFile,
    MediaError,
    NotAnImage,
    TruncatedFile,
    UnsupportedCodec,
)
from haven.media.exact import exact_hashes_of_file
from haven.media.pdq import DEFAULT_QUALITY_THRESHOLD, pdq_of_pixels
from haven.media.vpdq import VideoFrame, write_vpdq

__all__ = [
    "DEFAULT_FORMATS",
    "PIPELINE_PREFIX",
    "VideoFrame",
    "VideoHash",
    "VideoOptions",
    "hash_video",
]

PIPELINE_PREFIX = "vpdq:pyav-gray"

# FFmpeg demuxer names probed by default: the containers uploads actually come in. Exotic
# demuxers are where FFmpeg's parsing bugs live, and some (hls, concat, tty, image2) read
# other files or take any text as "video", so they are left out unless a caller adds them.
DEFAULT_FORMATS = frozenset(
    {
        "mov",  # MP4, MOV, M4V, 3GP
        "matroska",  # MKV, WebM
        "avi",
        "flv",
        "asf",  # WMV
        "mpegts",  # TS, M2TS
        "mpeg",  # MPG, VOB (program stream)
        "ogg",  # Theora
        "gif",  # animated GIF
        "ivf",  # raw VP8/VP9/AV1
        "h264",  # raw Annex B streams, as some cameras and leaks carry them
        "hevc",
    }
)

_FALLBACK_FRAME_INTERVAL = Fraction(1, 25)  # FFmpeg's own guess for a stream without a rate


@dataclass(frozen=True, slots=True)
class VideoOptions:
    """How a video is sampled and hashed; everything that changes hashes is in `pipeline`."""

    # Frames hashed per second of presentation time; 0 or None hashes every decoded frame.
    frames_per_second: float | None = 1.0
    # Frames under this PDQ quality are kept in the hash but never matched on.
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD
    # Box-shrink frames whose short side is at least twice this (as the image fast path
    # does); None hashes full frames. A 4K frame costs PDQ 16 times what a 540p one does.
    shrink_short_side: int | None = 512
    # Frames over this many pixels are refused before decoding (8K UHD is 33.2 million).
    max_pixels_per_frame: int = 40_000_000
    # At most this many frames are hashed (27 hours at one per second); the rest is skipped
    # and the hash says so in `issue`.
    max_frames: int = 100_000
    # Damaged packets skipped before the decode gives up on the rest of the file.
    max_decode_errors: int = 100
    # Decoder threads; 0 lets FFmpeg choose. Set 1 inside a pool of worker processes.
    thread_count: int = 0
    # FFmpeg demuxer names that may be probed (see DEFAULT_FORMATS).
    formats: frozenset[str] = DEFAULT_FORMATS

    def __post_init__(self) -> None:
        fps = self.frames_per_second
        if fps is not None and not (math.isfinite(fps) and fps >= 0):
            raise ValueError(f"frames_per_second must be a finite number >= 0, got {fps}")
        if self.shrink_short_side is not None and self.shrink_short_side < 1:
            raise ValueError("shrink_short_side must be at least 1, or None")
        for name in ("max_pixels_per_frame", "max_frames", "max_decode_errors"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.thread_count < 0:
            raise ValueError("thread_count must be >= 0")
        if not self.formats or any("," in name or not name for name in self.formats):
            raise ValueError("formats must be non-empty FFmpeg demuxer names")

    @property
    def sampling_rate(self) -> Fraction | None:
        """The sampling rate as an exact fraction, or None for every frame."""
        if not self.frames_per_second:
            return None
        return Fraction(self.frames_per_second).limit_denominator(1_000_000)

    @property
    def pipeline(self) -> str:
        rate = self.sampling_rate
        sampling = "allframes" if rate is None else f"{float(rate):g}fps"
        shrink = "full" if self.shrink_short_side is None else f"box{self.shrink_short_side}"
        return f"{PIPELINE_PREFIX}-{shrink}-{sampling}:v1"


@dataclass(frozen=True, slots=True)
class VideoHash:
    """Everything Haven derives from one video file for matching.

    `frames` are the sampled frames in presentation order, all of them, whatever their
    quality (`matchable_frames` applies the threshold). `frames_decoded` counts every frame
    the decoder produced, sampled or not; `duration_seconds` is the span they cover.
    `issue` is None when the whole stream decoded cleanly; otherwise it says why the hash
    may cover less than the file (truncated, damaged packets, the frame cap).
    """

    md5: str
    sha256: str
    size: int
    frames: tuple[VideoFrame, ...]
    width: int
    height: int
    duration_seconds: float
    pipeline: str
    frames_decoded: int
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD
    issue: str | None = None

    @property
    def complete(self) -> bool:
        return self.issue is None

    @property
    def matchable_frames(self) -> tuple[VideoFrame, ...]:
        return tuple(f for f in self.frames if f.quality >= self.quality_threshold)

    def to_vpdq(self, *, decimals: int | None = None) -> str:
        return write_vpdq(self.frames, decimals=decimals)


# --- telling truncated files from corrupt ones and from non-videos ---------------------

# Real files have a handful of top-level boxes; a hostile one must not make us walk millions.
_MAX_TOP_LEVEL_BOXES = 1000
_ISO_BOX_TYPES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"FLV", "FLV"),
    (0, b"OggS", "Ogg"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"DKIF", "IVF"),
    (0, b"\x00\x00\x01\xba", "MPEG program stream"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "ASF/WMV"),
)
_STILL_IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"BM", "a BMP image"),
)


def _iso_truncation(path: Path, size: int) -> str | None:
    """Why an MP4/MOV looks cut off, from its top-level boxes, or None if it does not."""
    seen: set[bytes] = set()
    with open(path, "rb") as handle:
        position = 0
        for _ in range(_MAX_TOP_LEVEL_BOXES):
            if position + 8 > size:
                break
            handle.seek(position)
            header = handle.read(16)
            box_size, box_type = struct.unpack(">I4s", header[:8])
            if box_size == 1 and len(header) == 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - position
            if box_size < 8:
                return None  # not a box structure at all: corrupt rather than cut
            seen.add(box_type)
            if position + box_size > size:
                name = box_type.decode("latin-1")
                return (
                    f"the MP4/MOV {name!r} box needs {position + box_size:,} bytes but the "
                    f"file has {size:,}: it was cut off"
                )
            position += box_size
        else:
            return None  # too many boxes to be a real file: corrupt, not cut
    if b"moov" not in seen:
        return (
            "the MP4/MOV has no 'moov' index: the upload was cut off before it, or the "
            "file was still being written"
        )
    return None


def _container_kind(path: Path) -> str | None:
    with open(path, "rb") as handle:
        head = handle.read(192)
    if head[4:8] in _ISO_BOX_TYPES:
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "MPEG transport stream"
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def _still_image(path: Path) -> str | None:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    return next((kind for magic, kind in _STILL_IMAGES if head.startswith(magic)), None)


def _unreadable(
    path: Path, size: int, stage: str, exc: av.error.FFmpegError | None = None
) -> MediaError:
    """The typed error for a file FFmpeg could not read, decided from the file's own bytes."""
    kind = _container_kind(path)
    if kind is None:
        image = _still_image(path)
        if image is not None:
            return NotAnImage(f"this is {image}, not a video: hash it as an image")
        if exc is None:
            return CorruptMedia(f"no frame of the video could be decoded ({stage})")
        return NotAnImage("not a video in a container Haven reads (MP4, MKV/WebM, AVI, ...)")
    if kind == "MP4/MOV":
        reason = _iso_truncation(path, size)
        if reason is not None:
            return TruncatedFile(reason)
    elif isinstance(exc, EOFError | av.error.OSError):
        return TruncatedFile(f"the {kind} file ends before its {stage} is complete")
    if isinstance(exc, av.error.ArgumentError):
        return NotAnImage(f"{kind} files are not among the formats these options accept")
    detail = f": {exc.strerror}" if exc is not None else ""
    return CorruptMedia(f"the {kind} file cannot be decoded ({stage}){detail}")


# --- decoding -----------------------------------------------------------------------------


def _open(path: Path, size: int, options: VideoOptions) -> av.container.InputContainer:
    container_options = {
        "format_whitelist": ",".join(sorted(options.formats)),
        "protocol_whitelist": "file",
    }
    try:
        return av.open(
            str(path), "r", container_options=container_options, metadata_errors="replace"
        )
    except av.error.FFmpegError as exc:
        raise _unreadable(path, size, "header", exc) from None


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    for stream in container.streams.video:
        # Cover art in an audio file is a "video stream" of one still picture.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    if not container.streams:
        raise CorruptMedia("the container lists no streams at all: its index is damaged")
    raise NotAnImage("the file has no video stream (audio only, or only cover art)")


@dataclass(slots=True)
class _DecodeState:
    errors: int = 0
    last_error: str = ""
    stopped: str | None = None


def _decoded_frames(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    max_errors: int,
    state: _DecodeState,
) -> Iterator[av.VideoFrame]:
    """Every frame the decoder can produce, skipping damaged packets as FFmpeg's tools do."""
    context = stream.codec_context
    try:
        for packet in container.demux(stream):
            try:
                frames = context.decode(packet)
            except av.error.FFmpegError as exc:
                state.errors += 1
                state.last_error = str(exc.strerror)
                if state.errors >= max_errors:
                    state.stopped = f"gave up after {state.errors} damaged packets"
                    break
                continue
            yield from frames
        else:
            return  # demux ended normally, with the flush packet that drains the decoder
    except av.error.FFmpegError as exc:
        state.stopped = f"reading stopped: {exc.strerror}"
    # Draining after damage can fail again; what came out so far stands.
    with contextlib.suppress(av.error.FFmpegError):
        yield from context.decode(None)


class _Clock:
    """Presentation time of each frame, from 0 at the start of the stream.

    Timestamps are exact fractions so that sampling at 1 fps never drifts; frames without
    a timestamp (raw streams) are placed one frame duration after the previous one.
    """

    def __init__(self, stream: av.VideoStream) -> None:
        self._origin: Fraction | None = None
        if stream.start_time is not None and stream.time_base:
            self._origin = stream.start_time * stream.time_base
        rate = stream.guessed_rate or stream.average_rate
        self._default_step = 1 / Fraction(rate) if rate else _FALLBACK_FRAME_INTERVAL
        self._previous: Fraction | None = None
        self._step = self._default_step

    def time_of(self, frame: av.VideoFrame) -> Fraction:
        time_base = frame.time_base
        if frame.pts is not None and time_base:
            stamp = frame.pts * time_base
            origin = self._origin
            if origin is None:
                # No start time in the header: time starts at the first frame, or continues
                # the count of earlier frames that had no timestamp.
                origin = stamp if self._previous is None else stamp - self._previous - self._step
            elif self._previous is None and stamp < origin:
                origin = stamp  # frames before the declared start still count from 0
            self._origin = origin
            now = stamp - origin
        else:
            now = Fraction(0) if self._previous is None else self._previous + self._step
        self._previous = now
        self._step = (
            frame.duration * time_base if frame.duration and time_base else self._default_step
        )
        return now

    def end(self) -> Fraction:
        return Fraction(0) if self._previous is None else self._previous + self._step


class _Sampler:
    """Takes the first frame at or after each multiple of 1/rate (every frame if no rate)."""

    def __init__(self, rate: Fraction | None) -> None:
        self._rate = rate
        self._next = 0

    def take(self, seconds: Fraction) -> bool:
        if self._rate is None:
            return True
        position = seconds * self._rate
        if position < self._next:
            return False
        # A gap longer than the interval yields one frame, not one per skipped multiple.
        self._next = math.floor(position) + 1
        return True


def _luma(frame: av.VideoFrame, shrink_short_side: int | None) -> NDArray[np.uint8]:
    try:
        luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
    except (av.error.FFmpegError, ValueError) as exc:
        raise UnsupportedCodec(
            f"cannot convert {frame.format.name} frames to grey: {exc}"
        ) from None
    if shrink_short_side is not None:
        reduce_by = min(luma.shape) // shrink_short_side
        if reduce_by >= 2:
            # Image.reduce is an integer box filter over reduce_by x reduce_by blocks.
            luma = np.asarray(Image.fromarray(luma).reduce(reduce_by))
    return luma


def _check_size(width: int, height: int, cap: int) -> None:
    if width * height > cap:
        raise DecompressionBomb(
            f"video frames are {width}x{height} = {width * height:,} pixels, over the cap "
            f"of {cap:,} (a decompression bomb or an oversized video)"
        )


def _configure(stream: av.VideoStream, options: VideoOptions) -> None:
    """Check the frame size and start the decoder; the stubs type a missing decoder away."""
    context: Any = stream.codec_context
    if context is None:
        raise UnsupportedCodec("the video codec is unknown to, or not decodable by, FFmpeg")
    _check_size(context.width, context.height, options.max_pixels_per_frame)
    context.thread_type = "AUTO"
    context.thread_count = options.thread_count
    # The decoder itself refuses bigger frames, should the stream change size mid-way.
    context.options = {**context.options, "max_pixels": str(options.max_pixels_per_frame)}
    try:
        context.open()
    except av.error.FFmpegError as exc:
        raise UnsupportedCodec(
            f"the {context.name} decoder cannot decode this stream: {exc.strerror}"
        ) from None


def hash_video(path: str | Path, options: VideoOptions | None = None) -> VideoHash:
    """Hash a video file: MD5, SHA-256 and the PDQ of frames sampled in time (vPDQ).

    Raises a `MediaError` subclass for bad input: `EmptyFile`, `NotAnImage` (not a video,
    or no video stream), `UnsupportedCodec`, `TruncatedFile` or `CorruptMedia` (when no
    frame at all could be decoded) and `DecompressionBomb`. A file that decodes partly
    returns the frames decoded, with `issue` set.
    """
    options = options or VideoOptions()
    path = Path(path)
    exact = exact_hashes_of_file(path)
    if exact.size == 0:
        raise EmptyFile("the file is empty (0 bytes)")
    clock_end = Fraction(0)
    frames: list[VideoFrame] = []
    state = _DecodeState()
    decoded = 0
    width = height = 0
    capped = False
    with _open(path, exact.size, options) as container:
        stream = _video_stream(container)
        _configure(stream, options)
        clock = _Clock(stream)
        sampler = _Sampler(options.sampling_rate)
        for frame in _decoded_frames(container, stream, options.max_decode_errors, state):
            _check_size(frame.width, frame.height, options.max_pixels_per_frame)
            if decoded == 0:
                width, height = frame.width, frame.height
            number, decoded = decoded, decoded + 1
            seconds = clock.time_of(frame)
            if not sampler.take(seconds):
                continue
            pdq = pdq_of_pixels(_luma(frame, options.shrink_short_side))
            frames.append(VideoFrame(number, pdq.quality, pdq.hash, max(0.0, float(seconds))))
            if len(frames) >= options.max_frames:
                capped = True
                break
        clock_end = clock.end()
        expected = stream.frames
        declared = _declared_duration(container, stream)
    if not frames:
        stage = state.stopped or state.last_error or "the stream holds no frame"
        raise _unreadable(path, exact.size, stage)
    issue = _issue(state, capped, options.max_frames, decoded, expected, clock_end, declared)
    return VideoHash(
        md5=exact.md5,
        sha256=exact.sha256,
        size=exact.size,
        frames=tuple(frames),
        width=width,
        height=height,
        duration_seconds=float(clock_end),
        pipeline=options.pipeline,
        frames_decoded=decoded,
        quality_threshold=options.quality_threshold,
        issue=issue,
    )


def _declared_duration(
    container: av.container.InputContainer, stream: av.VideoStream
) -> Fraction | None:
    """The video's length as its header states it, to notice a stream that ends early."""
    if stream.duration and stream.time_base:
        return stream.duration * stream.time_base
    # The container's length covers every stream; an audio track may outlast the video.
    if container.duration and len(container.streams) == 1:
        return Fraction(container.duration, av.time_base)
    return None


def _issue(
    state: _DecodeState,
    capped: bool,
    max_frames: int,
    decoded: int,
    expected: int,
    span: Fraction,
    declared: Fraction | None,
) -> str | None:
    if capped:
        return f"stopped at the cap of {max_frames:,} hashed frames; the rest was not hashed"
    problems = []
    if state.stopped is not None:
        problems.append(state.stopped)
    if state.errors:
        problems.append(f"{state.errors} damaged packet(s) skipped ({state.last_error})")
    if expected and decoded < expected:
        problems.append(
            f"decoded {decoded:,} of the {expected:,} frames the container lists "
            "(truncated or damaged)"
        )
    elif declared is not None and declared - span > max(Fraction(1), declared / 20):
        problems.append(
            f"decoded frames cover {float(span):.1f} s of the {float(declared):.1f} s the "
            "container declares (truncated or damaged)"
        )
    return "; ".join(problems) or None

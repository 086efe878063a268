"""MP3, WebM (Opus/Vorbis) and MP4/M4A (AAC) through PyAV, whose wheels bundle FFmpeg: the formats phones
and browsers record. Same contract as the lossless path: float32 frames x channels at the stream's own rate,
or the typed error a user can act on (cut short, corrupt, too long, silent)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

import av
import numpy as np

from .errors import WorkerError

COMPRESSED = ("mp3", "webm", "mp4")
# Encoders pad or trim a few frames (MP3 delay, AAC priming); only more than this counts as cut short.
_LENGTH_TOLERANCE_S = 0.15


def sniff_compressed(data: bytes) -> str | None:
    """The container, from the leading bytes (an ID3v2 tag in front means MP3 once FLAC was ruled out)."""
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:3] == b"ID3" or (
        len(data) > 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06
    ):
        return "mp3"
    return None


def decode_compressed(
    data: bytes,
    fmt: str,
    *,
    check_rate: Callable[[int], None],
    check_duration: Callable[[float], None],
    refuse_long: Callable[[Iterable[np.ndarray], float], None],
    max_seconds: float,
) -> tuple[np.ndarray, int]:
    if fmt == "mp4" and _mp4_box_cut(data):
        raise WorkerError(
            "AUDIO_TRUNCATED",
            "The mp4 data is cut short: a box runs past the end of the file.",
            details={"format": fmt},
        )
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except av.error.FFmpegError as exc:
        raise WorkerError(
            "AUDIO_CORRUPT", f"The {fmt} data could not be opened: {exc}.", details={"format": fmt}
        ) from exc
    with container:
        if not container.streams.audio:
            raise WorkerError(
                "AUDIO_UNSUPPORTED_FORMAT", f"The {fmt} file has no audio track.", details={"format": fmt}
            )
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        check_rate(rate)
        declared = _declared_seconds(container, stream)
        frames = _frames(container, stream)
        if declared is not None and declared > max_seconds:
            _refuse_long_or_too_long(refuse_long, frames, declared, check_duration)
        if declared is not None:
            check_duration(declared)
        blocks: list[np.ndarray] = []
        got, failure = 0, None
        try:
            for block in frames:
                blocks.append(block)
                got += len(block)
                if got / rate > max_seconds:  # no duration in the header (a browser's WebM)
                    _refuse_long_or_too_long(refuse_long, _chain(blocks, frames), got / rate, check_duration)
        except _DecodeFailure as exc:
            failure = exc.__cause__
    if failure is not None and got == 0:
        raise WorkerError(
            "AUDIO_CORRUPT", f"The {fmt} data could not be decoded: {failure}.", details={"format": fmt}
        )
    if failure is not None or (declared is not None and got / rate < declared - _LENGTH_TOLERANCE_S):
        raise WorkerError(
            "AUDIO_TRUNCATED",
            f"The {fmt} data breaks off after {got / rate:.2f} s"
            + (
                f" of the {declared:.2f} s its header announces."
                if declared is not None
                else f" ({failure})."
            ),
            details={"format": fmt, "secondsRead": round(got / rate, 3)},
        )
    channels = blocks[0].shape[1] if blocks else 1
    samples = np.concatenate(blocks) if blocks else np.zeros((0, channels), dtype=np.float32)
    return samples, rate


def _mp4_box_cut(data: bytes) -> bool:
    """Whether a top-level MP4 box announces more bytes than there are (FFmpeg only says "invalid data")."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1 and pos + 16 <= len(data):
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return False
        if size < 8:
            return False  # not a box structure; leave it to the decoder
        pos += size
    return pos > len(data)


class _DecodeFailure(Exception):
    """The decoder gave up mid-stream; the FFmpeg error is the cause."""


def _refuse_long_or_too_long(
    refuse_long: Callable[[Iterable[np.ndarray], float], None],
    blocks: Iterable[np.ndarray],
    seconds: float,
    check_duration: Callable[[float], None],
) -> None:
    try:
        refuse_long(blocks, seconds)
    except _DecodeFailure:
        check_duration(seconds)  # the length is over the limit either way


def _declared_seconds(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _frames(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> Iterator[np.ndarray]:
    """Decoded audio as float32 (frames x channels) blocks; a decoder error raises _DecodeFailure."""
    resampler: av.AudioResampler | None = None
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                # Packed float at the stream's own rate and layout; the 16 kHz resampling comes later.
                resampler = resampler or av.AudioResampler(format="flt", layout=frame.layout, rate=frame.rate)
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, len(out.layout.channels)).astype(np.float32)
    except av.error.FFmpegError as exc:
        raise _DecodeFailure(str(exc)) from exc


def _chain(first: list[np.ndarray], rest: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    yield from first
    yield from rest

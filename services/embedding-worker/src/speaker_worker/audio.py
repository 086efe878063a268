"""Audio in: bytes or a local file to validated float32 mono 16 kHz, or a typed error a user can act on."""

from __future__ import annotations

import io
import itertools
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taf

from . import contract
from .compressed import COMPRESSED, decode_compressed, sniff_compressed
from .errors import WorkerError

TARGET_RATE = 16000

# The one set of limits, declared in packages/events (limits.ts) and enforced by capture at the edge too.
_CONTRACT = contract.audio_limits()
FORMATS = tuple(_CONTRACT["formats"])
_MAGIC = {b"RIFF": "wav", b"RF64": "wav", b"fLaC": "flac", b"OggS": "ogg"}
# Rates outside this range are almost surely a wrong header or a wrong declared rate, not real audio.
_MIN_RATE, _MAX_RATE = int(_CONTRACT["minSampleRate"]), int(_CONTRACT["maxSampleRate"])
# Decoding reads this many frames at a time (4 s at 16 kHz): few enough calls that their overhead is
# small, small enough that a clip refused for length is never held whole.
_BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class AudioLimits:
    min_seconds: float = _CONTRACT["minDurationMs"] / 1000
    max_seconds: float = _CONTRACT["maxDurationMs"] / 1000
    silence_dbfs: float = _CONTRACT["silenceDbfs"]


DEFAULT_LIMITS = AudioLimits()


def decode_audio(
    data: bytes,
    *,
    format: str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    limits: AudioLimits = DEFAULT_LIMITS,
) -> np.ndarray:
    """Decodes WAV/FLAC/Ogg bytes (sniffed or declared) or raw s16le PCM to validated float32 mono 16 kHz."""
    if not data:
        raise WorkerError("AUDIO_EMPTY", "The audio is empty (0 bytes).")
    data = _without_id3_before_flac(data)
    fmt = _resolve_format(data, format)
    if fmt == "pcm_s16le":
        samples, rate = _decode_pcm(data, sample_rate, channels, limits)
    elif fmt in COMPRESSED:
        samples, rate = decode_compressed(
            data,
            fmt,
            check_rate=_check_rate,
            check_duration=lambda seconds: _check_duration(seconds, limits),
            refuse_long=lambda blocks, seconds: _refuse_long(blocks, seconds, limits),
            max_seconds=limits.max_seconds,
        )
    else:
        samples, rate = _decode_container(data, fmt, limits)
    return _finish(samples, rate, limits)


def read_audio_file(path: str, roots: Sequence[str], limits: AudioLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Reads a file under one of `roots` (symlinks resolved, no `..`), then decodes it like `decode_audio`."""
    resolved = resolve_audio_path(path, roots)
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        raise WorkerError(
            "AUDIO_PATH_NOT_FOUND", f"Cannot read {path}: {exc.strerror or exc}.", details={"path": path}
        ) from exc
    return decode_audio(data, limits=limits)


def resolve_audio_path(path: str, roots: Sequence[str]) -> Path:
    """The real path of `path` if it lies under a configured root; checked before existence, so the reply
    never tells a caller whether a file outside the roots exists."""
    if not roots:
        raise WorkerError(
            "AUDIO_PATH_FORBIDDEN",
            "Reading audio from file paths is disabled on this worker (no audio roots are configured).",
            hint="Send the audio bytes instead, or configure the worker's audio roots (local mode only).",
            details={"path": path},
        )
    candidate = Path(path)
    if not candidate.is_absolute() or ".." in candidate.parts or "\x00" in path:
        raise WorkerError(
            "AUDIO_PATH_FORBIDDEN",
            f"The path {path!r} must be absolute and must not contain '..'.",
            details={"path": path},
        )
    real = Path(os.path.realpath(candidate))
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    if not any(real == root or real.is_relative_to(root) for root in real_roots):
        raise WorkerError(
            "AUDIO_PATH_FORBIDDEN",
            f"The path {path} is outside the allowed audio folders.",
            details={"path": path, "roots": [str(r) for r in roots]},
        )
    if not real.is_file():
        raise WorkerError("AUDIO_PATH_NOT_FOUND", f"No audio file exists at {path}.", details={"path": path})
    return real


def _without_id3_before_flac(data: bytes) -> bytes:
    """Some taggers put an ID3v2 tag before `fLaC`; libsndfile does not skip it, so it is dropped here."""
    if data[:3] != b"ID3" or len(data) < 10:
        return data
    size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
    start = 10 + size + (10 if data[5] & 0x10 else 0)  # the footer flag adds a 10-byte footer
    return data[start:] if data[start : start + 4] == b"fLaC" else data


def _resolve_format(data: bytes, declared: str | None) -> str:
    sniffed = _MAGIC.get(data[:4]) or sniff_compressed(data)
    if declared is None:
        if sniffed is None:
            raise WorkerError(
                "AUDIO_UNSUPPORTED_FORMAT",
                "The audio is not WAV, FLAC, Ogg, MP3, WebM or MP4 (unknown leading bytes), and no format "
                "was declared.",
                details={"leadingBytes": data[:4].hex()},
            )
        return sniffed
    fmt = declared.lower()
    if fmt not in FORMATS:
        raise WorkerError(
            "AUDIO_UNSUPPORTED_FORMAT",
            f"The format {declared!r} is not supported; use one of {', '.join(FORMATS)}.",
            details={"format": declared},
        )
    if fmt != "pcm_s16le" and sniffed != fmt:
        raise WorkerError(
            "AUDIO_CORRUPT",
            f"The audio was declared as {fmt} but its bytes "
            + (f"look like {sniffed}." if sniffed else f"do not start like a {fmt} file."),
            details={"format": fmt, "sniffed": sniffed},
        )
    return fmt


def _decode_pcm(
    data: bytes, sample_rate: int | None, channels: int | None, limits: AudioLimits
) -> tuple[np.ndarray, int]:
    if sample_rate is None:
        raise WorkerError(
            "AUDIO_UNSUPPORTED_FORMAT",
            "Raw PCM needs its sample rate: declare sampleRate (and channels, default 1).",
        )
    n_channels = 1 if channels is None else channels
    _check_rate(sample_rate)
    if n_channels < 1:
        raise WorkerError("AUDIO_UNSUPPORTED_FORMAT", f"Channel count must be at least 1, got {n_channels}.")
    frame_bytes = 2 * n_channels
    if len(data) % frame_bytes:
        raise WorkerError(
            "AUDIO_TRUNCATED",
            f"Raw s16le PCM with {n_channels} channel(s) needs a multiple of {frame_bytes} bytes; "
            f"got {len(data)}.",
            details={"bytes": len(data), "channels": n_channels},
        )
    pcm = np.frombuffer(data, dtype="<i2").reshape(-1, n_channels)
    seconds = len(pcm) / sample_rate
    if seconds > limits.max_seconds:
        _refuse_long(
            (
                pcm[i : i + _BLOCK_FRAMES].astype(np.float32) / 32768.0
                for i in range(0, len(pcm), _BLOCK_FRAMES)
            ),
            seconds,
            limits,
        )
    _check_duration(seconds, limits)
    return pcm.astype(np.float32) / 32768.0, sample_rate


def _decode_container(data: bytes, fmt: str, limits: AudioLimits) -> tuple[np.ndarray, int]:
    if fmt == "wav":
        _check_wav_header(data)
    elif fmt == "ogg":
        _check_ogg_pages(data)
    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise WorkerError(
            "AUDIO_CORRUPT", f"The {fmt} data could not be decoded: {exc}.", details={"format": fmt}
        ) from exc
    with f:
        rate, expected = f.samplerate, f.frames
        _check_rate(rate)
        if expected > 0 and expected / rate > limits.max_seconds:
            _refuse_long(_blocks(f), expected / rate, limits)
        if expected > 0:
            _check_duration(expected / rate, limits)
        blocks, got, failure = [], 0, None
        # Block by block, so a stream that breaks off mid-way is reported as cut short with how far it got.
        while True:
            try:
                block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                failure = exc
                break
            if not len(block):
                break
            blocks.append(block)
            got += len(block)
            if got / rate > limits.max_seconds:  # a header that did not say how long the stream is
                _refuse_long(itertools.chain(blocks, _blocks(f)), got / rate, limits)
    if failure is not None or got < expected:
        raise WorkerError(
            "AUDIO_TRUNCATED",
            f"The {fmt} data breaks off after {got} of the {expected} frames its header announces"
            + (f" ({str(failure).strip(' .')})." if failure else "."),
            details={"format": fmt, "framesRead": got, "framesExpected": expected},
        )
    channels = f.channels
    samples = np.concatenate(blocks) if blocks else np.zeros((0, channels), dtype=np.float32)
    return samples, rate


def _blocks(f: sf.SoundFile) -> Iterable[np.ndarray]:
    """The rest of the stream block by block; a read that fails ends it (the caller is refusing anyway)."""
    while True:
        try:
            block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError):
            return
        if not len(block):
            return
        yield block


def _refuse_long(blocks: Iterable[np.ndarray], seconds: float, limits: AudioLimits) -> None:
    """A clip over the maximum is TOO_LONG, unless nothing in it is audible: then the user's problem is the
    microphone (SILENT), not the length. Scanned block by block, so a long clip is never held whole."""
    for block in blocks:
        if _level_dbfs(_mono(block)) >= limits.silence_dbfs:
            _check_duration(seconds, limits)
    _check_silence(-np.inf, limits)


def _mono(samples: np.ndarray) -> np.ndarray:
    if samples.shape[1] == 1:
        return samples[:, 0]
    return samples.mean(axis=1, dtype=np.float64).astype(np.float32)


def _level_dbfs(mono: np.ndarray) -> float:
    """RMS level without the DC offset: a constant offset (a cheap ADC, a wrong bias) carries no sound."""
    if mono.size == 0 or not np.isfinite(mono).all():
        return -np.inf if mono.size == 0 else np.inf
    # One float32 pass and a BLAS dot instead of float64 copies: a tenth of the time, the same level to
    # 1e-6 dB.
    ac = mono - np.float32(mono.mean(dtype=np.float64))
    rms = float(np.sqrt(float(np.dot(ac, ac)) / ac.size))
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def _check_silence(level: float, limits: AudioLimits) -> None:
    if level < limits.silence_dbfs:
        raise WorkerError(
            "AUDIO_SILENT",
            f"The audio's level is {level:.1f} dBFS without its DC offset, below the silence threshold "
            f"({limits.silence_dbfs:g} dBFS).",
            details={"dbfs": None if not np.isfinite(level) else round(level, 1)},
        )


def _check_ogg_pages(data: bytes) -> None:
    """Walks the Ogg pages: a stream cut short ends inside a page or lacks its end-of-stream page, which
    libsndfile reports as "malformed" or as zero frames."""
    pos, last_flags = 0, 0
    while pos < len(data):
        # Capture pattern, stream structure version 0, and only the three defined header flags.
        if (
            data[pos : pos + 4] != b"OggS"
            or data[pos + 4 : pos + 5] not in (b"", b"\x00")
            or (pos + 5 < len(data) and data[pos + 5] > 0x07)
        ):
            raise WorkerError(
                "AUDIO_CORRUPT",
                f"The Ogg data has no valid page header at byte {pos}.",
                details={"format": "ogg"},
            )
        if pos + 27 > len(data) or pos + 27 + data[pos + 26] > len(data):
            break
        segments = data[pos + 27 : pos + 27 + data[pos + 26]]
        end = pos + 27 + len(segments) + sum(segments)
        if end > len(data):
            break
        last_flags, pos = data[pos + 5], end
    else:
        if last_flags & 0x04:  # end-of-stream flag on the last page
            return
    raise WorkerError(
        "AUDIO_TRUNCATED",
        "The Ogg stream is cut short: it ends "
        + ("inside a page." if pos < len(data) else "without its end-of-stream page."),
        details={"format": "ogg", "bytes": len(data)},
    )


def _check_wav_header(data: bytes) -> None:
    """libsndfile silently reads a cut-short WAV: compare the data chunk's declared size with the bytes."""
    if len(data) < 12 or data[8:12] != b"WAVE":
        raise WorkerError("AUDIO_CORRUPT", "The RIFF data is not a WAVE file.", details={"format": "wav"})
    if data[:4] == b"RF64":
        return  # RF64 keeps real sizes in its ds64 chunk; leave those files to libsndfile's checks.
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if not all(32 <= c < 127 for c in chunk_id):
            raise WorkerError(
                "AUDIO_CORRUPT",
                f"The WAV file has a damaged chunk header at byte {pos}.",
                details={"format": "wav"},
            )
        if chunk_id == b"data":
            available = len(data) - (pos + 8)
            # 0 and 0xFFFFFFFF mark a stream whose writer did not know the length; nothing to compare against.
            if size not in (0, 0xFFFFFFFF) and available < size:
                raise WorkerError(
                    "AUDIO_TRUNCATED",
                    f"The WAV data chunk announces {size} bytes but only {available} are present.",
                    details={"format": "wav", "bytesExpected": size, "bytesPresent": available},
                )
            return
        pos += 8 + size + (size & 1)
    raise WorkerError(
        "AUDIO_TRUNCATED", "The WAV file ends before its data chunk.", details={"format": "wav"}
    )


def _check_rate(rate: int) -> None:
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise WorkerError(
            "AUDIO_UNSUPPORTED_FORMAT",
            f"The sample rate {rate} Hz is outside the supported {_MIN_RATE}-{_MAX_RATE} Hz.",
            details={"sampleRate": rate},
        )


def _check_duration(seconds: float, limits: AudioLimits) -> None:
    if seconds > limits.max_seconds:
        raise WorkerError(
            "AUDIO_TOO_LONG",
            f"The clip is {seconds:.2f} s long; this worker accepts at most {limits.max_seconds:g} s.",
            details={"seconds": round(seconds, 3), "maxSeconds": limits.max_seconds},
        )
    if seconds < limits.min_seconds:
        raise WorkerError(
            "AUDIO_TOO_SHORT",
            f"The clip is {seconds:.2f} s long; embedding a voice needs at least {limits.min_seconds:g} s.",
            details={"seconds": round(seconds, 3), "minSeconds": limits.min_seconds},
        )


def _finish(samples: np.ndarray, rate: int, limits: AudioLimits) -> np.ndarray:
    if samples.size == 0:
        raise WorkerError("AUDIO_EMPTY", "The audio holds no samples.")
    _check_duration(len(samples) / rate, limits)
    if not np.isfinite(samples).all():
        raise WorkerError(
            "AUDIO_NON_FINITE",
            f"The audio contains {int((~np.isfinite(samples)).sum())} NaN or infinite sample(s).",
        )
    mono = _mono(samples)
    if rate != TARGET_RATE:
        mono = taf.resample(torch.from_numpy(np.ascontiguousarray(mono)), rate, TARGET_RATE).numpy()
    _check_silence(_level_dbfs(mono), limits)
    return np.ascontiguousarray(mono, dtype=np.float32)

"""The LibriSpeech dev recordings, found by path (never copied into the repo), decoded by our code."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_worker.audio import TARGET_RATE, decode_audio, read_audio_file
from speaker_worker.errors import WorkerError

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class DevFile:
    path: Path
    speaker: str
    seconds: float


def dev_root() -> Path:
    root = Path(os.environ.get("SPEAKERS_DEV_AUDIO", REPO_ROOT.parent / "shared" / "audio" / "dev"))
    if not (root / "manifest.csv").is_file():
        pytest.skip(f"no dev audio at {root} (manifest.csv missing); set SPEAKERS_DEV_AUDIO")
    return root


@cache
def dev_files() -> tuple[DevFile, ...]:
    root = dev_root()
    with (root / "manifest.csv").open(newline="") as f:
        return tuple(
            DevFile(root / row["path"], row["speaker"], float(row["duration_s"])) for row in csv.DictReader(f)
        )


def load(file: DevFile) -> np.ndarray:
    return read_audio_file(str(file.path), [str(dev_root())])


def clips_between(lo: float, hi: float, count: int) -> list[np.ndarray]:
    """`count` clips with durations in [lo, hi] seconds, from different speakers where possible."""
    chosen: list[DevFile] = []
    speakers: set[str] = set()
    candidates = sorted((f for f in dev_files() if lo <= f.seconds <= hi), key=lambda f: (f.speaker, f.path))
    for f in candidates:
        if f.speaker not in speakers:
            chosen.append(f)
            speakers.add(f.speaker)
    for f in candidates:
        if len(chosen) >= count:
            break
        if f not in chosen:
            chosen.append(f)
    assert len(chosen) >= count, f"dev set has fewer than {count} clips of {lo}-{hi} s"
    return [load(f) for f in chosen[:count]]


def three_seconds_of_speech() -> np.ndarray:
    """About 3 s of real speech at 16 kHz, read with soundfile directly (not by the code under test)."""
    file = min((f for f in dev_files() if f.seconds >= 3.0), key=lambda f: f.seconds)
    samples, rate = sf.read(file.path, dtype="float32")
    assert rate == TARGET_RATE
    return samples[: 3 * TARGET_RATE]


def encode_as(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    """The samples as a file of this container and subtype, written by soundfile."""
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def decode_error(data: bytes, **kwargs) -> WorkerError:
    """The WorkerError decode_audio raises on these bytes (the test fails when it raises none)."""
    with pytest.raises(WorkerError) as err:
        decode_audio(data, **kwargs)
    return err.value

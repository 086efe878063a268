"""MP3, WebM/Opus and M4A/AAC (issue 12 item 3), made by a real encoder (Debian's ffmpeg) from real dev speech
at test time, decoded through PyAV with the same limits and typed errors as the lossless formats."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from dev_audio import dev_files

from speaker_worker.audio import TARGET_RATE, decode_audio
from speaker_worker.errors import WorkerError

FFMPEG = "/usr/bin/ffmpeg"
ENCODERS = {
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    "webm": ("webm", ["-c:a", "libopus", "-b:a", "32k"]),
    "mp4": ("m4a", ["-c:a", "aac", "-b:a", "64k"]),
}
pytestmark = pytest.mark.skipif(shutil.which(FFMPEG) is None, reason="needs ffmpeg (scripts/setup.sh)")


@pytest.fixture(scope="module")
def source() -> Path:
    return min((f for f in dev_files() if f.seconds >= 6.0), key=lambda f: f.seconds).path


def encode(
    tmp_path: Path,
    src: Path | str,
    fmt: str,
    *before: str,
    seconds: float | None = None,
    after: tuple[str, ...] = (),
) -> bytes:
    ext, args = ENCODERS[fmt]
    out = tmp_path / f"clip-{len(list(tmp_path.iterdir()))}.{ext}"
    cut = [] if seconds is None else ["-t", str(seconds)]
    command = [FFMPEG, "-loglevel", "error", *before, "-i", str(src), *cut, *args, *after, str(out)]
    subprocess.run(command, check=True)
    return out.read_bytes()


def envelope(samples: np.ndarray) -> np.ndarray:
    """RMS per 20 ms: compares lossy audio with its source without caring about a few samples of delay."""
    n = len(samples) // 320
    return np.sqrt(np.mean(samples[: n * 320].reshape(n, 320) ** 2, axis=1))


def code_of(data: bytes, **kwargs) -> str:
    with pytest.raises(WorkerError) as err:
        decode_audio(data, **kwargs)
    return err.value.code


@pytest.mark.parametrize("fmt", list(ENCODERS))
def test_decodes_to_the_same_speech(tmp_path, source, fmt):
    original, rate = sf.read(source, dtype="float32", frames=5 * TARGET_RATE)
    assert rate == TARGET_RATE
    data = encode(tmp_path, source, fmt, seconds=5)
    for declared in (fmt, None):
        decoded = decode_audio(data, format=declared)
        assert decoded.dtype == np.float32 and decoded.ndim == 1
        assert abs(len(decoded) - len(original)) <= 0.1 * TARGET_RATE  # encoder padding (AAC: a frame)
        n = min(len(decoded), len(original))
        assert np.corrcoef(envelope(decoded[:n]), envelope(original[:n]))[0, 1] > 0.95


@pytest.mark.parametrize("fmt", list(ENCODERS))
def test_cut_short_is_truncated(tmp_path, source, fmt):
    data = encode(tmp_path, source, fmt, seconds=5)
    for fraction in (0.3, 0.7):
        assert code_of(data[: int(len(data) * fraction)], format=fmt) == "AUDIO_TRUNCATED"


@pytest.mark.parametrize("fmt", list(ENCODERS))
def test_limits_and_silence_are_the_same_as_for_lossless(tmp_path, source, fmt):
    assert code_of(encode(tmp_path, source, fmt, seconds=0.5), format=fmt) == "AUDIO_TOO_SHORT"
    too_long = encode(tmp_path, source, fmt, "-stream_loop", "-1", seconds=90)
    assert code_of(too_long, format=fmt) == "AUDIO_TOO_LONG"
    silence = ["-f", "lavfi"]
    assert code_of(encode(tmp_path, "anullsrc=r=16000:cl=mono", fmt, *silence, seconds=600)) == "AUDIO_SILENT"
    assert code_of(encode(tmp_path, "anullsrc=r=16000:cl=mono", fmt, *silence, seconds=3)) == "AUDIO_SILENT"


def test_a_declared_format_must_match_and_junk_is_corrupt(tmp_path, source):
    mp3 = encode(tmp_path, source, "mp3", seconds=3)
    assert code_of(mp3, format="flac") == "AUDIO_CORRUPT"
    junk = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert code_of(b"\x1a\x45\xdf\xa3" + junk, format="webm") == "AUDIO_CORRUPT"


def test_a_browser_webm_without_a_duration_is_still_limited(tmp_path, source):
    # A browser's MediaRecorder writes no duration; ffmpeg's live WebM mode does the same.
    live = ("-live", "1")
    data = encode(tmp_path, source, "webm", "-stream_loop", "-1", seconds=90, after=live)
    assert code_of(data, format="webm") == "AUDIO_TOO_LONG"
    assert decode_audio(encode(tmp_path, source, "webm", seconds=5, after=live)).shape[0] > 4 * TARGET_RATE

"""The voiced-speech measure enrollment gates on: none in loud noise of any colour, plenty in real speech."""

import numpy as np
import pytest
import soundfile as sf
from dev_audio import dev_files

from speaker_worker.speech import voiced_ms

RATE = 16_000


def coloured_noise(seconds: float, alpha: float, seed: int) -> np.ndarray:
    """Noise with power falling as 1/f**alpha: 0 white, 1 pink, 2 brown; peak at half scale."""
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / f ** (alpha / 2), n)
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_has_no_voiced_speech(alpha: float, seed: int) -> None:
    assert voiced_ms(coloured_noise(5.0, alpha, seed)) < 0.03 * 5000


def test_silence_and_a_too_short_clip_have_none() -> None:
    assert voiced_ms(np.zeros(5 * RATE, dtype=np.float32)) == 0.0
    assert voiced_ms(np.zeros(100, dtype=np.float32)) == 0.0


def test_real_speech_is_voiced() -> None:
    files = dev_files()
    if not files:
        pytest.skip("dev audio not present")
    for f in files[:24]:
        samples, rate = sf.read(f.path, dtype="float32")
        assert rate == RATE
        assert voiced_ms(samples) >= 0.05 * len(samples) * 1000 / RATE, f.path

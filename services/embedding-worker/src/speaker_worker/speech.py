"""How much of a clip is voiced speech: frames with a pitch-like periodicity (60-400 Hz).

Enrollment needs a voice, and loud noise passes every energy test: white, pink or brown noise have no
periodicity, voiced speech does. Each 48 ms frame (hop 20 ms) is pre-emphasised, windowed, and its
autocorrelation (normalised by the window's own) must show a peak at a pitch lag that rises at least
0.3 above the dip before it, and reach 0.5. The dip test tells a pitch peak from the slow decay of
low-passed noise, whose autocorrelation is high at every short lag but never rises again.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 768
HOP = 320
MIN_PEAK = 0.5
MIN_RISE = 0.3
MIN_PITCH_HZ = 60
MAX_PITCH_HZ = 400


def voiced_ms(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Milliseconds of the clip in voiced frames (0 for a clip shorter than one frame)."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < FRAME:
        return 0.0
    x = x - x.mean()
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    n = 1 + (len(x) - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:n]
    window = np.hanning(FRAME)
    frames = frames * window
    frames = frames - frames.mean(axis=1, keepdims=True)
    size = 2048  # >= 2 * FRAME: no circular wrap-around in the autocorrelation
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, size, axis=1)) ** 2, size, axis=1)[:, :FRAME]
    window_ac = np.fft.irfft(np.abs(np.fft.rfft(window, size)) ** 2, size)[:FRAME]
    ac = ac / np.maximum(window_ac, 1e-9) * window_ac[0]
    energy = ac[:, 0]
    lo, hi = rate // MAX_PITCH_HZ, rate // MIN_PITCH_HZ
    nac = ac / np.maximum(energy, 1e-12)[:, None]
    peak_at = lo + nac[:, lo:hi].argmax(axis=1)
    rows = np.arange(n)
    peak = nac[rows, peak_at]
    dip = np.minimum.accumulate(nac[:, 1:hi], axis=1)[rows, peak_at - 1]
    rms = np.sqrt(energy / FRAME)
    loud = rms > max(1e-4, 0.05 * float(np.percentile(rms, 95)))
    voiced = (peak_at > lo) & (peak >= MIN_PEAK) & (peak - dip >= MIN_RISE) & loud
    return round(float(voiced.sum()) * HOP * 1000 / rate, 3)

"""Probe quality for the decision rule (ADR 0003): seconds of speech after VAD, and an SNR estimate.

Speech is found with WebRTC VAD (the `webrtcvad` package resemblyzer already brings) over 30 ms frames. The
SNR compares the energy of the loudest tenth of frames with the quietest tenth: a clip always has pauses
between words, and in a home those pauses hold the TV, the fan or the other talkers.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
FRAME = 480  # 30 ms at 16 kHz, a frame length WebRTC VAD accepts


def measure(samples: np.ndarray) -> dict[str, float]:
    x = np.asarray(samples, dtype=np.float32)
    frames = len(x) // FRAME
    if frames == 0:
        return {"speechSeconds": 0.0}
    framed = x[: frames * FRAME].reshape(frames, FRAME)
    out: dict[str, float] = {"speechSeconds": round(_speech_frames(framed) * FRAME / SAMPLE_RATE, 3)}
    snr = _snr_db(framed)
    if snr is not None:
        out["snrDb"] = round(snr, 2)
    return out


def _speech_frames(framed: np.ndarray) -> int:
    import webrtcvad

    vad = webrtcvad.Vad(2)
    pcm = (np.clip(framed, -1.0, 1.0) * 32767).astype("<i2")
    return sum(1 for frame in pcm if vad.is_speech(frame.tobytes(), SAMPLE_RATE))


def _snr_db(framed: np.ndarray) -> float | None:
    energy = np.sort(np.mean(np.square(framed, dtype=np.float64), axis=1))
    tenth = max(1, len(energy) // 10)
    noise = float(np.mean(energy[:tenth]))
    signal = float(np.mean(energy[-tenth:]))
    if signal <= 0:
        return None
    return float(np.clip(10 * np.log10(signal / max(noise, 1e-12)), -100, 200))

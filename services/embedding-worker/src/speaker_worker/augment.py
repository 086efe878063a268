"""Seeded household conditions for enrollment samples (ADR 0003).

A spoken command in a home is short, heard 1-4 m away in a reverberant room, often over a TV, a fan or another
person. An enrollment sample is usually none of these. Each copy made here goes through a random crop (most
copies as short as a command), an image-source room (pyroomacoustics), additive noise (coloured noise from
audiomentations, or babble made from OTHER voices of the household that the caller sends), a gain and
sometimes a band-limit (audiomentations). The ranges are broad, physical ones (rooms of a house, distances
across a room, SNRs from loud to quiet), not fitted to any recording set.

Every random choice is drawn from a generator seeded by (seed, copy index), so the same sample, voices and
seed give the same copies. audiomentations draws from the global `random` / `numpy.random` state; that state
is seeded per copy and restored afterwards, so nothing else in the process sees it move.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import fftconvolve

SAMPLE_RATE = 16000

# The spectral decay (dB/octave) of each noise colour, as audiomentations names them.
NOISE_DECAYS = {"white": 0.0, "pink": -3.01, "brown": -6.02}


@dataclass(frozen=True)
class AugmentRanges:
    """What a copy may go through. Defaults: rooms of a house and the ways a home is noisy."""

    crop_seconds: tuple[float, float] = (1.2, 4.5)
    # This share of copies keeps the whole sample (up to `long_crop_max`): long probes happen too.
    long_crop_share: float = 0.2
    long_crop_max: float = 8.0
    room_share: float = 0.85
    room_length_m: tuple[float, float] = (3.0, 8.0)
    room_width_m: tuple[float, float] = (2.5, 6.0)
    room_height_m: tuple[float, float] = (2.3, 3.2)
    rt60_s: tuple[float, float] = (0.15, 0.9)
    distance_m: tuple[float, float] = (0.5, 4.5)
    # Image-source order cap: higher orders add little to a late tail that the RT60 already shapes.
    max_order: int = 12
    noise_share: float = 0.85
    babble_share: float = 0.4
    snr_db: tuple[float, float] = (0.0, 20.0)
    gain_db: tuple[float, float] = (-12.0, 6.0)
    band_limit_share: float = 0.25
    band_low_hz: tuple[float, float] = (100.0, 400.0)
    band_high_hz: tuple[float, float] = (3000.0, 7000.0)


DEFAULT_RANGES = AugmentRanges()


@dataclass
class Copy:
    samples: np.ndarray
    condition: dict[str, Any]


def augment(
    sample: np.ndarray,
    copies: int,
    seed: int,
    babble: Sequence[np.ndarray] = (),
    ranges: AugmentRanges = DEFAULT_RANGES,
) -> list[Copy]:
    """`copies` augmented versions of a 16 kHz mono sample; `babble` holds other speakers' speech."""
    sample = np.asarray(sample, dtype=np.float32)
    voices = [np.asarray(v, dtype=np.float32) for v in babble if len(v) > SAMPLE_RATE // 2]
    return [_one(sample, np.random.default_rng([seed, index]), voices, ranges) for index in range(copies)]


def _one(sample: np.ndarray, rng: np.random.Generator, voices: list[np.ndarray], r: AugmentRanges) -> Copy:
    condition: dict[str, Any] = {}
    audio = _crop(sample, rng, r, condition)
    if rng.random() < r.room_share:
        audio = _reverberate(audio, rng, r, condition)
    audio = _add_noise(audio, rng, voices, r, condition)
    gain_db = float(rng.uniform(*r.gain_db))
    condition["gainDb"] = round(gain_db, 2)
    band = None
    if rng.random() < r.band_limit_share:
        band = (float(rng.uniform(*r.band_low_hz)), float(rng.uniform(*r.band_high_hz)))
        condition["bandHz"] = [round(band[0], 1), round(band[1], 1)]
    audio = _gain_and_band(audio, gain_db, band, int(rng.integers(0, 2**31)))
    return Copy(samples=audio.astype(np.float32), condition=condition)


def _crop(sample: np.ndarray, rng: np.random.Generator, r: AugmentRanges, condition: dict[str, Any]):
    total = len(sample) / SAMPLE_RATE
    if rng.random() < r.long_crop_share:
        seconds = min(total, r.long_crop_max)
    else:
        seconds = min(total, float(rng.uniform(*r.crop_seconds)))
    start = float(rng.uniform(0, max(0.0, total - seconds)))
    condition["cropSeconds"] = round(seconds, 3)
    condition["cropStartSeconds"] = round(start, 3)
    a = int(start * SAMPLE_RATE)
    return sample[a : a + int(seconds * SAMPLE_RATE)].copy()


def _reverberate(audio: np.ndarray, rng: np.random.Generator, r: AugmentRanges, condition: dict[str, Any]):
    import pyroomacoustics as pra

    size = np.array(
        [rng.uniform(*r.room_length_m), rng.uniform(*r.room_width_m), rng.uniform(*r.room_height_m)]
    )
    rt60 = float(rng.uniform(*r.rt60_s))
    try:
        absorption, order = pra.inverse_sabine(rt60, size)
    except ValueError:
        # A room this small cannot ring this long (Sabine): take the longest it can.
        absorption, order = 0.99, 0
    room = pra.ShoeBox(
        size, fs=SAMPLE_RATE, materials=pra.Material(absorption), max_order=min(order, r.max_order)
    )
    # A mouth 1.0-1.8 m high somewhere in the room, a microphone on a shelf or table.
    mic = np.array([rng.uniform(0.3, size[0] - 0.3), rng.uniform(0.3, size[1] - 0.3), rng.uniform(0.7, 1.5)])
    distance = float(rng.uniform(*r.distance_m))
    source = _point_at(mic, distance, size, rng)
    distance = float(np.linalg.norm(source - mic))
    room.add_source(source.tolist())
    room.add_microphone(mic.tolist())
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    wet = fftconvolve(audio.astype(np.float64), rir)[: len(audio)]
    peak = float(np.max(np.abs(wet))) or 1.0
    condition["room"] = {
        "rt60S": round(rt60, 3),
        "distanceM": round(distance, 2),
        "sizeM": [round(float(x), 2) for x in size],
    }
    return (wet / peak * max(float(np.max(np.abs(audio))), 1e-3)).astype(np.float32)


def _point_at(mic: np.ndarray, distance: float, size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A talker about `distance` from the microphone, inside the room (closer when the room is too small)."""
    for _ in range(20):
        angle = rng.uniform(0, 2 * np.pi)
        point = mic + np.array([np.cos(angle) * distance, np.sin(angle) * distance, 0.0])
        point[2] = rng.uniform(1.0, min(1.8, size[2] - 0.2))
        if np.all(point > 0.2) and np.all(point < size - 0.2):
            return point
        distance *= 0.85
    return np.clip(mic + 0.5, 0.2, size - 0.2)


def _add_noise(
    audio: np.ndarray,
    rng: np.random.Generator,
    voices: list[np.ndarray],
    r: AugmentRanges,
    condition: dict[str, Any],
) -> np.ndarray:
    if rng.random() >= r.noise_share:
        condition["noise"] = "none"
        return audio
    snr = float(rng.uniform(*r.snr_db))
    condition["snrDb"] = round(snr, 2)
    if voices and rng.random() < r.babble_share:
        condition["noise"] = "babble"
        return _mix(audio, _babble(len(audio), voices, rng), snr)
    colour = str(rng.choice(list(NOISE_DECAYS)))
    condition["noise"] = colour
    from audiomentations import AddColorNoise

    noise = AddColorNoise(
        min_snr_db=snr,
        max_snr_db=snr,
        min_f_decay=NOISE_DECAYS[colour],
        max_f_decay=NOISE_DECAYS[colour],
        p_apply_a_weighting=0.0,
        p=1.0,
    )
    with _seeded_globals(int(rng.integers(0, 2**31))):
        return noise(samples=audio, sample_rate=SAMPLE_RATE)


def _babble(length: int, voices: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """2-4 talkers at once, each a random stretch of another household voice at its own level."""
    out = np.zeros(length, dtype=np.float64)
    for _ in range(int(rng.integers(2, 5))):
        voice = voices[int(rng.integers(0, len(voices)))]
        if len(voice) < length:
            voice = np.tile(voice, length // len(voice) + 1)
        start = int(rng.integers(0, len(voice) - length + 1))
        part = voice[start : start + length].astype(np.float64)
        out += part / (_rms(part) or 1.0) * float(rng.uniform(0.5, 1.0))
    return out.astype(np.float32)


def _mix(audio: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    signal_rms = _rms(audio)
    noise_rms = _rms(noise)
    if signal_rms == 0 or noise_rms == 0:
        return audio
    scale = signal_rms / (noise_rms * 10 ** (snr_db / 20))
    return (audio + noise * scale).astype(np.float32)


def _gain_and_band(audio: np.ndarray, gain_db: float, band: tuple[float, float] | None, seed: int):
    from audiomentations import Compose, Gain, HighPassFilter, LowPassFilter

    steps: list[Any] = [Gain(min_gain_db=gain_db, max_gain_db=gain_db, p=1.0)]
    if band is not None:
        low, high = band
        steps.append(HighPassFilter(min_cutoff_freq=low, max_cutoff_freq=low, p=1.0))
        steps.append(LowPassFilter(min_cutoff_freq=high, max_cutoff_freq=high, p=1.0))
    with _seeded_globals(seed):
        out = Compose(steps, p=1.0)(samples=audio, sample_rate=SAMPLE_RATE)
    # A gained-up copy must still be audio a microphone could deliver.
    return np.clip(out, -1.0, 1.0)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


@contextmanager
def _seeded_globals(seed: int) -> Iterator[None]:
    np_state = np.random.get_state()
    py_state = random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)

"""The `augment` endpoint: a clean sample and its seeded household copies, embedded in one batch (ADR 0003).

Enrollment calls it once per accepted sample, so identification never waits for it; the copies go through
the same embedder (and the same one inference thread) as every other clip.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import bus
from .audio import AudioLimits, decode_audio, read_audio_file
from .augment import augment
from .embedder import Embedder
from .errors import WorkerError
from .quality import measure

SAMPLE_RATE = 16000


def split_body(
    meta: dict[str, Any], body: bytes
) -> tuple[dict[str, Any], bytes, list[tuple[dict[str, Any], bytes]]]:
    """The sample's bytes first, then each babble voice's, as the meta's lengths say."""
    sources = [meta["sample"], *meta.get("babble", [])]
    parts = bus.split_by_lengths(body, [int(s["length"]) for s in sources])
    return sources[0], parts[0], list(zip(sources[1:], parts[1:], strict=True))


def decode_source(source: dict[str, Any], data: bytes, roots: list[str], limits: AudioLimits) -> np.ndarray:
    if source.get("path"):
        if data:
            raise WorkerError("INVALID_REQUEST", "A source with a path must have length 0.")
        return read_audio_file(source["path"], roots, limits)
    return decode_audio(
        data,
        format=source.get("format"),
        sample_rate=source.get("sampleRate"),
        channels=source.get("channels"),
        limits=limits,
    )


def run_augment(
    embedder: Embedder, meta: dict[str, Any], body: bytes, roots: list[str], limits: AudioLimits
) -> dict[str, Any]:
    """On the inference thread: decode, make the copies, embed clean + copies in one call."""
    started = time.perf_counter()
    sample_meta, sample_bytes, babble_parts = split_body(meta, body)
    sample = decode_source(sample_meta, sample_bytes, roots, limits)
    # A babble voice that cannot be decoded only costs that voice, never the sample.
    babble: list[np.ndarray] = []
    for source, data in babble_parts:
        try:
            babble.append(decode_source(source, data, roots, limits))
        except WorkerError:
            continue
    copies = augment(sample, int(meta["copies"]), int(meta["seed"]), babble)
    # A crop shorter than the model accepts is dropped rather than failing the sample.
    usable = [c for c in copies if len(c.samples) / SAMPLE_RATE >= limits.min_seconds]
    vectors = embedder.embed([sample, *[c.samples for c in usable]])
    compute_ms = (time.perf_counter() - started) * 1000
    info = bus.model_ref(embedder.info)
    clean = {
        "model": info,
        "vector": [float(x) for x in vectors[0]],
        "durationMs": round(len(sample) * 1000 / SAMPLE_RATE, 3),
        "computeMs": round(compute_ms, 3),
        "quality": measure(sample),
    }
    return {
        "model": info,
        "clean": clean,
        "copies": [
            {
                "condition": c.condition,
                "vector": [float(x) for x in v],
                "durationMs": round(len(c.samples) * 1000 / SAMPLE_RATE, 3),
                "quality": measure(c.samples),
            }
            for c, v in zip(usable, vectors[1:], strict=True)
        ],
        "computeMs": round(compute_ms, 3),
    }

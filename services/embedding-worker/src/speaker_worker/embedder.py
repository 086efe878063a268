"""The thread-safe front of an encoder: what the NATS side calls from its executor threads."""

from __future__ import annotations

import threading

import numpy as np

from .audio import TARGET_RATE, AudioLimits
from .errors import WorkerError
from .models import Encoder, ModelInfo


class Embedder:
    def __init__(self, encoder: Encoder, limits: AudioLimits, max_batch: int = 16):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._encoder = encoder
        self._limits = limits
        self._max_batch = max_batch
        # One lock around the model: torch modules are not documented as safe for concurrent forwards, and
        # two forwards at once would only split the same CPU cores.
        self._lock = threading.Lock()
        # Counters have their own lock: reading them (service stats, on the event loop) must never wait for a
        # forward pass to finish.
        self._stats_lock = threading.Lock()
        self._stats = {"batches": 0, "clips": 0, "audio_seconds": 0.0, "errors": 0}

    @property
    def info(self) -> ModelInfo:
        return self._encoder.info

    @property
    def device(self) -> str:
        return self._encoder.device

    @property
    def threads(self) -> int:
        return self._encoder.threads

    @property
    def limits(self) -> AudioLimits:
        return self._limits

    @property
    def max_batch(self) -> int:
        return self._max_batch

    @property
    def stats(self) -> dict:
        with self._stats_lock:
            return dict(self._stats)

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        """(len(clips), dim) float32 L2-normalised rows, at most `max_batch` clips per forward pass."""
        dim = self._encoder.info.dim
        if not clips:
            return np.zeros((0, dim), dtype=np.float32)
        try:
            prepared = [self._check(i, c) for i, c in enumerate(clips)]
        except WorkerError:
            self._count(errors=1)
            raise
        out = np.empty((len(prepared), dim), dtype=np.float32)
        with self._lock:
            try:
                for start in range(0, len(prepared), self._max_batch):
                    chunk = prepared[start : start + self._max_batch]
                    out[start : start + len(chunk)] = self._encoder.embed_batch(chunk)
                    self._count(batches=1, clips=len(chunk), audio_seconds=sum(map(len, chunk)) / TARGET_RATE)
            except Exception:
                self._count(errors=1)
                raise
        return out

    def _count(self, **increments: float) -> None:
        with self._stats_lock:
            for key, value in increments.items():
                self._stats[key] += value

    def _check(self, index: int, clip: np.ndarray) -> np.ndarray:
        """Clips should come from decode_audio; this guards the model against ones that did not."""
        arr = np.asarray(clip, dtype=np.float32)
        if arr.ndim != 1:
            raise WorkerError(
                "INVALID_REQUEST",
                f"Clip {index} must be mono (1-D), got shape {arr.shape}.",
                details={"clip": index},
            )
        seconds = len(arr) / TARGET_RATE
        if seconds < self._limits.min_seconds:
            raise WorkerError(
                "AUDIO_TOO_SHORT",
                f"Clip {index} is {seconds:.2f} s long; at least {self._limits.min_seconds:g} s is needed.",
                details={"clip": index, "seconds": round(seconds, 3), "minSeconds": self._limits.min_seconds},
            )
        if seconds > self._limits.max_seconds:
            raise WorkerError(
                "AUDIO_TOO_LONG",
                f"Clip {index} is {seconds:.2f} s long; the maximum is {self._limits.max_seconds:g} s.",
                details={"clip": index, "seconds": round(seconds, 3), "maxSeconds": self._limits.max_seconds},
            )
        if not np.isfinite(arr).all():
            raise WorkerError(
                "AUDIO_NON_FINITE", f"Clip {index} contains NaN or infinite samples.", details={"clip": index}
            )
        return arr

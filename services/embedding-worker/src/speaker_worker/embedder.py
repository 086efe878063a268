"""The front of an encoder that the NATS side calls: batching, and what to do when a forward pass fails.

- `submit` (on the event loop) merges whatever callers are waiting into one forward pass: the first clip
  goes at once, and the next pass takes everything that arrived while the previous one ran, up to the
  device's batch cap. Clips from the audio consumer and from concurrent `extract` requests share passes.
- Clips are grouped by length first (for encoders whose cost grows with padding), so a pass pads little;
  the encoder itself guarantees that the grouping never changes an embedding.
- Out of memory halves the batch and tries again (and keeps the lower cap); any other failure of a batch
  retries its clips one by one, so only a clip that fails alone is reported failed, with its own error.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from .audio import TARGET_RATE, AudioLimits
from .errors import WorkerError
from .models import Encoder, ModelInfo, usable_cores
from .quality import measure

log = logging.getLogger("speaker_worker.embedder")

# Clips per forward pass when no BATCH_MAX is set: enough to amortise a pass on the CPU (where a 3 s clip
# is already a large matmul) and to fill a GPU, where hundreds of clips still fit.
DEFAULT_CAPS = {"cpu": 32, "cuda": 256}
# A length group accepts a shorter clip while the group's padding stays under this share of its audio.
PADDING_BUDGET = 0.25
# Padded audio per forward pass (samples): activations grow with it, and 32 one-minute clips at once would
# need gigabytes on the CPU. A clip longer than this still goes, alone.
AUDIO_CAPS = {"cpu": 16000 * 320, "cuda": 16000 * 3000}

Result = np.ndarray | WorkerError


def is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, torch.OutOfMemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, (RuntimeError, MemoryError)) and (
        "out of memory" in text or "can't allocate memory" in text or isinstance(err, MemoryError)
    )


def length_groups(
    lengths: Sequence[int], cap: int, budget: float = PADDING_BUDGET, max_samples: int | None = None
) -> list[list[int]]:
    """Indices grouped longest first: each group at most `cap` clips, padded to its longest by at most
    `budget` of its audio, and (with `max_samples`) at most that many padded samples unless one clip alone."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    total = 0
    for i in order:
        group = groups[-1] if groups else None
        if group is not None and len(group) < cap:
            longest = lengths[group[0]]
            fits = max_samples is None or longest * (len(group) + 1) <= max_samples
            if fits and longest * (len(group) + 1) <= (1 + budget) * (total + lengths[i]):
                group.append(i)
                total += lengths[i]
                continue
        groups.append([i])
        total = lengths[i]
    return groups


class Embedder:
    def __init__(self, encoder: Encoder, limits: AudioLimits, max_batch: int | None = None):
        if max_batch is not None and max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._encoder = encoder
        self._limits = limits
        device_type = str(encoder.device).split(":")[0]
        self._max_batch = max_batch or DEFAULT_CAPS.get(device_type, DEFAULT_CAPS["cpu"])
        self._cap = self._max_batch  # lowered by out-of-memory back-off
        self._pads = bool(getattr(encoder, "pads_to_longest", True))
        self._max_samples = AUDIO_CAPS.get(device_type, AUDIO_CAPS["cpu"])
        # One lock around the model: torch modules are not documented as safe for concurrent forwards, and
        # two forwards at once would only split the same CPU cores.
        self._lock = threading.Lock()
        # Counters have their own lock: reading them (service stats, on the event loop) must never wait for a
        # forward pass to finish.
        self._stats_lock = threading.Lock()
        self._stats = {
            "batches": 0,
            "clips": 0,
            "audio_seconds": 0.0,
            "errors": 0,
            "oom_backoffs": 0,
            "single_retries": 0,
        }
        self._waiting: collections.deque[tuple[list[np.ndarray], asyncio.Future[list[Result]]]] = (
            collections.deque()
        )
        self._drainer: asyncio.Task[None] | None = None
        self._decode_pool: ThreadPoolExecutor | None = None

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
        """Clips per forward pass now: the configured cap, or less after an out-of-memory back-off."""
        return self._cap

    @property
    def stats(self) -> dict:
        with self._stats_lock:
            return {**self._stats, "batch_cap": self._cap}

    @property
    def decode_pool(self) -> Executor:
        """Threads for decoding and resampling, so the next batch is ready when the forward pass ends."""
        if self._decode_pool is None:
            workers = max(1, min(4, usable_cores(), os.cpu_count() or 1))
            self._decode_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
        return self._decode_pool

    def close(self) -> None:
        if self._decode_pool is not None:
            self._decode_pool.shutdown(wait=False, cancel_futures=True)
            self._decode_pool = None

    # --- on the event loop ---------------------------------------------------------------------------

    async def submit(self, clips: Sequence[np.ndarray], executor: Executor) -> list[Result]:
        """One result per clip (a vector or the clip's own WorkerError), computed on `executor` in a forward
        pass shared with whatever else is waiting."""
        if not clips:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Result]] = loop.create_future()
        self._waiting.append((list(clips), future))
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain(executor), name="embedder-batches")
        return await future

    async def embed_decoded(self, clips: Sequence[Any], executor: Executor) -> None:
        """Embeds in one submit the clips that decoded (their `samples` set): sets each one's `vector` and
        `compute_ms` (the pass's time per clip), or its `error`, and its `quality`.

        The quality (VAD + SNR, a few ms a clip) is measured on the decode threads while the forward pass
        runs, not on the event loop after it. A measure that fails leaves `quality` None: the caller takes
        it again where its error fails that clip alone."""
        good = [clip for clip in clips if clip.samples is not None]
        if not good:
            return
        loop = asyncio.get_running_loop()
        qualities = [loop.run_in_executor(self.decode_pool, measure, clip.samples) for clip in good]
        try:
            started = time.perf_counter()
            results = await self.submit([clip.samples for clip in good], executor)
            compute_ms = (time.perf_counter() - started) * 1000 / len(good)
        finally:
            measured = await asyncio.gather(*qualities, return_exceptions=True)
        for clip, result, quality in zip(good, results, measured, strict=True):
            if not isinstance(quality, BaseException):
                clip.quality = quality
            if isinstance(result, WorkerError):
                clip.error = result
            else:
                clip.vector = np.asarray(result, dtype=np.float32)
                clip.compute_ms = compute_ms

    async def _drain(self, executor: Executor) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            taken: list[tuple[list[np.ndarray], asyncio.Future[list[Result]]]] = []
            count = 0
            while self._waiting and (not taken or count + len(self._waiting[0][0]) <= self._cap):
                clips, future = self._waiting.popleft()
                if future.done():  # its caller gave up
                    continue
                taken.append((clips, future))
                count += len(clips)
            if not taken:
                continue
            flat = [clip for clips, _ in taken for clip in clips]
            try:
                results = await loop.run_in_executor(executor, self.embed_each, flat)
            except BaseException as err:
                for _, future in taken:
                    if not future.done():
                        future.set_exception(err)
                if isinstance(err, asyncio.CancelledError):
                    raise
                continue
            offset = 0
            for clips, future in taken:
                if not future.done():
                    future.set_result(results[offset : offset + len(clips)])
                offset += len(clips)

    # --- on the inference thread ---------------------------------------------------------------------

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        """(len(clips), dim) float32 L2-normalised rows; raises the first clip's error if any clip fails."""
        dim = self._encoder.info.dim
        if not clips:
            return np.zeros((0, dim), dtype=np.float32)
        try:
            checked = [self._check(i, clip) for i, clip in enumerate(clips)]
        except WorkerError:
            self._count(errors=1)
            raise
        results = self.embed_each(checked)
        for result in results:
            if isinstance(result, WorkerError):
                raise result
        return np.stack(results).astype(np.float32, copy=False)  # type: ignore[arg-type]

    def embed_each(self, clips: Sequence[np.ndarray]) -> list[Result]:
        """One result per clip; never raises for a clip's sake. Invalid clips get their WorkerError without
        touching the model; a failing batch is retried clip by clip."""
        results: list[Result | None] = [None] * len(clips)
        good: list[int] = []
        for i, clip in enumerate(clips):
            try:
                clips_i = self._check(i, clip)
            except WorkerError as err:
                self._count(errors=1)
                results[i] = err
                continue
            results[i] = clips_i  # placeholder: the checked array
            good.append(i)
        prepared = {i: results[i] for i in good}
        lengths = [len(prepared[i]) for i in good]  # type: ignore[arg-type]
        with self._lock:
            groups = (
                length_groups(lengths, self._cap, max_samples=self._max_samples)
                if self._pads
                else self._chunks(len(good))
            )
            for group in groups:
                indices = [good[g] for g in group]
                for index, result in zip(
                    indices, self._embed_group([prepared[i] for i in indices]), strict=True
                ):
                    results[index] = result
        return results  # type: ignore[return-value]

    def _chunks(self, n: int) -> list[list[int]]:
        return [list(range(s, min(n, s + self._cap))) for s in range(0, n, self._cap)]

    def _embed_group(self, clips: list) -> list[Result]:
        try:
            return list(self._forward(clips))
        except Exception as err:
            if len(clips) == 1:
                return [self._failure(err)]
            log.warning(
                "a batch of %d failed (%s: %s); retrying its clips one by one",
                len(clips),
                type(err).__name__,
                str(err)[:200],
            )
            self._count(single_retries=1)
            out: list[Result] = []
            for clip in clips:
                try:
                    out.append(self._forward([clip])[0])
                except Exception as single:
                    out.append(self._failure(single))
            return out

    def _forward(self, clips: list) -> np.ndarray:
        """One forward pass, halved (recursively, and the cap with it) while it runs out of memory."""
        try:
            vectors = self._encoder.embed_batch(clips)
        except Exception as err:
            if not is_out_of_memory(err) or len(clips) == 1:
                raise
            self._release_memory()
            half = len(clips) // 2
            with self._stats_lock:
                self._cap = max(1, min(self._cap, half))
                self._stats["oom_backoffs"] += 1
            log.warning("out of memory at batch %d; halving (batch cap now %d)", len(clips), self._cap)
            return np.concatenate([self._forward(clips[:half]), self._forward(clips[half:])])
        self._count(batches=1, clips=len(clips), audio_seconds=sum(map(len, clips)) / TARGET_RATE)
        return np.asarray(vectors, dtype=np.float32)

    def _release_memory(self) -> None:
        release = getattr(getattr(self._encoder, "_runner", None), "release", None)
        if release is not None:
            release()
        if str(self._encoder.device).startswith("cuda"):
            torch.cuda.empty_cache()

    def _failure(self, err: Exception) -> WorkerError:
        self._count(errors=1)
        if isinstance(err, WorkerError):
            return err
        log.error("clip failed alone: %s: %s", type(err).__name__, err, exc_info=err)
        return WorkerError(
            "INTERNAL",
            f"The model failed on this clip: {type(err).__name__}: {str(err)[:300]}",
            details={"exception": type(err).__name__},
        )

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

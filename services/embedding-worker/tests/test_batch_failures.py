"""A forward pass that fails loses no clip: out of memory halves the batch (and lowers the cap), any other
failure retries the batch clip by clip, and only a clip that fails alone gets an error, its own.

The failures are real exceptions raised inside the real model's forward pass (a hook on the loaded ECAPA),
not a stand-in for the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dev_audio import clips_between
from ecapa_fixture import seeded_encoder

from speaker_worker.audio import AudioLimits
from speaker_worker.embedder import Embedder
from speaker_worker.errors import WorkerError


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    speech = clips_between(2.5, 6.0, 5)
    # 1.0-1.4 s cuts: cheap forwards, all different lengths.
    return [clip[: 16000 + 1600 * i] for i, clip in enumerate(speech)]


@pytest.fixture(scope="module")
def singles(clips) -> np.ndarray:
    return np.stack([seeded_encoder().embed_batch([clip])[0] for clip in clips])


class _Hook:
    """Raises `make()` from inside EcapaForward when `when(wavs, samples)` holds."""

    def __init__(self, when, make):
        self.when, self.make, self.batches, self.passed = when, make, [], []
        self._handle = seeded_encoder()._forward.register_forward_pre_hook(self)

    def __call__(self, _module, args):
        wavs, samples = args[0], args[1]
        self.batches.append(int(wavs.shape[0]))
        if self.when(wavs, samples):
            raise self.make()
        self.passed.append(int(wavs.shape[0]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.remove()


def test_out_of_memory_halves_the_batch_and_keeps_every_clip(clips, singles):
    embedder = Embedder(seeded_encoder(), AudioLimits(), max_batch=8)
    oom = lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")  # noqa: E731
    with _Hook(lambda wavs, _s: wavs.shape[0] > 2, oom) as hook:
        vectors = embedder.embed(clips)
    np.testing.assert_allclose(vectors, singles, atol=1e-5)
    assert hook.batches[0] == 5 and max(hook.passed) <= 2 and sum(hook.passed) == len(clips)
    stats = embedder.stats
    assert stats["oom_backoffs"] >= 1 and stats["batch_cap"] <= 2 and stats["errors"] == 0
    assert stats["clips"] == len(clips)
    # The lower cap sticks: the next call does not try the big batch again.
    with _Hook(lambda _w, _s: False, oom) as hook:
        embedder.embed(clips)
    assert max(hook.batches) <= 2


def test_a_clip_that_breaks_the_model_fails_alone_and_the_others_are_embedded(clips, singles):
    poison = len(clips[2])
    embedder = Embedder(seeded_encoder(), AudioLimits(), max_batch=8)
    boom = lambda: RuntimeError("unexpected kernel failure")  # noqa: E731
    with _Hook(lambda _w, samples: bool((samples == poison).any()), boom):
        results = embedder.embed_each(clips)
    assert isinstance(results[2], WorkerError) and results[2].code == "INTERNAL"
    assert "RuntimeError" in results[2].message
    for i in (0, 1, 3, 4):
        assert not isinstance(results[i], WorkerError)
        np.testing.assert_allclose(results[i], singles[i], atol=1e-5)
    assert embedder.stats["single_retries"] == 1 and embedder.stats["errors"] == 1


def test_out_of_memory_on_a_single_clip_is_that_clips_error(clips):
    embedder = Embedder(seeded_encoder(), AudioLimits(), max_batch=8)
    oom = lambda: torch.OutOfMemoryError("CUDA out of memory")  # noqa: E731
    with _Hook(lambda _w, samples: bool((samples == len(clips[0])).any()), oom):
        results = embedder.embed_each(clips[:2])
    assert isinstance(results[0], WorkerError) and results[0].code == "INTERNAL"
    assert not isinstance(results[1], WorkerError)

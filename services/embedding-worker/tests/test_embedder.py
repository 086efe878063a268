"""Embedder: chunking, the lock under concurrent callers, guards and counters, with the real GE2E model."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from dev_audio import clips_between
from ge2e_fixture import ge2e

from speaker_worker.audio import AudioLimits
from speaker_worker.embedder import Embedder
from speaker_worker.errors import WorkerError


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    return clips_between(2.5, 4.0, 5)


def test_chunks_give_the_same_rows_as_one_batch(clips):
    whole = Embedder(ge2e(), AudioLimits(), max_batch=16).embed(clips)
    chunked = Embedder(ge2e(), AudioLimits(), max_batch=2)
    np.testing.assert_allclose(chunked.embed(clips), whole, atol=1e-5)
    stats = chunked.stats
    assert stats["batches"] == 3 and stats["clips"] == 5 and stats["errors"] == 0
    assert stats["audio_seconds"] == pytest.approx(sum(len(c) for c in clips) / 16000)


def test_concurrent_callers_get_their_own_rows(clips):
    embedder = Embedder(ge2e(), AudioLimits(), max_batch=4)
    expected = [embedder.embed([c])[0] for c in clips]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: embedder.embed([c])[0], clips * 2))
    for i, row in enumerate(results):
        np.testing.assert_allclose(row, expected[i % len(clips)], atol=1e-5)
    assert embedder.stats["clips"] == 3 * len(clips)


def test_identity_and_empty_input():
    embedder = Embedder(ge2e(), AudioLimits(max_seconds=30.0))
    assert embedder.info.key == "resemblyzer/ge2e@0.1.4" and embedder.device == "cpu"
    assert embedder.limits.max_seconds == 30.0
    assert embedder.embed([]).shape == (0, 256)


@pytest.mark.parametrize(
    ("clip", "code"),
    [
        (np.full(8000, 0.1, np.float32), "AUDIO_TOO_SHORT"),
        (np.full(16000 * 61, 0.1, np.float32), "AUDIO_TOO_LONG"),
        (np.array([0.1] * 20000 + [np.nan], np.float32), "AUDIO_NON_FINITE"),
        (np.zeros((2, 20000), np.float32), "INVALID_REQUEST"),
    ],
)
def test_guards_count_errors(clips, clip, code):
    embedder = Embedder(ge2e(), AudioLimits())
    with pytest.raises(WorkerError) as err:
        embedder.embed([clips[0], clip])
    assert err.value.code == code and err.value.details["clip"] == 1
    assert embedder.stats["errors"] == 1 and embedder.stats["clips"] == 0


def test_counters_can_be_read_while_a_forward_pass_holds_the_model(clips):
    embedder = Embedder(ge2e(), AudioLimits())
    embedder.embed(clips[:1])
    seen: list[dict] = []
    with embedder._lock:  # as during a long forward pass on the inference thread
        reader = threading.Thread(target=lambda: seen.append(embedder.stats))
        reader.start()
        reader.join(timeout=5)
    assert seen and seen[0]["clips"] == 1, "reading stats waited for the model lock"

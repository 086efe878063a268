"""ECAPA through the worker's loading code, with the real small files and seeded same-shape weights:
shapes, determinism, and parity with speechbrain's own EncoderClassifier.encode_batch."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from dev_audio import clips_between
from ecapa_fixture import cache_dir, seeded_encoder, seeded_folder

from speaker_worker.models import load_encoder
from speaker_worker.models.ecapa import ECAPA_INFO


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    return clips_between(4.0, 7.0, 3)


@pytest.fixture(scope="module")
def batch(clips) -> np.ndarray:
    return seeded_encoder().embed_batch(clips)


@pytest.fixture(scope="module")
def singles(clips) -> np.ndarray:
    return np.stack([seeded_encoder().embed_batch([clip])[0] for clip in clips])


@pytest.fixture(scope="module")
def speechbrain_direct():
    """speechbrain's EncoderClassifier loaded by speechbrain itself from the same folder, not by our code."""
    from speechbrain.inference.classifiers import EncoderClassifier

    folder = seeded_folder()
    model = EncoderClassifier.from_hparams(
        source=str(folder),
        savedir=f"{cache_dir()}/direct",
        overrides={"pretrained_path": str(folder)},
        run_opts={"device": "cpu"},
    )
    model.eval()
    return model


def _direct(model, clips: list[np.ndarray]) -> np.ndarray:
    lengths = [len(c) for c in clips]
    wavs = torch.zeros(len(clips), max(lengths))
    for i, c in enumerate(clips):
        wavs[i, : len(c)] = torch.from_numpy(c)
    with torch.inference_mode():
        emb = model.encode_batch(wavs, torch.tensor(lengths, dtype=torch.float32) / max(lengths))
    emb = emb.reshape(len(clips), -1).numpy()
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_unverified_weights_get_their_own_key_and_embed_unit_rows(batch):
    encoder = seeded_encoder()
    # Seeded weights are not the pinned revision's: their vectors must never publish under its key.
    assert encoder.info.id == ECAPA_INFO.id and encoder.info.dim == 192
    assert encoder.info.revision.startswith("local-") and encoder.info != ECAPA_INFO
    assert encoder.info.key != "speechbrain/spkrec-ecapa-voxceleb@0f99f2d0ebe89ac095bcc5903c4dd8f72b367286"
    assert encoder.device == "cpu"
    assert batch.shape == (3, 192) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    # The output depends on the input: different recordings do not collapse onto one vector.
    assert float(batch[0] @ batch[1]) < 0.999


def test_is_deterministic_across_calls_and_loads(clips, batch, singles):
    np.testing.assert_array_equal(seeded_encoder().embed_batch(clips), batch)
    reloaded = load_encoder(
        "ecapa",
        device="cpu",
        cache_dir=cache_dir(),
        source=str(seeded_folder()),
        threads=None,
        log=logging.getLogger("test"),
    )
    assert reloaded is not seeded_encoder()
    np.testing.assert_allclose(reloaded.embed_batch(clips[:1])[0], singles[0], atol=1e-6)


def test_matches_speechbrain_encode_batch_per_clip(clips, batch, singles, speechbrain_direct):
    for i, clip in enumerate(clips):
        reference = _direct(speechbrain_direct, [clip])[0]
        assert float(singles[i] @ reference) >= 0.9999, f"clip {i} alone"
        assert float(batch[i] @ reference) >= 0.9999, f"clip {i} in a batch"


def test_matches_speechbrain_encode_batch_batched(clips, batch, speechbrain_direct):
    cosines = np.sum(batch * _direct(speechbrain_direct, clips), axis=1)
    assert (cosines >= 0.9999).all(), cosines

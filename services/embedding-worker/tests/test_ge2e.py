"""GE2E's batched path against resemblyzer's own embed_utterance on real speech."""

from __future__ import annotations

import logging
from functools import cache

import numpy as np
from dev_audio import clips_between
from resemblyzer import VoiceEncoder, preprocess_wav

from speaker_worker.models import Encoder, load_encoder
from speaker_worker.models.ge2e import GE2E_INFO


@cache
def ge2e() -> Encoder:
    return load_encoder(
        "ge2e", device="cpu", cache_dir="", source=None, threads=None, log=logging.getLogger("t")
    )


def test_batched_embeddings_match_embed_utterance():
    clips = clips_between(2.5, 15.0, 4)
    ours = ge2e().embed_batch(clips)
    assert ours.shape == (4, 256) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    reference_model = VoiceEncoder(device="cpu", verbose=False)
    for i, clip in enumerate(clips):
        # resemblyzer's documented use: preprocess_wav (volume + VAD trimming), then embed_utterance.
        reference = reference_model.embed_utterance(preprocess_wav(clip))
        assert float(ours[i] @ reference) >= 0.9999, f"clip {i}"


def test_carries_its_identity():
    encoder = ge2e()
    assert encoder.info == GE2E_INFO
    assert encoder.info.key == "resemblyzer/ge2e@0.1.4"
    assert encoder.info.dim == 256
    assert encoder.device == "cpu" and encoder.threads >= 1

"""GE2E's batched path against resemblyzer's own embed_utterance on real speech."""

from __future__ import annotations

import numpy as np
from dev_audio import clips_between
from ge2e_fixture import ge2e
from resemblyzer import VoiceEncoder, preprocess_wav

from speaker_worker.models.ge2e import GE2E_INFO


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


def test_a_clip_without_detected_speech_is_embedded_untrimmed():
    """A steady 100 Hz hum passes the silence check, but webrtcvad keeps none of it: the encoder falls back to
    the volume-normalised clip instead of failing or embedding nothing."""
    from resemblyzer.audio import normalize_volume, trim_long_silences
    from resemblyzer.hparams import audio_norm_target_dBFS

    hum = (0.1 * np.sin(2 * np.pi * 100 * np.arange(32000) / 16000)).astype(np.float32)
    normalised = normalize_volume(hum, audio_norm_target_dBFS, increase_only=True)
    assert trim_long_silences(normalised).size == 0  # the premise: VAD finds no speech
    ours = ge2e().embed_batch([hum])[0]
    assert np.isfinite(ours).all() and abs(float(np.linalg.norm(ours)) - 1) < 1e-5
    reference = VoiceEncoder(device="cpu", verbose=False).embed_utterance(normalised)
    assert float(ours @ reference) >= 0.9999

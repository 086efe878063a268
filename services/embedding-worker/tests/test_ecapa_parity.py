"""ECAPA batching is exact: each clip's embedding in any padded batch is speechbrain's own `encode_batch` of
that clip alone, for short (1-3 s) and long clips, and a batch costs no more compute than its clips alone.

The tolerance is set against how much different clips differ: the worst distance (1 - cosine) between our
vector and speechbrain's must be a tiny fraction of the smallest distance between two different clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dev_audio import clips_between
from ecapa_fixture import seeded_encoder

# Our error must stay under this share of the closest two different clips' distance.
SHARE_OF_CLIP_SPREAD = 1e-3


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    speech = clips_between(4.0, 8.0, 4)
    shorts = [
        speech[0][:16000],
        speech[1][: 16000 * 3 // 2 + 37],
        speech[2][: int(2.3 * 16000)],
        speech[3][:48000],
    ]
    longs = clips_between(12.0, 16.0, 2)
    return shorts + longs


@pytest.fixture(scope="module")
def reference(clips) -> np.ndarray:
    """speechbrain's EncoderClassifier.encode_batch of each clip alone (batch 1, its own length)."""
    return np.stack([seeded_encoder().reference_embed(clip) for clip in clips])


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1.0 - np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def _tolerance(reference: np.ndarray) -> float:
    spread = _distance(reference[:, None, :], reference[None, :, :])
    return SHARE_OF_CLIP_SPREAD * float(spread[~np.eye(len(reference), dtype=bool)].min())


def test_each_clip_alone_matches_speechbrain(clips, reference):
    alone = np.stack([seeded_encoder().embed_batch([clip])[0] for clip in clips])
    tolerance = _tolerance(reference)
    assert tolerance > 0
    worst = _distance(alone, reference)
    assert (worst <= tolerance).all(), (worst, tolerance)


def test_any_batch_gives_each_clip_its_alone_embedding(clips, reference):
    tolerance = _tolerance(reference)
    encoder = seeded_encoder()
    mixed = encoder.embed_batch(clips)  # 1 s next to 15 s: most rows are mostly padding
    shorts_only = encoder.embed_batch(clips[:4][::-1])[::-1]
    assert (_distance(mixed, reference) <= tolerance).all(), _distance(mixed, reference)
    assert (_distance(shorts_only, reference[:4]) <= tolerance).all()


def test_a_clip_costs_no_more_than_speechbrain_alone(clips):
    """No fixed tail or per-clip overhead: FLOPs for a 3 s clip at most those of encode_batch on it."""
    from torch.utils.flop_counter import FlopCounterMode

    encoder = seeded_encoder()
    clip = clips[3]

    def flops(fn) -> int:
        counter = FlopCounterMode(display=False)
        with counter, torch.inference_mode():
            fn()
        return int(counter.get_total_flops())

    ours = flops(lambda: encoder.embed_batch([clip]))
    theirs = flops(lambda: encoder.reference_embed(clip))
    assert ours <= theirs, (ours, theirs)
    # And a batch of n same-length clips costs n clips, not more.
    assert flops(lambda: encoder.embed_batch([clip] * 3)) <= 3 * ours * 1.001


def test_bf16_batching_is_exact_within_its_own_key(clips, reference):
    """The bf16 path (its own key, `+bf16`) keeps the rule: a clip's bf16 vector alone or in any batch is the
    same, to the same share of the clip spread; and it stays near speechbrain's fp32 vector."""
    encoder = seeded_encoder()
    tolerance = _tolerance(reference)
    encoder.set_precision("bf16")
    try:
        assert encoder.info.key.endswith("+bf16")
        alone = np.stack([encoder.embed_batch([clip])[0] for clip in clips])
        mixed = encoder.embed_batch(clips)
        shorts_only = encoder.embed_batch(clips[:4][::-1])[::-1]
    finally:
        encoder.set_precision("fp32")
    assert (_distance(mixed, alone) <= tolerance).all(), (_distance(mixed, alone), tolerance)
    assert (_distance(shorts_only, alone[:4]) <= tolerance).all()
    assert (_distance(alone, reference) <= 1e-3).all(), _distance(alone, reference)

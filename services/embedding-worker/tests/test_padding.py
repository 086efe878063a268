"""Padding: a clip's embedding alone and inside a padded batch with a much longer clip agree within 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
from dev_audio import clips_between
from ecapa_fixture import seeded_encoder
from ge2e_fixture import ge2e


@pytest.fixture(scope="module")
def short_and_long() -> tuple[list[np.ndarray], np.ndarray]:
    start = clips_between(2.5, 4.0, 1)[0]
    # 1.0 s (the shortest a worker accepts by default) and 1.7 s cuts of real speech, next to a 14-15 s clip.
    return [start[:16000], start[:27200]], clips_between(14.0, 15.0, 1)[0]


@pytest.mark.parametrize("encoder", [seeded_encoder, ge2e], ids=["ecapa-same-shape", "ge2e"])
def test_padding_does_not_move_an_embedding(encoder, short_and_long):
    shorts, long = short_and_long
    model = encoder()
    batch = model.embed_batch([shorts[0], long, shorts[1]])
    for i, clip in zip((0, 2), shorts, strict=True):
        alone = model.embed_batch([clip])[0]
        assert float(alone @ batch[i]) >= 1 - 1e-4, f"{len(clip) / 16000:.1f} s clip"
    assert float(model.embed_batch([long])[0] @ batch[1]) >= 1 - 1e-4

"""GE2E on real speech: every dev recording embedded once, every pair scored. Nothing here is tuned to these
recordings: the model, its preprocessing and the thresholds below are fixed a priori."""

from __future__ import annotations

import numpy as np
from dev_audio import dev_files, load
from ge2e_fixture import ge2e

from speaker_worker.audio import AudioLimits
from speaker_worker.embedder import Embedder
from speaker_worker.metrics import verification

MAX_EER = 0.05
# Mean cosine of same-speaker pairs must exceed that of different-speaker pairs by this much.
MIN_GAP = 0.1


def test_ge2e_separates_the_dev_speakers():
    files = dev_files()
    embeddings = Embedder(ge2e(), AudioLimits(), max_batch=16).embed([load(f) for f in files])
    assert np.isfinite(embeddings).all()
    result = verification(embeddings, [f.speaker for f in files])
    assert len({f.speaker for f in files}) >= 10 and result.pairs_same > 100
    print(
        f"\nGE2E on {len(files)} recordings: EER {result.eer:.2%} at cosine {result.threshold:.3f}, "
        f"mean same {result.mean_same:.3f}, mean different {result.mean_different:.3f}"
    )
    assert result.eer <= MAX_EER, result
    assert result.gap > MIN_GAP, result

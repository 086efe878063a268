"""Length groups and CUDA buckets: every clip once, caps respected, padding bounded."""

from __future__ import annotations

import numpy as np

from speaker_worker.embedder import PADDING_BUDGET, length_groups
from speaker_worker.models.cuda_runner import LENGTH_BUCKET_SAMPLES, bucket_rows, bucket_samples


def test_groups_cover_every_clip_once_within_cap_and_padding_budget():
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(16000, 16000 * 20, 200)]
    groups = length_groups(lengths, cap=16)
    assert sorted(i for g in groups for i in g) == list(range(200))
    for group in groups:
        assert 1 <= len(group) <= 16
        audio = sum(lengths[i] for i in group)
        assert max(lengths[i] for i in group) * len(group) <= (1 + PADDING_BUDGET) * audio + 1e-6


def test_equal_lengths_fill_whole_groups():
    assert [len(g) for g in length_groups([48000] * 40, cap=16)] == [16, 16, 8]


def test_cuda_buckets_round_up():
    assert [bucket_rows(n) for n in (1, 2, 3, 5, 200, 256)] == [1, 2, 4, 8, 256, 256]
    assert bucket_samples(1) == LENGTH_BUCKET_SAMPLES
    assert bucket_samples(48000) == 48000 and bucket_samples(48001) == 48000 + LENGTH_BUCKET_SAMPLES


def test_a_pass_holds_at_most_the_audio_cap_unless_one_clip_alone():
    minute = 16000 * 60
    groups = length_groups([minute] * 12 + [16000 * 400], cap=32, max_samples=16000 * 320)
    assert groups[0] == [12], "a clip over the cap goes alone"
    assert all(len(g) * minute <= 16000 * 320 for g in groups[1:])
    assert sorted(i for g in groups for i in g) == list(range(13))

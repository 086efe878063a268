"""EER and pair scoring on hand-checked cases (the TS CLI's eval mirrors these definitions)."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_worker.metrics import equal_error_rate, pair_scores, verification


def test_perfect_separation_has_zero_eer():
    eer, threshold = equal_error_rate(np.array([0.8, 0.9]), np.array([0.1, 0.2, 0.3]))
    assert eer == 0.0 and 0.3 < threshold <= 0.8


def test_fully_inverted_scores_have_eer_one():
    assert equal_error_rate(np.array([0.1, 0.2]), np.array([0.8, 0.9]))[0] == 1.0


def test_a_hand_computed_crossing():
    # same: 0.9 0.8 0.7 0.4 ; different: 0.75 0.3 0.2 0.1. At threshold 0.7: FRR 1/4 (0.4), FAR 1/4 (0.75).
    eer, threshold = equal_error_rate(np.array([0.9, 0.8, 0.7, 0.4]), np.array([0.75, 0.3, 0.2, 0.1]))
    assert eer == pytest.approx(0.25) and threshold == pytest.approx(0.7)


def test_pairs_are_every_unordered_pair_split_by_label():
    emb = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    scores = pair_scores(emb, ["a", "a", "b", "b"])
    np.testing.assert_allclose(sorted(scores.same), [0.8, 1.0])
    np.testing.assert_allclose(sorted(scores.different), [0.0, 0.0, 0.6, 0.6])
    result = verification(emb, ["a", "a", "b", "b"])
    assert (result.pairs_same, result.pairs_different) == (2, 4)
    assert result.gap == pytest.approx(0.9 - 0.3)


def test_needs_both_kinds_of_pairs():
    with pytest.raises(ValueError):
        equal_error_rate(np.array([]), np.array([0.1]))

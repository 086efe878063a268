"""Verification metrics over cosine scores, free of torch so the TS CLI's eval can mirror them line by line:
all pairs i < j, scores are dot products of L2-normalised rows, EER as defined in `equal_error_rate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairScores:
    same: np.ndarray  # cosine of every same-speaker pair
    different: np.ndarray  # cosine of every different-speaker pair


@dataclass(frozen=True)
class Verification:
    eer: float
    threshold: float  # the score at which false accepts and false rejects are (closest to) equal
    mean_same: float
    mean_different: float
    pairs_same: int
    pairs_different: int

    @property
    def gap(self) -> float:
        return self.mean_same - self.mean_different


def pair_scores(embeddings: np.ndarray, labels: Sequence[str]) -> PairScores:
    """Cosine of every unordered pair (i < j), split by whether the labels agree."""
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 2 or len(emb) != len(labels):
        raise ValueError(f"expected (n, dim) embeddings for {len(labels)} labels, got shape {emb.shape}")
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    scores = emb @ emb.T
    lab = np.asarray(labels)
    i, j = np.triu_indices(len(lab), k=1)
    same = lab[i] == lab[j]
    return PairScores(same=scores[i, j][same], different=scores[i, j][~same])


def equal_error_rate(same: np.ndarray, different: np.ndarray) -> tuple[float, float]:
    """(EER, threshold). A pair is accepted when its score >= threshold. Every distinct score is a candidate
    threshold (plus +inf, accepting nothing); at each, FAR = share of different-speaker pairs accepted and
    FRR = share of same-speaker pairs rejected. The EER is (FAR + FRR) / 2 where |FAR - FRR| is smallest,
    the lowest such threshold on ties."""
    same = np.asarray(same, dtype=np.float64)
    different = np.asarray(different, dtype=np.float64)
    if same.size == 0 or different.size == 0:
        raise ValueError("the EER needs at least one same-speaker and one different-speaker score")
    thresholds = np.append(np.unique(np.concatenate([same, different])), np.inf)
    same_sorted, diff_sorted = np.sort(same), np.sort(different)
    frr = np.searchsorted(same_sorted, thresholds, side="left") / same.size
    far = 1.0 - np.searchsorted(diff_sorted, thresholds, side="left") / different.size
    best = int(np.argmin(np.abs(far - frr)))
    return float((far[best] + frr[best]) / 2), float(thresholds[best])


def verification(embeddings: np.ndarray, labels: Sequence[str]) -> Verification:
    scores = pair_scores(embeddings, labels)
    eer, threshold = equal_error_rate(scores.same, scores.different)
    return Verification(
        eer=eer,
        threshold=threshold,
        mean_same=float(scores.same.mean()),
        mean_different=float(scores.different.mean()),
        pairs_same=int(scores.same.size),
        pairs_different=int(scores.different.size),
    )

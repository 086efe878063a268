"""Household augmentation on real speech: seeded, varied, and moving embeddings the way a home does."""

from __future__ import annotations

import numpy as np
import pytest
from dev_audio import dev_files, load

from speaker_worker.augment import augment
from speaker_worker.quality import measure

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _speech(n: int = 0) -> np.ndarray:
    return load(dev_files()[n])


def test_same_seed_same_copies_other_seed_other_copies():
    sample = _speech()
    a = augment(sample, 4, seed=11)
    b = augment(sample, 4, seed=11)
    c = augment(sample, 4, seed=12)
    assert all(np.array_equal(x.samples, y.samples) for x, y in zip(a, b, strict=True))
    assert [x.condition for x in a] == [y.condition for y in b]
    assert not np.array_equal(a[0].samples, c[0].samples)


def test_copies_cover_rooms_noise_and_short_crops():
    copies = augment(_speech(), 24, seed=3, babble=[_speech(40)])
    conditions = [c.condition for c in copies]
    assert any("room" in c for c in conditions)
    assert {c["noise"] for c in conditions} >= {"babble"}
    assert any(c["cropSeconds"] < 2.5 for c in conditions)
    for c in copies:
        assert np.isfinite(c.samples).all() and np.max(np.abs(c.samples)) <= 1.0


def test_noise_lowers_the_snr_estimate():
    sample = _speech()
    clean = measure(sample)
    noisy = [c for c in augment(sample, 24, seed=5) if c.condition.get("snrDb", 99) < 5]
    assert noisy, "some copies are at low SNR"
    assert all(measure(c.samples)["snrDb"] < clean["snrDb"] for c in noisy)
    assert 0 < clean["speechSeconds"] <= len(sample) / 16000


def test_multi_condition_voiceprint_scores_household_probes_of_its_speaker_higher():
    from ge2e_fixture import ge2e

    from speaker_worker.audio import AudioLimits
    from speaker_worker.embedder import Embedder

    embedder = Embedder(ge2e(), AudioLimits(min_seconds=0.5, max_seconds=60))
    files = dev_files()
    speaker = files[0].speaker
    own = [f for f in files if f.speaker == speaker]
    enroll, held_out = own[:2], own[2:4]
    clean = embedder.embed([load(f) for f in enroll])
    copies = [c.samples for f in enroll for c in augment(load(f), 8, seed=21)]
    multi = np.concatenate([clean, embedder.embed(copies)])
    # Household-condition probes of a recording that is in neither voiceprint, made with another seed.
    probes = embedder.embed([c.samples for f in held_out for c in augment(load(f), 6, seed=99)])

    def unit(x: np.ndarray) -> np.ndarray:
        m = x.mean(axis=0)
        return m / np.linalg.norm(m)

    clean_scores = probes @ unit(clean)
    multi_scores = probes @ unit(multi)
    assert float(np.mean(multi_scores)) > float(np.mean(clean_scores))


def test_the_ecapa_path_runs_through_the_augment_endpoint():
    """Same-shape seeded ECAPA weights: the endpoint's reply is valid for a 192-dim model too."""
    from ecapa_fixture import seeded_encoder

    from speaker_worker import contract
    from speaker_worker.audio import AudioLimits
    from speaker_worker.augment_endpoint import run_augment
    from speaker_worker.embedder import Embedder

    limits = AudioLimits(min_seconds=0.5, max_seconds=60)
    embedder = Embedder(seeded_encoder(), limits)
    sample = dev_files()[0].path.read_bytes()
    voice = dev_files()[40].path.read_bytes()
    meta = {
        "sample": {"length": len(sample), "format": "flac"},
        "babble": [{"length": len(voice), "format": "flac"}],
        "copies": 4,
        "seed": 1,
    }
    reply = run_augment(embedder, meta, sample + voice, [], limits)
    contract.validate("AugmentReply", reply)
    assert reply["model"]["dim"] == 192 and len(reply["copies"]) == 4
    assert all(len(c["vector"]) == 192 for c in reply["copies"])
    again = run_augment(embedder, meta, sample + voice, [], limits)
    assert again["copies"][0]["vector"] == reply["copies"][0]["vector"]

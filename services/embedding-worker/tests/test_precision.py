"""Reduced precision only behind the parity gate: a model whose bf16 output drifts from fp32 on real speech
is refused, and the model key says which precision produced a vector."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from dev_audio import clips_between
from ecapa_fixture import cache_dir, seeded_folder

from speaker_worker.errors import WorkerError
from speaker_worker.models import load_encoder
from speaker_worker.models.precision import PARITY_MIN_COSINE, choose_precision, cpu_flags, fast_precision

LOG = logging.getLogger("test.precision")


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    return [clip[:16000] for clip in clips_between(2.5, 6.0, 2)]


@pytest.fixture(scope="module")
def drifting(tmp_path_factory) -> Path:
    """Same-shape ECAPA whose last convolution's output (what the pooling's statistics are taken from) sits at
    an offset of 1e4: exact enough in fp32, hopeless in bf16 (8 bits of mantissa: a step of 64 at 1e4). (An
    offset that the layer's own batch norm removes again would not do: the worker folds each norm into its
    kernel in fp32, before the cast, and the offset cancels there.)"""
    folder = tmp_path_factory.mktemp("drifting")
    for item in seeded_folder().iterdir():
        (folder / item.name).write_bytes(item.read_bytes())
    state = torch.load(folder / "embedding_model.ckpt", map_location="cpu")
    offset = 1e4
    state["mfa.norm.norm.bias"] += offset
    # ... which the pooling takes out again (exactly, in fp32): its attention layer's bias and the mean half
    # of its batch norm.
    channels = state["mfa.norm.norm.bias"].shape[0]
    state["asp.tdnn.conv.conv.bias"] -= offset * state["asp.tdnn.conv.conv.weight"][:, : 2 * channels, 0].sum(
        1
    )
    state["asp_bn.norm.running_mean"][:channels] += offset
    torch.save(state, folder / "embedding_model.ckpt")
    return folder


def _load(folder: Path, precision: str = "fp32"):
    return load_encoder(
        "ecapa",
        device="cpu",
        cache_dir=cache_dir(),
        source=str(folder),
        threads=None,
        log=LOG,
        precision=precision,
    )


def test_the_gate_refuses_a_model_whose_bf16_drifts(drifting, speech, caplog):
    encoder = _load(drifting)
    with pytest.raises(WorkerError) as err:
        choose_precision(encoder, "bf16", speech, LOG)
    assert err.value.code == "MODEL_UNAVAILABLE" and err.value.details["minCosine"] < PARITY_MIN_COSINE
    assert encoder.precision == "fp32" and "+bf16" not in encoder.info.key
    # Asked for "auto" on hardware that has bf16, the worker stays at fp32 and says so loudly.
    caplog.set_level(logging.ERROR)
    import speaker_worker.models.precision as precision

    original = precision.fast_precision
    precision.fast_precision = lambda _device: "bf16"
    try:
        assert choose_precision(encoder, "auto", speech, LOG) == "fp32"
    finally:
        precision.fast_precision = original
    assert any("REFUSING bf16" in r.getMessage() for r in caplog.records)


def test_an_unchecked_precision_is_refused_without_speech(drifting):
    with pytest.raises(WorkerError) as err:
        choose_precision(_load(drifting), "bf16", [], LOG)
    assert "no speech" in err.value.message


def test_the_key_says_the_precision(speech):
    encoder = _load(seeded_folder())
    fp32_key = encoder.info.key
    encoder.set_precision("bf16")
    try:
        assert encoder.info.key == f"{fp32_key}+bf16"
        assert encoder.embed_batch(speech[:1]).dtype == np.float32
    finally:
        encoder.set_precision("fp32")
    assert encoder.info.key == fp32_key


def test_cpu_bf16_only_where_the_flags_say_so():
    flags = cpu_flags()
    expected = "bf16" if {"amx_bf16", "avx512_bf16"} & flags else "fp32"
    assert fast_precision("cpu") == expected

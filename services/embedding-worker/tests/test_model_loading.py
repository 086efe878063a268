"""load_encoder's choices: verification of pinned files, local folders, the hub, and the GE2E fallback."""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch
from ecapa_fixture import seeded_folder, small_files_dir

from speaker_worker.errors import WorkerError
from speaker_worker.models import ModelInfo, load_encoder, pick_device
from speaker_worker.models.ecapa import ECAPA_REPO, ECAPA_REVISION
from speaker_worker.models.seeded_ecapa import write_seeded_ecapa
from speaker_worker.models.verify import ECAPA_FILES, ECAPA_SMALL_FILES, ECAPA_WEIGHT_FILES

LOG = logging.getLogger("test.load")


def _load(choice, *, source=None, cache_dir="", verify=None):
    return load_encoder(
        choice, device="cpu", cache_dir=str(cache_dir), source=source, threads=None, log=LOG, verify=verify
    )


def _linked_copy(dest: Path) -> Path:
    """A model folder: copies of the small files (safe to tamper with), links to the seeded weights."""
    dest.mkdir(parents=True)
    for name in ECAPA_SMALL_FILES:
        shutil.copyfile(seeded_folder() / name, dest / name)
    for name in ECAPA_WEIGHT_FILES:
        os.symlink(seeded_folder() / name, dest / name)
    return dest


@pytest.fixture
def hub_unreachable(monkeypatch) -> str:
    """Points the hub client at a local port nobody listens on: a real connection attempt, refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return endpoint


@pytest.mark.parametrize("name", ["hyperparams.yaml", "mean_var_norm_emb.ckpt", "label_encoder.txt"])
def test_a_tampered_small_file_fails_verification_naming_it(tmp_path, name):
    folder = _linked_copy(tmp_path / "model")
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, different content: only the hash can tell
    (folder / name).write_bytes(bytes(data))
    with pytest.raises(WorkerError) as err:
        _load("ecapa", source=str(folder), cache_dir=tmp_path / "cache")
    assert err.value.code == "MODEL_VERIFY_FAILED" and err.value.status == 500
    assert err.value.details["file"] == name
    assert ECAPA_FILES[name].sha256 in err.value.message
    assert err.value.details["actualSha256"] != ECAPA_FILES[name].sha256


def test_an_unverified_local_folder_loads_under_a_key_of_its_own(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    encoder = _load("ecapa", source=str(seeded_folder()), cache_dir=tmp_path)
    assert encoder.info.dim == 192
    assert any(
        "NOT those of revision" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )
    loaded = [r.getMessage() for r in caplog.records if r.getMessage().startswith("model loaded")]
    assert loaded and "device=cpu" in loaded[-1]
    assert f"revision={ECAPA_REVISION}" not in loaded[-1] and "revision=local-" in loaded[-1]
    # The key follows the weights: the same folder loads under the same key, other weights under another.
    assert _load("ecapa", source=str(seeded_folder()), cache_dir=tmp_path).info == encoder.info
    other = write_seeded_ecapa(tmp_path / "other", small_files_dir(), seed=1)
    assert _load("ecapa", source=str(other), cache_dir=tmp_path).info.revision != encoder.info.revision


def test_strict_verification_rejects_weights_that_are_not_the_pinned_ones(tmp_path):
    with pytest.raises(WorkerError) as err:
        _load("ecapa", source=str(seeded_folder()), cache_dir=tmp_path, verify="strict")
    assert err.value.code == "MODEL_VERIFY_FAILED"
    assert err.value.details["file"] == "embedding_model.ckpt"


def test_a_hub_cache_is_verified_in_full(tmp_path, hub_unreachable):
    """The hub path checks all five files: a cached snapshot with seeded weights is refused, not loaded."""
    snapshot = tmp_path / f"models--{ECAPA_REPO.replace('/', '--')}" / "snapshots" / ECAPA_REVISION
    _linked_copy(snapshot)
    for choice in ("ecapa", None):  # a bad cache is an error even when GE2E could stand in
        with pytest.raises(WorkerError) as err:
            _load(choice, cache_dir=tmp_path)
        assert err.value.code == "MODEL_VERIFY_FAILED"
        assert err.value.details["file"] == "embedding_model.ckpt"
        assert str(ECAPA_FILES["embedding_model.ckpt"].size) in err.value.message


def test_ecapa_chosen_and_hub_unreachable_fails_with_the_reason(tmp_path, hub_unreachable):
    with pytest.raises(WorkerError) as err:
        _load("ecapa", cache_dir=tmp_path)
    assert err.value.code == "MODEL_UNAVAILABLE" and err.value.status == 503
    assert f"cannot reach {hub_unreachable}" in err.value.message
    assert "MODEL_SOURCE" in err.value.hint


def test_no_choice_and_hub_unreachable_falls_back_to_ge2e_loudly(tmp_path, hub_unreachable, caplog):
    caplog.set_level(logging.INFO)
    encoder = _load(None, cache_dir=tmp_path)
    assert encoder.info == ModelInfo("resemblyzer/ge2e", "0.1.4", 256)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("FALLING BACK TO GE2E" in w and f"cannot reach {hub_unreachable}" in w for w in warnings)


def test_offline_mode_fails_without_touching_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WorkerError) as err:
        _load("ecapa", cache_dir=tmp_path)
    assert err.value.code == "MODEL_UNAVAILABLE" and "HF_HUB_OFFLINE" in err.value.message


def test_a_missing_local_folder_is_unavailable_even_without_an_explicit_choice(tmp_path):
    with pytest.raises(WorkerError) as err:
        _load(None, source=str(tmp_path / "nope"), cache_dir=tmp_path)
    assert err.value.code == "MODEL_UNAVAILABLE" and "nope" in err.value.message


def test_an_unknown_model_name_is_refused():
    with pytest.raises(WorkerError) as err:
        _load("whisper")
    assert err.value.code == "MODEL_UNAVAILABLE" and "ecapa, ge2e" in err.value.message


def test_device_defaults_to_cuda_only_when_present():
    assert pick_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(WorkerError) as err:
            pick_device("cuda")
        assert err.value.code == "MODEL_UNAVAILABLE" and "CUDA is not available" in err.value.message

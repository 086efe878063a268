"""Same-shape ECAPA for tests: the real small files, seeded weights, loaded through the worker's own code.

Cached per process so every test module shares one folder and one loaded model."""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cache
from pathlib import Path

import pytest

from speaker_worker.models import Encoder, load_encoder
from speaker_worker.models.seeded_ecapa import write_seeded_ecapa

REPO_ROOT = Path(__file__).resolve().parents[3]
LOG = logging.getLogger("test.ecapa")


def small_files_dir() -> Path:
    folder = Path(
        os.environ.get(
            "SPEAKERS_ECAPA_SMALL_FILES", REPO_ROOT.parent / "shared" / "models" / "spkrec-ecapa-voxceleb"
        )
    )
    if not (folder / "hyperparams.yaml").is_file():
        pytest.skip(f"no ECAPA small files at {folder}; set SPEAKERS_ECAPA_SMALL_FILES")
    return folder


_TMP = tempfile.TemporaryDirectory(prefix="seeded-ecapa-")  # removed when the test process exits


@cache
def seeded_folder() -> Path:
    """A model folder: real hyperparams.yaml, mean_var_norm_emb.ckpt, label_encoder.txt + seeded weights."""
    return write_seeded_ecapa(Path(_TMP.name) / "model", small_files_dir(), seed=0)


def cache_dir() -> str:
    return str(Path(_TMP.name) / "cache")


@cache
def seeded_encoder() -> Encoder:
    return load_encoder(
        "ecapa", device="cpu", cache_dir=cache_dir(), source=str(seeded_folder()), threads=None, log=LOG
    )

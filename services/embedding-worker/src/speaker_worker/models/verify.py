"""Pinned sizes and sha256 of model files, and the check that a folder holds exactly those files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkerError


@dataclass(frozen=True)
class PinnedFile:
    size: int
    sha256: str


# speechbrain/spkrec-ecapa-voxceleb @ 0f99f2d0ebe89ac095bcc5903c4dd8f72b367286 (hub LFS pointers and blobs).
ECAPA_FILES: Mapping[str, PinnedFile] = {
    "hyperparams.yaml": PinnedFile(1919, "6f78854fa04ba59e761437b76a2575d3aba5e5016de3e9b69f0c9a5077fb1a41"),
    "mean_var_norm_emb.ckpt": PinnedFile(
        1921, "cd70225b05b37be64fc5a95e24395d804231d43f74b2e1e5a513db7b69b34c33"
    ),
    "label_encoder.txt": PinnedFile(
        128619, "e13c3a167bb4112685670ee896d20e2b565af16b3a4ceeaa8689fa4d22adb8b9"
    ),
    "embedding_model.ckpt": PinnedFile(
        83316686, "0575cb64845e6b9a10db9bcb74d5ac32b326b8dc90352671d345e2ee3d0126a2"
    ),
    "classifier.ckpt": PinnedFile(
        5534328, "fd9e3634fe68bd0a427c95e354c0c677374f62b3f434e45b78599950d860d535"
    ),
}
ECAPA_SMALL_FILES = ("hyperparams.yaml", "mean_var_norm_emb.ckpt", "label_encoder.txt")
ECAPA_WEIGHT_FILES = ("embedding_model.ckpt", "classifier.ckpt")

# resemblyzer 0.1.4's bundled pretrained.pt: the package version alone does not prove which weights are there.
GE2E_WEIGHTS = PinnedFile(17090379, "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, pinned: PinnedFile, *, model: str) -> None:
    """Raises MODEL_VERIFY_FAILED naming the file, the expected and the actual size or hash."""
    name = path.name
    if not path.is_file():
        raise WorkerError(
            "MODEL_VERIFY_FAILED",
            f"{model}: {name} is missing from {path.parent}.",
            details={"file": name, "folder": str(path.parent)},
        )
    size = path.stat().st_size
    if size != pinned.size:
        raise WorkerError(
            "MODEL_VERIFY_FAILED",
            f"{model}: {name} is {size} bytes, expected {pinned.size}.",
            details={"file": name, "expectedSize": pinned.size, "actualSize": size},
        )
    actual = sha256_of(path)
    if actual != pinned.sha256:
        raise WorkerError(
            "MODEL_VERIFY_FAILED",
            f"{model}: {name} has sha256 {actual}, expected {pinned.sha256}.",
            details={"file": name, "expectedSha256": pinned.sha256, "actualSha256": actual},
        )


def verify_folder(folder: Path, names: Iterable[str], *, model: str = "ecapa") -> None:
    for name in names:
        verify_file(folder / name, ECAPA_FILES[name], model=model)

"""Same-shape ECAPA weights from a seeded init, for tests and the benchmark on machines without the hub.

They exercise the real loading and inference code (and cost the same FLOPs) but carry no speaker knowledge:
never use them for accuracy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from .verify import ECAPA_SMALL_FILES

# The architecture hyperparams.yaml declares for the pinned revision.
N_MELS = 80
N_SPEAKERS = 7205


def write_seeded_ecapa(folder: Path, small_files: Path, *, seed: int = 0) -> Path:
    """Writes embedding_model.ckpt and classifier.ckpt (speechbrain's own ECAPA_TDNN and Classifier at a
    seeded init) plus copies of the real small files into `folder`; returns `folder`."""
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN, Classifier

    folder.mkdir(parents=True, exist_ok=True)
    for name in ECAPA_SMALL_FILES:
        shutil.copyfile(small_files / name, folder / name)
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        encoder = ECAPA_TDNN(
            input_size=N_MELS,
            channels=[1024, 1024, 1024, 1024, 3072],
            kernel_sizes=[5, 3, 3, 3, 1],
            dilations=[1, 2, 3, 4, 1],
            attention_channels=128,
            lin_neurons=192,
        )
        classifier = Classifier(input_size=192, out_neurons=N_SPEAKERS)
    finally:
        torch.random.set_rng_state(generator_state)
    torch.save(encoder.state_dict(), folder / "embedding_model.ckpt")
    torch.save(classifier.state_dict(), folder / "classifier.ckpt")
    return folder

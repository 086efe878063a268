"""Speaker encoders behind one interface, and `load_encoder`, which picks, fetches, verifies and loads one."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ..errors import WorkerError

CHOICES = ("ecapa", "ge2e")


@dataclass(frozen=True)
class ModelInfo:
    id: str
    revision: str
    dim: int

    @property
    def key(self) -> str:
        return f"{self.id}@{self.revision}"


class Encoder(Protocol):
    info: ModelInfo
    device: str
    threads: int

    def embed_batch(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 L2-normalised rows for float32 mono 16 kHz clips, in one forward pass."""
        ...


def pick_device(device: str | None) -> str:
    if not device:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise WorkerError("MODEL_UNAVAILABLE", f"Unknown device {device!r}: {exc}.") from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise WorkerError(
            "MODEL_UNAVAILABLE",
            f"Device {device!r} was requested but CUDA is not available on this machine.",
            hint="Leave the device unset to use CUDA when present and the CPU otherwise.",
        )
    return str(parsed)


def apply_threads(threads: int | None) -> int:
    """Sets torch's intra-op threads when asked (process-wide), and reports the number in use."""
    if threads is not None:
        if threads < 1:
            raise WorkerError("MODEL_UNAVAILABLE", f"Thread count must be at least 1, got {threads}.")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def load_encoder(
    choice: str | None,
    *,
    device: str | None,
    cache_dir: str,
    source: str | None,
    threads: int | None,
    log: logging.Logger,
    verify: str | None = None,
) -> Encoder:
    """choice "ecapa" | "ge2e" | None. None means ECAPA if it can be obtained, else GE2E with a loud warning;
    an explicit "ecapa" (or a local `source` folder) fails with the reason instead. `verify` ("strict" to hash
    a local folder's weights too) defaults to the MODEL_VERIFY environment variable."""
    from .ecapa import load_ecapa
    from .ge2e import load_ge2e

    picked = (choice or "").strip().lower() or None
    if picked not in (None, *CHOICES):
        raise WorkerError(
            "MODEL_UNAVAILABLE",
            f"Unknown model {choice!r}; choose one of {', '.join(CHOICES)} (or leave it unset).",
        )
    dev = pick_device(device)
    nthreads = apply_threads(threads)
    strict = (
        verify if verify is not None else os.environ.get("MODEL_VERIFY", "")
    ).strip().lower() == "strict"

    encoder: Encoder
    if picked == "ge2e":
        encoder = load_ge2e(device=dev, threads=nthreads, log=log)
    elif picked == "ecapa" or source:
        encoder = load_ecapa(
            device=dev, threads=nthreads, cache_dir=cache_dir, source=source, strict=strict, log=log
        )
    else:
        try:
            encoder = load_ecapa(
                device=dev, threads=nthreads, cache_dir=cache_dir, source=None, strict=strict, log=log
            )
        except WorkerError as exc:
            # Only "cannot obtain it" falls back; files that fail verification stay an error, never a
            # silently different model.
            if exc.code != "MODEL_UNAVAILABLE":
                raise
            log.warning(
                "!!! ECAPA (speechbrain/spkrec-ecapa-voxceleb) is unavailable: %s -- FALLING BACK TO GE2E "
                "(resemblyzer/ge2e@0.1.4, 256-dim). Its embeddings are not comparable with ECAPA's; set the "
                "model explicitly, or make the hub reachable or set MODEL_SOURCE to a local copy to use "
                "ECAPA.",
                exc.message,
            )
            encoder = load_ge2e(device=dev, threads=nthreads, log=log)
    log.info(
        "model loaded: %s (dim %d) device=%s threads=%d revision=%s",
        encoder.info.id,
        encoder.info.dim,
        encoder.device,
        encoder.threads,
        encoder.info.revision,
    )
    return encoder


__all__ = ["CHOICES", "Encoder", "ModelInfo", "apply_threads", "load_encoder", "pick_device"]

"""Speaker encoders behind one interface, and `load_encoder`, which picks, fetches, verifies and loads one."""

from __future__ import annotations

import contextlib
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


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's cpuset), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def apply_threads(threads: int | None) -> int:
    """Sets torch's intra-op threads (process-wide): the number asked for, else one per usable core (torch's
    own default counts the machine's cores, which oversubscribes a process pinned to fewer); inter-op work
    gets one thread, since the worker runs one forward pass at a time. Reports the number in use."""
    if threads is not None and threads < 1:
        raise WorkerError("MODEL_UNAVAILABLE", f"Thread count must be at least 1, got {threads}.")
    wanted = threads or usable_cores()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    with contextlib.suppress(RuntimeError):  # only settable before the first parallel op
        torch.set_num_interop_threads(1)
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
    precision: str | None = None,
    parity_audio: Sequence[str] = (),
) -> Encoder:
    """choice "ecapa" | "ge2e" | None. None means ECAPA if it can be obtained, else GE2E with a loud
    warning; an explicit "ecapa" (or a local `source` folder) fails with the reason instead. `verify`
    ("strict" to hash a local folder's weights too) defaults to the MODEL_VERIFY environment variable.
    `precision` ("auto", "fp32", "bf16", "fp16"; default MODEL_PRECISION, else auto) is checked against fp32
    on speech found in `parity_audio` (files or folders; MODEL_PARITY_AUDIO first) before it is used."""
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
    wanted = precision if precision is not None else os.environ.get("MODEL_PRECISION")
    if hasattr(encoder, "set_precision"):
        from .precision import choose_precision

        choose_precision(encoder, wanted, lambda: parity_speech(parity_audio), log)
    log.info(
        "model loaded: %s (dim %d) device=%s threads=%d revision=%s",
        encoder.info.id,
        encoder.info.dim,
        encoder.device,
        encoder.threads,
        encoder.info.revision,
    )
    return encoder


def parity_speech(places: Sequence[str], count: int = 6, seconds: float = 4.0) -> list[np.ndarray]:
    """Up to `count` clips of real speech for the precision gate, from MODEL_PARITY_AUDIO, then `places`
    (audio files or folders searched for .flac/.wav), each cut to at most `seconds`."""
    from ..audio import TARGET_RATE, read_audio_file

    roots = [p for p in os.environ.get("MODEL_PARITY_AUDIO", "").split(os.pathsep) if p] + list(places)
    files: list[tuple[str, str]] = []
    for root in roots:
        path = os.path.realpath(os.path.expanduser(root))
        if os.path.isfile(path):
            files.append((path, os.path.dirname(path)))
            continue
        for dirpath, _dirs, names in sorted(os.walk(path)):
            files += [
                (os.path.join(dirpath, n), path) for n in sorted(names) if n.endswith((".flac", ".wav"))
            ]
            if len(files) >= count * 4:
                break
    clips: list[np.ndarray] = []
    for file, root in files:
        try:
            clip = read_audio_file(file, [root])
        except WorkerError:
            continue
        clips.append(clip[: int(seconds * TARGET_RATE)])
        if len(clips) >= count:
            break
    return clips


__all__ = [
    "CHOICES",
    "Encoder",
    "ModelInfo",
    "apply_threads",
    "load_encoder",
    "parity_speech",
    "pick_device",
    "usable_cores",
]

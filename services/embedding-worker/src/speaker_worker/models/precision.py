"""Reduced precision where the hardware has it, behind a parity gate on real speech.

bf16 autocast pays on CPUs with AMX or AVX-512 BF16 (elsewhere it is emulated and slower than fp32) and on
CUDA; fp16 on CUDA GPUs without bf16. A precision other than fp32 is taken only after its embeddings of real
speech agree with fp32's (cosine >= PARITY_MIN_COSINE for every clip); the model key then says which
precision produced a vector (`<revision>+bf16`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import WorkerError

PRECISIONS = ("fp32", "bf16", "fp16")
PARITY_MIN_COSINE = 0.999
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def autocast(device: str, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=DTYPES[precision])


def with_precision(info, precision: str):
    """The model info whose key names the precision (fp32 keeps the plain key)."""
    if precision == "fp32":
        return info
    return replace(info, revision=f"{info.revision}+{precision}")


def cpu_flags(path: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = path.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def fast_precision(device: str) -> str:
    """The reduced precision this device runs natively, or fp32 when it has none."""
    if torch.device(device).type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_flags() & set(CPU_BF16_FLAGS) else "fp32"


@dataclass(frozen=True)
class ParityResult:
    precision: str
    min_cosine: float
    clips: int

    @property
    def passed(self) -> bool:
        return self.min_cosine >= PARITY_MIN_COSINE


def parity(encoder, precision: str, speech: Sequence[np.ndarray]) -> ParityResult:
    """Embeds `speech` at fp32 and at `precision` with the same encoder; the worst cosine between the two."""
    previous = encoder.precision
    try:
        encoder.set_precision("fp32")
        reference = np.stack([encoder.embed_batch([clip])[0] for clip in speech])
        encoder.set_precision(precision)
        fast = np.stack([encoder.embed_batch([clip])[0] for clip in speech])
    finally:
        encoder.set_precision(previous)
    cosines = np.sum(reference * fast, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(fast, axis=1)
    )
    return ParityResult(precision=precision, min_cosine=float(np.min(cosines)), clips=len(speech))


def choose_precision(
    encoder,
    requested: str | None,
    speech: Sequence[np.ndarray] | Callable[[], Sequence[np.ndarray]],
    log: logging.Logger,
) -> str:
    """Sets and returns the encoder's precision. `requested` "auto"/None picks the device's fast precision if
    it passes the gate, else fp32 with a loud warning; an explicit bf16/fp16 that fails (or cannot be
    checked for want of speech) is refused with MODEL_UNAVAILABLE."""
    wanted = (requested or "auto").strip().lower()
    if wanted not in ("auto", *PRECISIONS):
        raise WorkerError(
            "MODEL_UNAVAILABLE", f"Unknown precision {requested!r}; use auto, {', '.join(PRECISIONS)}."
        )
    explicit = wanted != "auto"
    target = wanted if explicit else fast_precision(encoder.device)
    if target == "fp32" or not hasattr(encoder, "set_precision"):
        if explicit and target != "fp32":
            raise WorkerError("MODEL_UNAVAILABLE", f"This model cannot run at {target}.")
        return "fp32"
    if callable(speech):
        speech = speech()
    if not speech:
        message = (
            f"{target} was not checked against fp32: no speech to check with (set MODEL_PARITY_AUDIO to a "
            "folder of recordings, or AUDIO_ROOTS)"
        )
        if explicit:
            raise WorkerError("MODEL_UNAVAILABLE", message + ".")
        log.warning("!!! %s; staying at fp32.", message)
        return "fp32"
    result = parity(encoder, target, speech)
    if not result.passed:
        message = (
            f"{target} embeddings drift from fp32: worst cosine {result.min_cosine:.5f} over {result.clips} "
            f"speech clips, below the {PARITY_MIN_COSINE} gate"
        )
        if explicit:
            raise WorkerError("MODEL_UNAVAILABLE", message + ".", details={"minCosine": result.min_cosine})
        log.error("!!! REFUSING %s: %s; staying at fp32.", target, message)
        return "fp32"
    encoder.set_precision(target)
    log.info(
        "precision %s: worst cosine to fp32 %.5f over %d speech clips",
        target,
        result.min_cosine,
        result.clips,
    )
    return target

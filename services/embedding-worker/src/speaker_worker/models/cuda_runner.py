"""ECAPA on CUDA: padded batches bucketed by size and length, staged in pinned host memory, copied without
blocking, and replayed as one captured CUDA graph per (batch, length) bucket.

Buckets keep the number of graphs small (a batch is padded to the next power of two rows, a clip length to
the next half second); because `EcapaForward` treats each row at its own length, padding to a bucket never
changes an embedding. Padding rows repeat the first clip and are dropped. If a graph cannot be captured (an
op that is not capturable on this torch/driver) the runner logs it once and runs eagerly from then on."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from .precision import autocast

log = logging.getLogger("speaker_worker.cuda")

LENGTH_BUCKET_SAMPLES = 8000  # half a second at 16 kHz


def bucket_rows(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def bucket_samples(n: int) -> int:
    return -(-n // LENGTH_BUCKET_SAMPLES) * LENGTH_BUCKET_SAMPLES


class CudaRunner:
    def __init__(self, forward: torch.nn.Module, device: str, *, graphs: bool = True):
        self.device = torch.device(device)
        self.forward = forward.to(self.device)
        # speechbrain keeps its STFT window as a plain attribute and moves it on every call; a host-to-device
        # copy of pageable memory cannot be captured, so put every such tensor on the device once.
        for module in self.forward.fbank.modules():
            for name, value in list(vars(module).items()):
                if isinstance(value, torch.Tensor) and value.device != self.device:
                    setattr(module, name, value.to(self.device))
        self.graphs = graphs
        self.precision = "fp32"
        self._captured: dict[
            tuple[int, int], tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor, torch.Tensor]
        ] = {}
        self._host: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def set_precision(self, precision: str) -> None:
        self.precision = precision
        self._captured.clear()

    def release(self) -> None:
        """Drops every captured graph (their memory pools with them), e.g. after an out-of-memory error."""
        self._captured.clear()
        torch.cuda.empty_cache()

    def _staging(self, rows: int, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        key = (rows, samples)
        if key not in self._host:
            self._host[key] = (
                torch.empty(rows, samples, dtype=torch.float32, pin_memory=True),
                torch.empty(rows, dtype=torch.int64, pin_memory=True),
            )
        return self._host[key]

    def __call__(self, clips: Sequence[np.ndarray]) -> torch.Tensor:
        n = len(clips)
        rows, samples = bucket_rows(n), bucket_samples(max(len(c) for c in clips))
        wavs, lengths = self._staging(rows, samples)
        wavs.zero_()
        for i in range(rows):
            clip = np.asarray(clips[i if i < n else 0], dtype=np.float32)
            wavs[i, : len(clip)] = torch.from_numpy(clip)
            lengths[i] = len(clip)
        with torch.inference_mode():
            if self.graphs:
                try:
                    return self._replay(wavs, lengths)[:n].clone()
                except torch.OutOfMemoryError:
                    raise
                except Exception as err:  # capture unsupported here: run eagerly from now on
                    log.warning(
                        "CUDA graph capture failed (%s: %s); running eagerly", type(err).__name__, err
                    )
                    self.graphs = False
                    self._captured.clear()
            dev_wavs = wavs.to(self.device, non_blocking=True)
            dev_lengths = lengths.to(self.device, non_blocking=True)
            with autocast(str(self.device), self.precision):
                return self.forward(dev_wavs, dev_lengths, uniform=False)[:n]

    def _replay(self, wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        key = tuple(wavs.shape)
        entry = self._captured.get(key)  # type: ignore[arg-type]
        if entry is None:
            entry = self._capture(wavs, lengths)
            self._captured[key] = entry  # type: ignore[index]
        graph, static_wavs, static_lengths, static_out = entry
        static_wavs.copy_(wavs, non_blocking=True)
        static_lengths.copy_(lengths, non_blocking=True)
        graph.replay()
        return static_out

    def _capture(self, wavs: torch.Tensor, lengths: torch.Tensor):
        static_wavs = wavs.to(self.device)
        static_lengths = lengths.to(self.device)
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream), autocast(str(self.device), self.precision):
            for _ in range(2):  # warm-up: cuDNN/cuBLAS choose their kernels outside the capture
                self.forward(static_wavs, static_lengths, uniform=False)
        torch.cuda.current_stream(self.device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), autocast(str(self.device), self.precision):
            static_out = self.forward(static_wavs, static_lengths, uniform=False)
        return graph, static_wavs, static_lengths, static_out

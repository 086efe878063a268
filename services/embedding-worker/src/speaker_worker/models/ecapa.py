"""speechbrain's ECAPA-TDNN (spkrec-ecapa-voxceleb, 192-dim): hub download pinned to a revision, or a
local folder, verified against the pinned sizes and hashes, then loaded by speechbrain's EncoderClassifier."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import torch

from ..errors import WorkerError
from . import ModelInfo
from .ecapa_fast import EcapaForward
from .precision import DTYPES, PRECISIONS, with_precision
from .verify import ECAPA_FILES, ECAPA_SMALL_FILES, ECAPA_WEIGHT_FILES, sha256_of, verify_folder

ECAPA_REPO = "speechbrain/spkrec-ecapa-voxceleb"
ECAPA_REVISION = "0f99f2d0ebe89ac095bcc5903c4dd8f72b367286"
ECAPA_INFO = ModelInfo(id=ECAPA_REPO, revision=ECAPA_REVISION, dim=192)

# Seconds to wait for the hub to answer a TCP connect before calling it unreachable; huggingface_hub's own
# retries would otherwise hold the worker's start for half a minute on a machine without network.
HUB_CONNECT_TIMEOUT_S = 5.0


class EcapaEncoder:
    """speechbrain's ECAPA-TDNN behind the worker's Encoder interface.

    `embed_batch` runs `EcapaForward`: each clip gets the embedding speechbrain's `encode_batch` gives it
    alone, whatever else is in the batch, and a batch costs only its padding (no fixed tail). On CUDA the
    padded batch goes through pinned host memory and, per (batch, length) bucket, a captured CUDA graph.
    Uses `encode_batch`'s default `normalize=False` (no mean_var_norm_emb): the embedding that speechbrain's
    own SpeakerRecognition.verify_batch scores with cosine."""

    def __init__(
        self,
        classifier,
        device: str,
        threads: int,
        *,
        info: ModelInfo = ECAPA_INFO,
        precision: str = "fp32",
        cuda_graphs: bool = True,
    ):
        self._classifier = classifier
        self._forward = EcapaForward(classifier).eval()
        self.base_info = info
        self.device = device
        self.threads = threads
        self.precision = "fp32"
        self.info = info
        self._runner = None
        self._cpu_forward = self._forward  # the forward embed_batch runs on the CPU at self.precision
        self._cast: dict[str, EcapaForward] = {}
        if device.startswith("cuda"):
            from .cuda_runner import CudaRunner

            self._runner = CudaRunner(self._forward, device, graphs=cuda_graphs)
        self.set_precision(precision)

    def set_precision(self, precision: str) -> None:
        """fp32, bf16 or fp16 (autocast); the model key says which, so vectors of two precisions never mix
        unnoticed."""
        if precision not in PRECISIONS:
            raise WorkerError(
                "MODEL_UNAVAILABLE", f"Unknown precision {precision!r}; use one of {PRECISIONS}."
            )
        self.precision = precision
        self.info = with_precision(self.base_info, precision)
        if self._runner is not None:
            self._runner.set_precision(precision)
        elif precision == "fp32":
            self._cpu_forward = self._forward
        else:
            # On the CPU the weights are cast once (autocast would cast them, and every activation between
            # its ops, on every call: slower than fp32 there).
            if precision not in self._cast:
                self._cast[precision] = EcapaForward(self._classifier, DTYPES[precision]).eval()
            self._cpu_forward = self._cast[precision]

    def embed_batch(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """One forward pass over the clips zero-padded to the longest; (n, 192) L2-normalised rows."""
        if not clips:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        if self._runner is not None:
            emb = self._runner(clips)
        else:
            wavs, samples = pad_batch(clips)
            with torch.inference_mode():
                emb = self._cpu_forward(wavs, samples)
        emb = torch.nn.functional.normalize(emb.float(), dim=1)
        return emb.cpu().numpy().astype(np.float32, copy=False)

    def reference_embed(self, clip: np.ndarray) -> np.ndarray:
        """speechbrain's own `encode_batch` on the clip alone, fp32: what parity is measured against."""
        wav = torch.from_numpy(np.asarray(clip, dtype=np.float32))[None].to(self.device)
        with torch.inference_mode():
            emb = self._classifier.encode_batch(wav).reshape(1, -1)
            emb = torch.nn.functional.normalize(emb.float(), dim=1)
        return emb[0].cpu().numpy()


def pad_batch(clips: Sequence[np.ndarray], row: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded (B, S) float32 and the lengths. Filled in numpy: torch's per-row copies would each be a
    parallel region, and on a busy machine each one waits for a thread that is not running."""
    lengths = [len(c) for c in clips]
    wavs = np.zeros((len(clips), row or max(lengths)), dtype=np.float32)
    for i, clip in enumerate(clips):
        wavs[i, : lengths[i]] = clip
    return torch.from_numpy(wavs), torch.tensor(lengths, dtype=torch.int64)


def load_ecapa(
    *,
    device: str,
    threads: int,
    cache_dir: str,
    source: str | None,
    strict: bool,
    log: logging.Logger,
    precision: str = "fp32",
) -> EcapaEncoder:
    info = ECAPA_INFO
    if source:
        folder = Path(source).expanduser().resolve()
        if not folder.is_dir():
            raise WorkerError(
                "MODEL_UNAVAILABLE",
                f"MODEL_SOURCE {source} is not a folder.",
                hint="Point MODEL_SOURCE at a folder holding the five spkrec-ecapa-voxceleb files.",
            )
        verify_folder(folder, ECAPA_SMALL_FILES)
        if strict:
            verify_folder(folder, ECAPA_WEIGHT_FILES)
        else:
            info = local_info(folder)
            if info.revision == ECAPA_REVISION:
                log.info("ECAPA weights in %s match revision %s", folder, ECAPA_REVISION)
            else:
                log.warning(
                    "ECAPA weights in %s are NOT those of revision %s; their vectors publish under their own "
                    "key %s, never the pinned one (set MODEL_VERIFY=strict to require the pinned hashes).",
                    folder,
                    ECAPA_REVISION,
                    info.key,
                )
    else:
        folder = fetch_from_hub(Path(cache_dir), log)
        verify_folder(folder, ECAPA_FILES)
    savedir = Path(cache_dir) / "speechbrain" / hashlib.sha1(str(folder).encode()).hexdigest()[:16]
    classifier = load_classifier(folder, savedir, device)
    return EcapaEncoder(classifier, device, threads, info=info, precision=precision)


def local_info(folder: Path) -> ModelInfo:
    """The pinned key when the folder's weights hash to the pinned ones, else a key of their own:
    `local-<sha256 of embedding_model.ckpt and classifier.ckpt, 12 hex digits>`, so vectors of weights nobody
    verified never mix with (or are scored as) the real model's."""
    for name in ECAPA_WEIGHT_FILES:
        if not (folder / name).is_file():
            raise WorkerError(
                "MODEL_VERIFY_FAILED",
                f"ecapa: {name} is missing from {folder}.",
                details={"file": name, "folder": str(folder)},
            )
    digests = [sha256_of(folder / name) for name in ECAPA_WEIGHT_FILES]
    if digests == [ECAPA_FILES[name].sha256 for name in ECAPA_WEIGHT_FILES]:
        return ECAPA_INFO
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    return ModelInfo(id=ECAPA_REPO, revision=f"local-{combined[:12]}", dim=ECAPA_INFO.dim)


def load_classifier(folder: Path, savedir: Path, device: str):
    """speechbrain's EncoderClassifier from a folder. The hparams build every checkpoint path from
    `pretrained_path` (the hub id), so it is pointed at the folder, or speechbrain would go to the hub."""
    from speechbrain.inference.classifiers import EncoderClassifier

    try:
        classifier = EncoderClassifier.from_hparams(
            source=str(folder),
            savedir=str(savedir),
            overrides={"pretrained_path": str(folder)},
            run_opts={"device": device},
        )
    except RuntimeError as exc:
        if "state_dict" in str(exc) or "size mismatch" in str(exc):
            raise WorkerError(
                "MODEL_VERIFY_FAILED",
                f"ECAPA weights in {folder} do not fit the ECAPA-TDNN architecture: {str(exc)[:300]}",
                details={"folder": str(folder)},
            ) from exc
        raise WorkerError("MODEL_UNAVAILABLE", f"ECAPA failed to load from {folder}: {exc}") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise WorkerError("MODEL_UNAVAILABLE", f"ECAPA failed to load from {folder}: {exc}") from exc
    if classifier is None:
        raise WorkerError("MODEL_UNAVAILABLE", f"speechbrain returned no model for {folder}.")
    classifier.eval()
    return classifier


def fetch_from_hub(cache_dir: Path, log: logging.Logger) -> Path:
    """The pinned revision's folder in `cache_dir`: the cached copy if complete, else a fresh download."""
    from huggingface_hub import constants, hf_hub_download

    def download(name: str, **kwargs) -> Path:
        return Path(
            hf_hub_download(ECAPA_REPO, name, revision=ECAPA_REVISION, cache_dir=str(cache_dir), **kwargs)
        )

    try:
        cached = [download(name, local_files_only=True) for name in ECAPA_FILES]
        return cached[0].parent
    except Exception:
        pass

    endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if offline or constants.HF_HUB_OFFLINE:
        _unreachable(f"HF_HUB_OFFLINE is set and revision {ECAPA_REVISION[:12]} is not in {cache_dir}")
    reason = probe(endpoint, HUB_CONNECT_TIMEOUT_S)
    if reason:
        _unreachable(f"cannot reach {endpoint}: {reason}")
    log.info("downloading %s@%s into %s", ECAPA_REPO, ECAPA_REVISION, cache_dir)
    try:
        paths = [
            download(name, endpoint=endpoint, etag_timeout=HUB_CONNECT_TIMEOUT_S) for name in ECAPA_FILES
        ]
    except Exception as exc:
        _unreachable(f"download from {endpoint} failed: {type(exc).__name__}: {str(exc)[:300]}")
    return paths[0].parent


def probe(endpoint: str, timeout: float) -> str | None:
    """None if a TCP connection to the endpoint opens within `timeout`, else why not."""
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host:
        return f"invalid endpoint {endpoint!r}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def _unreachable(reason: str):
    raise WorkerError(
        "MODEL_UNAVAILABLE",
        f"ECAPA ({ECAPA_REPO}@{ECAPA_REVISION[:12]}) cannot be obtained: {reason}.",
        hint="Connect the worker to huggingface.co once (it caches the model), or set MODEL_SOURCE to a "
        "folder holding the five model files, or choose the ge2e model.",
    )

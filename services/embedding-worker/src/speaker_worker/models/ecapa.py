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
from .verify import ECAPA_FILES, ECAPA_SMALL_FILES, ECAPA_WEIGHT_FILES, verify_folder

ECAPA_REPO = "speechbrain/spkrec-ecapa-voxceleb"
ECAPA_REVISION = "0f99f2d0ebe89ac095bcc5903c4dd8f72b367286"
ECAPA_INFO = ModelInfo(id=ECAPA_REPO, revision=ECAPA_REVISION, dim=192)

# Seconds to wait for the hub to answer a TCP connect before calling it unreachable; huggingface_hub's own
# retries would otherwise hold the worker's start for half a minute on a machine without network.
HUB_CONNECT_TIMEOUT_S = 5.0

# Fbank's hop (10 ms at 16 kHz) and the zero tail after each clip. ECAPA's receptive field reaches 65 frames
# to each side (kernel 5, then three Res2Net blocks of 7 chained kernel-3 convs at dilations 2, 3, 4), plus
# the Fbank window; 0.7 s (70 frames) puts the row's reflect padding out of every clip frame's reach.
HOP_SAMPLES = 160
TAIL_SECONDS = 0.7
TAIL_SAMPLES = int(TAIL_SECONDS * 16000)


class EcapaEncoder:
    def __init__(self, classifier, device: str, threads: int):
        self._classifier = classifier
        self.info = ECAPA_INFO
        self.device = device
        self.threads = threads

    def embed_batch(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """One forward pass, clips zero-padded to the longest plus a fixed tail, with relative lengths.

        Why the tail: speechbrain's convolutions reflect-pad at the end of each row, so a clip that ends its
        row is embedded slightly differently from the same clip followed by padding (up to ~6e-4 in cosine for
        a 1 s clip). With TAIL_SAMPLES of zeros after every clip, whatever the batch, each clip's frames see
        the same inputs, and batching cannot move an embedding. The cost is TAIL_SECONDS more audio per row.

        Uses `encode_batch` with its default `normalize=False` (no mean_var_norm_emb): the embedding that
        speechbrain's own SpeakerRecognition.verify_batch scores with cosine."""
        if not clips:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        lengths = [len(c) for c in clips]
        row = max(lengths) + TAIL_SAMPLES
        wavs = torch.zeros(len(clips), row, dtype=torch.float32)
        for i, clip in enumerate(clips):
            wavs[i, : lengths[i]] = torch.from_numpy(np.asarray(clip, dtype=np.float32))
        # speechbrain turns relative lengths into frame counts by rounding (rel * frames); aiming a quarter
        # frame below each clip's own frame count makes that count the same in every batch.
        row_frames = row // HOP_SAMPLES + 1
        rel = torch.tensor([(n // HOP_SAMPLES + 1 - 0.25) / row_frames for n in lengths], dtype=torch.float32)
        with torch.inference_mode():
            emb = self._classifier.encode_batch(wavs, rel).reshape(len(clips), -1)
            emb = torch.nn.functional.normalize(emb.float(), dim=1)
        return emb.cpu().numpy().astype(np.float32, copy=False)


def load_ecapa(
    *, device: str, threads: int, cache_dir: str, source: str | None, strict: bool, log: logging.Logger
) -> EcapaEncoder:
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
            log.warning(
                "ECAPA weights in %s were NOT verified against revision %s (local folder); "
                "set MODEL_VERIFY=strict to require the pinned hashes.",
                folder,
                ECAPA_REVISION,
            )
    else:
        folder = fetch_from_hub(Path(cache_dir), log)
        verify_folder(folder, ECAPA_FILES)
    savedir = Path(cache_dir) / "speechbrain" / hashlib.sha1(str(folder).encode()).hexdigest()[:16]
    return EcapaEncoder(load_classifier(folder, savedir, device), device, threads)


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

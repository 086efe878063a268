"""Resemblyzer's GE2E encoder (256-dim, weights inside the PyPI package) with a batched embedding path."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import WorkerError
from . import ModelInfo
from .verify import GE2E_WEIGHTS, verify_file

GE2E_INFO = ModelInfo(id="resemblyzer/ge2e", revision="0.1.4", dim=256)

# resemblyzer's embed_utterance defaults: 1.3 partial windows of 1.6 s per second, keep a last partial that
# is at least 75 % covered by audio.
PARTIAL_RATE = 1.3
MIN_COVERAGE = 0.75


class Ge2eEncoder:
    """Embeds like `VoiceEncoder.embed_utterance(preprocess_wav(clip))`, but all partial windows of all clips
    go through the LSTM in one forward pass. Every window has the same 160 frames, so no clip is padded
    by another clip and batching cannot move an embedding."""

    info = GE2E_INFO
    # Fixed 1.6 s windows: a batch costs the same whatever its clips' lengths, so no grouping by length.
    pads_to_longest = False

    def __init__(self, device: str, threads: int):
        import resemblyzer
        from resemblyzer import VoiceEncoder

        weights = Path(resemblyzer.__file__).resolve().parent / "pretrained.pt"
        verify_file(weights, GE2E_WEIGHTS, model="ge2e")
        self.device = device
        self.threads = threads
        self._model = VoiceEncoder(device=device, verbose=False, weights_fpath=weights).eval()
        # librosa compiles its kernels on first use (~10 s on a small CPU): pay that before Ready, not on the
        # first request.
        noise = np.random.default_rng(0).standard_normal(2 * 16000).astype(np.float32) * 0.1
        self.embed_batch([noise])

    def embed_batch(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        if not clips:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        windows = [partial_windows(preprocess(clip)) for clip in clips]
        counts = [len(w) for w in windows]
        with torch.inference_mode():
            mels = torch.from_numpy(np.concatenate(windows)).to(self.device)
            partials = self._model(mels).cpu().numpy()
        out = np.empty((len(clips), self.info.dim), dtype=np.float32)
        start = 0
        for i, n in enumerate(counts):
            mean = partials[start : start + n].mean(axis=0)
            norm = np.linalg.norm(mean)
            if not norm > 0:
                raise WorkerError("INTERNAL", "GE2E produced a zero embedding.", details={"clip": i})
            out[i] = mean / norm
            start += n
        return out


def preprocess(clip: np.ndarray) -> np.ndarray:
    """resemblyzer's `preprocess_wav` without its resampling (clips are already 16 kHz).

    We keep its volume normalisation and VAD trimming of long pauses: the encoder was trained on audio
    prepared this way (the mel input is not log-scaled, so level matters), and a pause-heavy clip would
    otherwise be averaged over partials of silence. Both steps look at one clip only, so the result does
    not depend on batching. If the VAD finds no speech at all we keep the normalised clip: the audio
    already passed the silence check, and an error here would make GE2E reject audio ECAPA accepts.
    """
    from resemblyzer.audio import normalize_volume, trim_long_silences
    from resemblyzer.hparams import audio_norm_target_dBFS

    wav = normalize_volume(np.asarray(clip, dtype=np.float32), audio_norm_target_dBFS, increase_only=True)
    trimmed = trim_long_silences(wav)
    return (trimmed if trimmed.size else wav).astype(np.float32, copy=False)


def partial_windows(wav: np.ndarray) -> np.ndarray:
    """(n_partials, 160, 40) mel windows, cut exactly as `embed_utterance` cuts them."""
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import wav_to_mel_spectrogram

    wav_slices, mel_slices = VoiceEncoder.compute_partial_slices(len(wav), PARTIAL_RATE, MIN_COVERAGE)
    needed = wav_slices[-1].stop
    if needed >= len(wav):
        wav = np.pad(wav, (0, needed - len(wav)), "constant")
    mel = wav_to_mel_spectrogram(wav)
    return np.stack([mel[s] for s in mel_slices]).astype(np.float32, copy=False)


def load_ge2e(*, device: str, threads: int, log: logging.Logger) -> Ge2eEncoder:
    return Ge2eEncoder(device, threads)

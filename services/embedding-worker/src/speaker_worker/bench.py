"""Worker benchmark (`pnpm bench:worker [--quick] [--json]`): a script that prints figures, not a test.

For ECAPA (same-shape seeded weights unless MODEL_SOURCE names real ones: the FLOPs are the same) and GE2E, on
the CPU and on CUDA when present: clips/s and real-time factor for 3 s and 10 s clips at batch 1, 4, 16, 32,
each measured as the worker does the work (decode WAV bytes, one padded forward pass per batch). In the same
run, the original design as the baseline (speechbrain's own EncoderClassifier.from_hparams + encode_batch
behind a small HTTP server, one request per file read from disk, batch 1) and the ratio to it; and ECAPA's
achieved GFLOP/s next to a dense matmul's in the same precision, with where the rest of its time goes.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import platform
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from .audio import TARGET_RATE, decode_audio, read_audio_file
from .models import Encoder, apply_threads, load_encoder
from .models.seeded_ecapa import write_seeded_ecapa

LOG = logging.getLogger("bench")
REPO_ROOT = Path(__file__).resolve().parents[4]
DURATIONS = (3.0, 10.0)
BATCHES = (1, 4, 16, 32)


@dataclass(frozen=True)
class Plan:
    cell_seconds: float  # aim for this much measured time per cell
    max_iterations: int
    baseline_requests: int
    matmul_reps: int


PLANS = {
    "default": Plan(cell_seconds=2.0, max_iterations=20, baseline_requests=8, matmul_reps=5),
    "quick": Plan(cell_seconds=0.3, max_iterations=3, baseline_requests=3, matmul_reps=2),
}


@dataclass
class Cell:
    model: str
    device: str
    clip_seconds: float
    batch: int
    iterations: int
    seconds: float  # measured wall time, all iterations
    embed_seconds: float  # of which in embed_batch (the rest is decoding)

    @property
    def clips_per_s(self) -> float:
        return self.batch * self.iterations / self.seconds

    @property
    def rtf(self) -> float:
        """Processing time over audio time: below 1 is faster than real time."""
        return self.seconds / (self.batch * self.iterations * self.clip_seconds)


def dev_audio_root() -> Path:
    return Path(os.environ.get("SPEAKERS_DEV_AUDIO", REPO_ROOT.parent / "shared" / "audio" / "dev"))


def speech_clips(seconds: float, count: int = 8) -> tuple[list[np.ndarray], str]:
    """Real speech cut to `seconds` if the dev set is present (GE2E's VAD makes its cost depend on content),
    else a seeded noise-modulated signal."""
    root = dev_audio_root()
    need = int(seconds * TARGET_RATE)
    if (root / "manifest.csv").is_file():
        files = sorted(root.glob("*/*.flac"))
        stream = np.concatenate([read_audio_file(str(f), [str(root)]) for f in files[: count * 3]])
        if len(stream) >= need * count:
            return [stream[i * need : (i + 1) * need] for i in range(count)], f"speech from {root}"
    rng = np.random.default_rng(0)
    t = np.arange(need) / TARGET_RATE
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return [
        (0.1 * envelope * rng.standard_normal(need)).astype(np.float32) for _ in range(count)
    ], "synthetic noise (no dev audio found)"


def wav_bytes(clip: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, clip, TARGET_RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure_cell(
    encoder: Encoder, name: str, payloads: list[bytes], seconds: float, batch: int, plan: Plan
) -> Cell:
    items = [payloads[i % len(payloads)] for i in range(batch)]

    def once() -> tuple[float, float]:
        start = time.perf_counter()
        clips = [decode_audio(b) for b in items]
        mid = time.perf_counter()
        encoder.embed_batch(clips)
        sync(encoder.device)
        end = time.perf_counter()
        return end - start, end - mid

    first, first_embed = _on_inference_thread(once)  # also warms this batch shape
    if first >= plan.cell_seconds:
        return Cell(name, encoder.device, seconds, batch, 1, first, first_embed)
    n = max(1, min(plan.max_iterations, math.ceil(plan.cell_seconds / first)))
    total = embed = 0.0
    for _ in range(n):
        t, e = _on_inference_thread(once)
        total, embed = total + t, embed + e
    return Cell(name, encoder.device, seconds, batch, n, total, embed)


# The worker runs every forward pass on an executor thread, never the main thread; measure there too. It is
# not a detail: on a busy 2-core machine torch's OpenMP team in the main thread made GE2E's small LSTM
# forwards over ten times slower than the same call on a worker thread.
_INFERENCE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")


def _on_inference_thread(fn: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    return _INFERENCE.submit(fn).result()


class _Baseline(BaseHTTPRequestHandler):
    """The original Flask service's /extract-embedding: a JSON body naming a file, the file loaded by
    speechbrain, one `encode_batch` of that one clip (batch 1, no padding of ours)."""

    embed: Callable[[str], np.ndarray]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        embedding = self.embed(body["audio_path"])
        reply = json.dumps({"embedding": embedding.tolist(), "dimension": len(embedding)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


def original_ecapa(folder: str, savedir: str, device: str) -> Callable[[str], np.ndarray]:
    """The original design as a new user builds it: speechbrain's own EncoderClassifier.from_hparams and
    encode_batch on the file's waveform (speechbrain's load_audio), nothing of this project in between."""
    from speechbrain.inference.classifiers import EncoderClassifier

    classifier = EncoderClassifier.from_hparams(
        source=folder, savedir=savedir, overrides={"pretrained_path": folder}, run_opts={"device": device}
    )
    classifier.eval()

    def embed(path: str) -> np.ndarray:
        with torch.inference_mode():
            signal = classifier.load_audio(path)
            return classifier.encode_batch(signal[None]).reshape(-1).cpu().numpy()

    return embed


def original_ge2e(encoder: Encoder) -> Callable[[str], np.ndarray]:
    """GE2E's original: resemblyzer's preprocess + embed_utterance per file (as the worker's GE2E does)."""

    def embed(path: str) -> np.ndarray:
        with open(path, "rb") as f:
            clip = decode_audio(f.read())
        return encoder.embed_batch([clip])[0]

    return embed


def measure_baseline(
    embed: Callable[[str], np.ndarray],
    dim: int,
    name: str,
    device: str,
    payloads: list[bytes],
    seconds: float,
    plan: Plan,
) -> Cell:
    handler = type("Handler", (_Baseline,), {"embed": staticmethod(embed)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/extract-embedding"
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        paths = []
        for i, data in enumerate(payloads):
            path = Path(tmp) / f"clip{i}.wav"
            path.write_bytes(data)
            paths.append(str(path))

        def request(path: str) -> None:
            body = json.dumps({"audio_path": path}).encode()
            req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as resp:
                assert len(json.loads(resp.read())["embedding"]) == dim

        try:
            request(paths[0])  # warm-up
            start = time.perf_counter()
            for i in range(plan.baseline_requests):
                request(paths[i % len(paths)])
            elapsed = time.perf_counter() - start
        finally:
            server.shutdown()
            server.server_close()
    return Cell(name, device, seconds, 1, plan.baseline_requests, elapsed, math.nan)


def ecapa_forward_flops(encoder: Encoder, clips: list[np.ndarray]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        encoder.embed_batch(clips)
    return int(counter.get_total_flops())


def matmul_gflops(device: str, reps: int, precision: str = "fp32") -> tuple[float, int]:
    """A dense n x n matmul's GFLOP/s in the precision the model runs at (the fair reference)."""
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    n = 4096 if device.startswith("cuda") else 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    with torch.inference_mode():
        a @ b
        sync(device)
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        elapsed = time.perf_counter() - start
    return 2 * n**3 * reps / elapsed / 1e9, n


def load_models(
    device: str, names: list[str], cache: str, precision: str = "auto"
) -> dict[str, tuple[Encoder, Callable[[str], np.ndarray]]]:
    """Each model with its original design's embed-one-file function (the baseline). ECAPA's precision is
    chosen as the worker chooses it (`auto`: the device's fast precision if the start-up gate passes on the
    dev speech, as the worker's AUDIO_ROOTS give it); the original design stays fp32, as it was."""
    models: dict[str, tuple[Encoder, Callable[[str], np.ndarray]]] = {}
    for name in names:
        if name == "ecapa":
            source = os.environ.get("MODEL_SOURCE")
            if not source:
                small = Path(
                    os.environ.get(
                        "SPEAKERS_ECAPA_SMALL_FILES",
                        REPO_ROOT.parent / "shared" / "models" / "spkrec-ecapa-voxceleb",
                    )
                )
                if not (small / "hyperparams.yaml").is_file():
                    print(f"! skipping ECAPA: no small files at {small} (set SPEAKERS_ECAPA_SMALL_FILES)")
                    continue
                source = str(write_seeded_ecapa(Path(cache) / "seeded-ecapa", small))
            encoder = load_encoder(
                "ecapa",
                device=device,
                cache_dir=cache,
                source=source,
                threads=None,
                log=LOG,
                precision=precision,
                parity_audio=[str(dev_audio_root())],
            )
            baseline = original_ecapa(
                str(Path(source).resolve()), str(Path(cache) / f"original-{device}"), device
            )
            models[name] = (encoder, baseline)
        else:
            encoder = load_encoder(name, device=device, cache_dir=cache, source=None, threads=None, log=LOG)
            models[name] = (encoder, original_ge2e(encoder))
    return models


def profile_forward(encoder: Encoder, clips: list[np.ndarray]) -> dict:
    """Where one forward's CPU time goes, by kind of op: what bounds the part that is not matmul-speed."""
    from torch.profiler import ProfilerActivity, profile

    # On this thread: the profiler records the thread that opened it.
    encoder.embed_batch(clips)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        encoder.embed_batch(clips)
    kinds = {"convolution/matmul": 0.0, "copies (pad, gather, cat)": 0.0, "elementwise": 0.0, "other": 0.0}
    for event in prof.key_averages():
        name, spent = event.key, event.self_cpu_time_total
        if any(k in name for k in ("conv", "mm", "linear", "einsum", "bmm", "addmm")):
            kinds["convolution/matmul"] += spent
        elif any(
            k in name for k in ("pad", "gather", "index", "cat", "copy", "clone", "contiguous", "to_copy")
        ):
            kinds["copies (pad, gather, cat)"] += spent
        elif any(
            k in name
            for k in (
                "relu",
                "mul",
                "add",
                "sub",
                "div",
                "tanh",
                "sigmoid",
                "softmax",
                "pow",
                "sqrt",
                "clamp",
                "mean",
                "sum",
                "fill",
                "masked",
                "where",
                "log",
                "abs",
            )
        ):
            kinds["elementwise"] += spent
        else:
            kinds["other"] += spent
    total = sum(kinds.values()) or 1.0
    return {kind: spent / total for kind, spent in kinds.items()}


def run(args: argparse.Namespace, emit: Callable[[str], None]) -> dict:
    plan = PLANS["quick" if args.quick else "default"]
    threads = apply_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])
    batches = tuple(args.batches)
    clips = {}
    source_note = ""
    for seconds in DURATIONS:
        raw, source_note = speech_clips(seconds)
        clips[seconds] = (raw, [wav_bytes(c) for c in raw])
    meta = {
        "plan": "quick" if args.quick else "default",
        **asdict(plan),
        "threads": threads,
        "devices": devices,
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name(0) if "cuda" in devices else None,
        "audio": source_note,
        "ecapa_weights": "MODEL_SOURCE" if os.environ.get("MODEL_SOURCE") else "seeded same-shape",
    }
    emit(
        f"plan {meta['plan']}: ~{plan.cell_seconds:g} s per cell (1..{plan.max_iterations} iterations "
        f"after one warm-up call), baseline {plan.baseline_requests} requests; threads {threads}; "
        f"devices {devices}; audio: {source_note}"
    )
    cells: list[Cell] = []
    baselines: list[Cell] = []
    flops: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as cache:
        for device in devices:
            models = load_models(device, args.models, cache, args.precision)
            for name, (encoder, original) in models.items():
                meta.setdefault("precision", {})[f"{name}/{device}"] = getattr(encoder, "precision", "fp32")
                meta.setdefault("model_keys", {})[f"{name}/{device}"] = encoder.info.key
                for seconds in DURATIONS:
                    raw, payloads = clips[seconds]
                    _INFERENCE.submit(encoder.embed_batch, raw[:1]).result()  # warm-up: lazy init, caches
                    # The original design is timed before and after the worker's cells and credited with
                    # its better run: on a shared machine, load that comes and goes must not favour us.
                    dim = encoder.info.dim
                    first = measure_baseline(original, dim, name, encoder.device, payloads, seconds, plan)
                    for batch in batches:
                        cell = measure_cell(encoder, name, payloads, seconds, batch, plan)
                        cells.append(cell)
                        emit(_row(cell))
                    second = measure_baseline(original, dim, name, encoder.device, payloads, seconds, plan)
                    base = max(first, second, key=lambda c: c.clips_per_s)
                    baselines.append(base)
                    emit(_row(base, label="original b1 http"))
                if name == "ecapa":
                    flops.append(_flops(encoder, clips[3.0][0], cells, plan))
                    flops[-1]["profile"] = profile_forward(encoder, [clips[3.0][0][i % 8] for i in range(16)])
                    emit(_flops_row(flops[-1]))
                    emit(_profile_row(flops[-1]["profile"]))
    # Read after the models loaded: importing speechbrain switches TF32 on for CUDA matmuls and convolutions.
    meta["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    return {"meta": meta, "cells": cells, "baselines": baselines, "flops": flops}


def _flops(encoder: Encoder, raw: list[np.ndarray], cells: list[Cell], plan: Plan) -> dict:
    batch = [raw[i % len(raw)] for i in range(16)]
    counted = ecapa_forward_flops(encoder, batch)
    cell = next(
        (
            c
            for c in cells
            if c.model == "ecapa" and c.device == encoder.device and c.clip_seconds == 3.0 and c.batch == 16
        ),
        None,
    )
    if cell is None:  # batch 16 not in this run: time it here
        cell = measure_cell(encoder, "ecapa", [wav_bytes(c) for c in raw], 3.0, 16, plan)
    per_forward = cell.embed_seconds / cell.iterations
    precision = getattr(encoder, "precision", "fp32")
    matmul, n = matmul_gflops(encoder.device, plan.matmul_reps, precision)
    achieved = counted / per_forward / 1e9
    return {
        "device": encoder.device,
        "forward_gflop": counted / 1e9,
        "seconds_per_forward": per_forward,
        "achieved_gflops": achieved,
        "matmul_n": n,
        "matmul_gflops": matmul,
        "share_of_matmul": achieved / matmul,
        "precision": precision,
    }


def _row(cell: Cell, label: str | None = None) -> str:
    what = label or f"batch {cell.batch:>2}"
    return (
        f"  {cell.model:<5} {cell.device:<6} {cell.clip_seconds:>4.0f} s  {what:<17} "
        f"iters {cell.iterations:>3}  {cell.clips_per_s:>8.2f} clips/s  RTF {cell.rtf:.4f}  "
        f"({1 / cell.rtf:,.0f}x real time)"
    )


def _flops_row(f: dict) -> str:
    return (
        f"  ecapa {f['device']}: forward {f['forward_gflop']:.1f} GFLOP for 16 x 3 s, achieved "
        f"{f['achieved_gflops']:.1f} GFLOP/s; dense {f['precision']} matmul {f['matmul_n']}^2: "
        f"{f['matmul_gflops']:.1f} GFLOP/s (ECAPA at {f['share_of_matmul']:.0%} of it)"
    )


def _profile_row(profile: dict) -> str:
    parts = ", ".join(f"{kind} {share:.0%}" for kind, share in profile.items())
    rest = 1.0 - profile.get("convolution/matmul", 0.0)
    bound = (
        f"; the {rest:.0%} outside the GEMMs is memory-bound passes over the activations (bias/clamp, "
        "residual adds, the taps' gather, concatenations, the pooling's fp32 statistics), each one a "
        "parallel region that waits for both threads"
    )
    return f"  ecapa profile (CPU time of one 16 x 3 s forward by op kind): {parts}{bound}"


def summary(result: dict) -> list[str]:
    lines = [
        "",
        "ratio to the original design (speechbrain EncoderClassifier.encode_batch, one HTTP request per "
        "file, batch 1, same weights and device):",
    ]
    lines.append(
        f"  {'model':<5} {'device':<6} {'clip':>5}  {'baseline clips/s':>16}  {'batch 16':>9}  {'best':>14}"
    )
    for base in result["baselines"]:
        mine = [
            c
            for c in result["cells"]
            if (c.model, c.device, c.clip_seconds) == (base.model, base.device, base.clip_seconds)
        ]
        at16 = next((c for c in mine if c.batch == 16), None)
        best = max(mine, key=lambda c: c.clips_per_s)
        lines.append(
            f"  {base.model:<5} {base.device:<6} {base.clip_seconds:>4.0f}s  {base.clips_per_s:>16.2f}  "
            + (f"{at16.clips_per_s / base.clips_per_s:>8.2f}x" if at16 else f"{'-':>9}")
            + f"  {best.clips_per_s / base.clips_per_s:>6.2f}x (b{best.batch})"
        )
    return lines


def to_json(result: dict) -> dict:
    def cell(c: Cell) -> dict:
        return {
            **asdict(c),
            "clips_per_s": c.clips_per_s,
            "rtf": c.rtf,
            "embed_seconds": None if math.isnan(c.embed_seconds) else c.embed_seconds,
        }

    out = {
        "meta": result["meta"],
        "cells": [cell(c) for c in result["cells"]],
        "baselines": [],
        "flops": result["flops"],
    }
    for base in result["baselines"]:
        mine = [
            c
            for c in result["cells"]
            if (c.model, c.device, c.clip_seconds) == (base.model, base.device, base.clip_seconds)
        ]
        best = max(mine, key=lambda c: c.clips_per_s)
        at16 = next((c for c in mine if c.batch == 16), None)
        out["baselines"].append(
            {
                **cell(base),
                "ratio_batch16": at16.clips_per_s / base.clips_per_s if at16 else None,
                "ratio_best": best.clips_per_s / base.clips_per_s,
                "best_batch": best.batch,
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench:worker", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations (a smoke run, noisier figures)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.add_argument("--models", nargs="+", default=["ecapa", "ge2e"], choices=["ecapa", "ge2e"])
    parser.add_argument("--batches", nargs="+", type=int, default=list(BATCHES))
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="ECAPA's precision (default auto: as the worker picks it, behind its start-up parity gate)",
    )
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even when present")
    args = parser.parse_args(argv)
    # speechbrain configures its own DEBUG logging and its dependencies warn about deprecations on import;
    # neither says anything about speed, and both would bury the table.
    logging.disable(logging.INFO)
    LOG.setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    started = time.perf_counter()
    emit = (lambda _line: None) if args.json else print
    result = run(args, emit)
    if args.json:
        print(json.dumps({**to_json(result), "wall_seconds": time.perf_counter() - started}, indent=2))
    else:
        for line in summary(result):
            print(line)
        print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

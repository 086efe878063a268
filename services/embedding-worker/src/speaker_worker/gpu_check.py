"""`scripts/gpu-check.sh`: proves the CUDA path on a machine with a GPU, in a few minutes, and prints what it
measured. Steps: (1) the loader picks CUDA by itself; (2) GPU embeddings agree with CPU fp32 (fp32 on the
GPU, then the reduced precision the start-up gate picks); (3) a JetStream round trip: audio.captured in, an
embedding.computed with device cuda out, through a real nats-server and the real worker; (4) GPU clips/s per
clip length and batch (CUDA graphs per bucket). ECAPA uses same-shape seeded weights unless MODEL_SOURCE
names real ones (same cost). Exits 2 with a clear message where there is no CUDA device."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import torch

from . import bus
from .bench import REPO_ROOT, speech_clips, wav_bytes
from .models import load_encoder
from .models.seeded_ecapa import write_seeded_ecapa

LOG = logging.getLogger("gpu-check")
PARITY_FP32 = 0.9999
PARITY_REDUCED = 0.999


def say(line: str) -> None:
    print(line, flush=True)


def nats_binary() -> str | None:
    for candidate in (
        os.environ.get("NATS_SERVER_BIN"),
        str(Path.home() / ".local/share/speakers/bin/nats-server"),
        shutil.which("nats-server"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_folder(cache: Path) -> str:
    source = os.environ.get("MODEL_SOURCE")
    if source:
        return source
    small = Path(
        os.environ.get(
            "SPEAKERS_ECAPA_SMALL_FILES", REPO_ROOT.parent / "shared" / "models" / "spkrec-ecapa-voxceleb"
        )
    )
    return str(write_seeded_ecapa(cache / "seeded-ecapa", small))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


async def round_trip(url: str, encoder, clip: np.ndarray, expected: np.ndarray) -> float:
    """Publishes one audio.captured and waits for the worker's embedding.computed; returns its cosine."""
    import nats
    from nats.js.api import ConsumerConfig, DeliverPolicy

    from .app import create_worker
    from .config import WorkerConfig

    worker = create_worker(WorkerConfig(nats_url=url, model="ecapa", serve=False), encoder=encoder)
    await worker.start()
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        data = wav_bytes(clip)
        event_id = str(uuid.uuid4())
        headers = bus.ce_headers(
            event_type="speakers.audio.captured.v1", event_id=event_id, content_type="audio/wav"
        )
        headers["ce-source"] = "/services/gpu-check"
        headers[bus.H_META] = json.dumps(
            {
                "source": {"service": "gpu-check", "deviceId": "gpu", "room": "lab"},
                "capturedAt": "2026-12-01T00:00:00.000Z",
                "format": {"encoding": "wav", "sampleRate": 16000, "channels": 1},
                "bytes": len(data),
                "audio": {"kind": "inline"},
            }
        )
        started = time.perf_counter()
        await js.publish("audio.captured.gpu", data, headers=headers)
        subject = f"embedding.computed.{bus.model_token(encoder.info)}"
        sub = await js.pull_subscribe(
            subject, stream="EMBEDDINGS", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        [msg] = await sub.fetch(1, timeout=60)
        elapsed = time.perf_counter() - started
        event = json.loads(msg.data)
        assert event["sourceEventId"] == event_id, event
        if not str(event["device"]).startswith("cuda"):
            raise SystemExit(f"gpu-check: FAILED: the embedding was computed on {event['device']}, not CUDA")
        vector = np.asarray(event["vector"], dtype=np.float32)
        cos = float(cosines(vector[None], expected[None])[0])
        say(
            f"3. JetStream round trip: embedding.computed from {event['device']} in {elapsed * 1000:.0f} ms, "
            f"cosine to CPU fp32 {cos:.6f}"
        )
        return cos
    finally:
        await nc.close()
        await worker.stop()


def throughput(
    encoder, clips: dict[float, list[np.ndarray]], batches: list[int], seconds: float
) -> list[dict]:
    rows = []
    for length, pool in clips.items():
        for batch in batches:
            items = [pool[i % len(pool)] for i in range(batch)]
            try:
                encoder.embed_batch(items)  # capture the bucket's graph, warm the kernels
                torch.cuda.synchronize()
                n, start = 0, time.perf_counter()
                while time.perf_counter() - start < seconds:
                    encoder.embed_batch(items)
                    n += 1
                torch.cuda.synchronize()
                rate = batch * n / (time.perf_counter() - start)
            except torch.OutOfMemoryError:
                say(f"  {length:>4.0f} s  batch {batch:>4}  out of memory")
                torch.cuda.empty_cache()
                break
            rows.append({"clip_seconds": length, "batch": batch, "clips_per_s": rate})
            say(
                f"  {length:>4.0f} s  batch {batch:>4}  {rate:>10,.0f} clips/s  "
                f"({rate * length:,.0f} s of audio/s)"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu-check", description=__doc__.splitlines()[0])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 32, 128, 256, 512])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per throughput cell")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if not torch.cuda.is_available():
        print(
            f"gpu-check: no CUDA device here (torch {torch.__version__}, built for CUDA "
            f"{torch.version.cuda}; torch.cuda.is_available() is False). Nothing to check: run this on a "
            "machine with an NVIDIA GPU.",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        cache = Path(tmp)
        folder = model_folder(cache)
        gpu = load_encoder(
            "ecapa", device=None, cache_dir=tmp, source=folder, threads=None, log=LOG, precision="fp32"
        )
        if not str(gpu.device).startswith("cuda"):
            say(f"gpu-check: FAILED: the loader chose {gpu.device} with CUDA present")
            return 1
        say(f"1. device: the loader chose {gpu.device} ({torch.cuda.get_device_name(0)}), key {gpu.info.key}")
        cpu = load_encoder(
            "ecapa", device="cpu", cache_dir=tmp, source=folder, threads=None, log=LOG, precision="fp32"
        )
        raw, note = speech_clips(3.0, 8)
        long, _ = speech_clips(10.0, 4)
        mixed = [raw[0][:16000], raw[1][:24000], raw[2], long[0]]
        reference = np.stack([cpu.embed_batch([c])[0] for c in mixed])
        fp32 = cosines(gpu.embed_batch(mixed), reference)
        say(
            f"2. parity ({note}): GPU fp32 in one padded batch vs CPU fp32 alone: "
            f"worst cosine {fp32.min():.6f}"
        )
        ok = bool(fp32.min() >= PARITY_FP32)
        from .models.precision import choose_precision

        precision = choose_precision(gpu, "auto", mixed, LOG)
        reduced = cosines(gpu.embed_batch(mixed), reference)
        say(
            f"   start-up gate chose {precision}; its worst cosine to CPU fp32 {reduced.min():.6f} "
            f"(key {gpu.info.key})"
        )
        ok = ok and bool(reduced.min() >= (PARITY_REDUCED if precision != "fp32" else PARITY_FP32))
        binary = nats_binary()
        trip = None
        if binary is None:
            say("3. JetStream round trip: SKIPPED, no nats-server (scripts/setup.sh installs it)")
            ok = False
        else:
            port = free_port()
            server = subprocess.Popen(
                [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(cache / "js")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                time.sleep(1.0)
                expected = cpu.embed_batch([raw[3]])[0]
                trip = asyncio.run(round_trip(f"nats://127.0.0.1:{port}", gpu, raw[3], expected))
                ok = ok and trip >= PARITY_REDUCED
            finally:
                server.terminate()
                server.wait(10)
        say(f"4. throughput at {precision} (CUDA graphs per bucket):")
        rows = throughput(gpu, {3.0: raw, 10.0: long}, args.batches, args.seconds)
    say(f"gpu-check: {'PASSED' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "ok": ok,
                    "device": torch.cuda.get_device_name(0),
                    "precision": precision,
                    "parity_fp32": float(fp32.min()),
                    "parity_reduced": float(reduced.min()),
                    "round_trip_cosine": trip,
                    "throughput": rows,
                }
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

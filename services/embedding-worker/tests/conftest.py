"""Shared fixtures: one real nats-server per test session, a fresh client per test, the dev recordings."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats_harness import NatsServer
from nats_harness import nats_server as start_nats_server

from speaker_worker.app import Worker, create_worker
from speaker_worker.config import WorkerConfig
from speaker_worker.models import Encoder, load_encoder

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """A real `nats-server -js` on a free port with a temp store (or the server NATS_URL names)."""
    with start_nats_server() as server:
        yield server


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url, max_reconnect_attempts=0)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def clean_streams(nc: Client) -> None:
    """Tests share one server: each starts from no streams, consumers or object stores."""
    jsm = nc.jetstream()
    for info in await jsm._jsm.streams_info():
        await jsm.delete_stream(info.config.name)


@pytest.fixture(scope="session")
def dev_audio() -> Path:
    """The LibriSpeech dev recordings (never copied into the repo)."""
    root = Path(os.environ.get("SPEAKERS_DEV_AUDIO", REPO_ROOT.parent / "shared" / "audio" / "dev"))
    if not root.is_dir():
        pytest.fail(f"no dev audio at {root}; set SPEAKERS_DEV_AUDIO to a folder of <speaker>/<file>.flac")
    return root


@pytest.fixture(scope="session")
def dev_clips(dev_audio: Path) -> list[Path]:
    """The shortest clip of at least 2 s per speaker (fast on two cores), in speaker order."""
    shortest: dict[str, tuple[float, Path]] = {}
    with (dev_audio / "manifest.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            seconds = float(row["duration_s"])
            best = shortest.get(row["speaker"])
            if seconds >= 2.0 and (best is None or seconds < best[0]):
                shortest[row["speaker"]] = (seconds, dev_audio / row["path"])
    clips = [shortest[speaker][1] for speaker in sorted(shortest)]
    assert len(clips) >= 3, f"expected several speakers in {dev_audio / 'manifest.csv'}"
    return clips


@pytest.fixture(scope="session")
def ge2e_encoder() -> Encoder:
    """The real GE2E model, loaded once: every worker in the session shares it."""
    return load_encoder(
        "ge2e", device="cpu", cache_dir="", source=None, threads=None, log=logging.getLogger("test")
    )


@pytest.fixture
async def start_worker(
    nats_server: NatsServer, ge2e_encoder: Encoder, dev_audio: Path
) -> AsyncIterator[Callable[..., Awaitable[Worker]]]:
    """Starts real workers (own connection, shared model) with config overrides; stops them all after."""
    started: list[Worker] = []

    async def start(**overrides: object) -> Worker:
        settings: dict[str, object] = {
            "nats_url": nats_server.url,
            "model": "ge2e",
            "audio_roots": (dev_audio.resolve(),),
            "batch_wait_ms": 200,
        }
        settings.update(overrides)
        worker = create_worker(WorkerConfig(**settings), encoder=ge2e_encoder)  # type: ignore[arg-type]
        await worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop()

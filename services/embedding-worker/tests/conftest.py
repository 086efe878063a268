"""Shared fixtures: one real nats-server per test session, a fresh client per test, the dev recordings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats_harness import NatsServer
from nats_harness import nats_server as start_nats_server

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
    """One FLAC per speaker, sorted, so tests are deterministic."""
    clips = [sorted(d.glob("*.flac"))[0] for d in sorted(dev_audio.iterdir()) if d.is_dir()]
    assert len(clips) >= 3, f"expected several speakers under {dev_audio}"
    return clips

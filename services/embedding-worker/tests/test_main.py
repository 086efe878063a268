"""Config parsing and the `python -m speaker_worker` lifecycle: load, say ready, serve, drain on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats_harness import NatsServer
from worker_process import worker_process

from speaker_worker.config import ConfigError, WorkerConfig, load_config


def test_defaults_env_and_flags(tmp_path: Path) -> None:
    assert load_config([], {}) == WorkerConfig()
    assert WorkerConfig().nats_url == "nats://127.0.0.1:4222"
    assert WorkerConfig().cache_dir == Path.home() / ".cache" / "speakers" / "models"
    env = {
        "NATS_URL": "nats://bus:4333",
        "SPEAKERS_MODEL": "GE2E",
        "BATCH_MAX": "4",
        "BATCH_WAIT_MS": "10",
        "AUDIO_ROOTS": f"{tmp_path}:/srv/audio",
        "MAX_AUDIO_SECONDS": "30",
        "TORCH_THREADS": "3",
        "MODEL_CACHE_DIR": str(tmp_path / "models"),
    }
    config = load_config(["--batch-max", "8", "--no-consume"], env)
    assert config.nats_url == "nats://bus:4333" and config.model == "ge2e"
    assert config.batch_max == 8, "a flag wins over the environment"
    assert config.batch_wait_ms == 10 and config.threads == 3 and config.max_audio_seconds == 30
    assert config.audio_roots == (tmp_path.resolve(), Path("/srv/audio"))
    assert config.cache_dir == tmp_path / "models"
    assert (config.consume, config.serve) == (False, True)


def test_a_replay_worker_serves_and_never_consumes() -> None:
    assert (load_config([], {}).role, load_config([], {}).consume) == ("live", True)
    config = load_config(["--role", "replay"], {})
    assert (config.role, config.consume, config.serve) == ("replay", False, True)
    assert load_config([], {"WORKER_ROLE": "Replay"}).consume is False


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SPEAKERS_MODEL": "whisper"}, "SPEAKERS_MODEL"),
        ({"BATCH_MAX": "0"}, "BATCH_MAX"),
        ({"BATCH_WAIT_MS": "soon"}, "BATCH_WAIT_MS"),
        ({"MIN_AUDIO_SECONDS": "5", "MAX_AUDIO_SECONDS": "2"}, "MIN_AUDIO_SECONDS"),
        ({"WORKER_CONSUME": "false", "WORKER_SERVE": "no"}, "WORKER_SERVE"),
        ({"WORKER_ROLE": "shadow"}, "WORKER_ROLE"),
        ({"WORKER_ROLE": "replay", "WORKER_CONSUME": "true"}, "WORKER_CONSUME"),
        ({"WORKER_ROLE": "replay", "WORKER_SERVE": "false"}, "WORKER_SERVE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_config([], env)


async def test_bad_config_exits_2_with_the_reason() -> None:
    async with worker_process({"SPEAKERS_MODEL": "whisper"}) as proc:
        assert await proc.wait() == 2
    assert any("SPEAKERS_MODEL must be one of" in line for line in proc.lines)


async def test_runs_serves_and_drains_on_sigterm(nats_server: NatsServer, nc: Client) -> None:
    env = {"NATS_URL": nats_server.url, "SPEAKERS_MODEL": "ge2e", "WORKER_CONSUME": "false"}
    async with worker_process(env) as proc:
        ready = await proc.wait_for_line(r"ready model=")
        assert "model=resemblyzer/ge2e" in ready and "device=cpu" in ready and "threads=" in ready
        loaded = next(i for i, line in enumerate(proc.lines) if "model loaded" in line)
        assert loaded < proc.lines.index(ready), "the model loads before the worker goes on the bus"
        ping = json.loads((await nc.request("$SRV.PING.embedding", b"", timeout=5)).data)
        assert ping["metadata"]["model_key"] == "resemblyzer/ge2e@0.1.4"
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0
    assert any("stopped" in line for line in proc.lines[-3:])


async def test_unreachable_bus_fails_fast() -> None:
    env = {"NATS_URL": "nats://127.0.0.1:1", "SPEAKERS_MODEL": "ge2e"}
    async with worker_process(env) as proc:
        assert await proc.wait(timeout=120) == 1
    assert any("cannot start" in line for line in proc.lines)


async def test_an_orphaned_worker_stops_itself(nats_server: NatsServer, tmp_path: Path) -> None:
    # ensureWorker sets SPEAKERS_EXIT_WITH_PARENT: a parent killed outright cannot stop its worker.
    log = tmp_path / "worker.log"
    parent_code = (
        "import subprocess, sys, time\n"
        f"log = open({str(log)!r}, 'w')\n"
        "child = subprocess.Popen([sys.executable, '-m', 'speaker_worker'], stderr=log)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {
        **os.environ,
        "NATS_URL": nats_server.url,
        "SPEAKERS_MODEL": "ge2e",
        "WORKER_CONSUME": "false",
        "SPEAKERS_EXIT_WITH_PARENT": "1",
    }
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", parent_code, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert parent.stdout is not None
        worker_pid = int(await asyncio.wait_for(parent.stdout.readline(), 30))
        deadline = time.monotonic() + 120
        while "ready model=" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.2)
        parent.kill()
        await parent.wait()
        deadline = time.monotonic() + 30
        while _running(worker_pid):
            assert time.monotonic() < deadline, "the orphaned worker kept running"
            await asyncio.sleep(0.2)
        text = log.read_text()
        assert "is gone; stopping" in text and "stopped" in text
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"

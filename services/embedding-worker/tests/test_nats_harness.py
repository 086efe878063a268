from __future__ import annotations

import os
from pathlib import Path

import nats
import pytest
from nats_harness import (
    INSTALL_COMMAND,
    NatsServer,
    NatsServerMissing,
    find_nats_server,
    nats_server,
)


def test_missing_binary_names_the_install_command(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": str(tmp_path), "DOCKER_HOST": "unix:///nonexistent.sock"}
    assert find_nats_server(env) is None
    with pytest.raises(NatsServerMissing) as err, nats_server(env):
        pass
    assert INSTALL_COMMAND in str(err.value)


def test_nats_server_bin_wins(tmp_path: Path) -> None:
    fake = tmp_path / "my-nats-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_nats_server({"NATS_SERVER_BIN": str(fake), "HOME": str(tmp_path), "PATH": ""}) == str(fake)


def test_nats_url_uses_an_existing_server() -> None:
    with nats_server({"NATS_URL": "nats://example.invalid:4222"}) as server:
        assert server.url == "nats://example.invalid:4222"
        assert not server.owned


async def test_started_server_has_jetstream_and_is_cleaned_up() -> None:
    if os.environ.get("NATS_URL"):
        pytest.skip("NATS_URL names an external server; this test starts its own")
    with nats_server() as server:
        started: NatsServer = server
        assert started.process is not None and started.store_dir is not None
        nc = await nats.connect(server.url)
        account = await nc.jetstream().account_info()
        await nc.close()
        assert account.limits is not None
        store = started.store_dir
        assert ":4222" not in server.url
    assert started.process.poll() is not None, "server process still running after the fixture ended"
    assert not store.exists(), "temporary store left behind"

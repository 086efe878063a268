"""One way to get a real JetStream server in tests: a local nats-server binary on a free port with a
temporary store, an existing server named by NATS_URL, or (no binary, Docker reachable, testcontainers
installed) a container. Otherwise a clear error with the install command."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_COMMAND = (
    "GOBIN=$HOME/.local/share/speakers/bin go install github.com/nats-io/nats-server/v2@v2.11.17"
)
START_TIMEOUT_S = 20.0
STOP_GRACE_S = 5.0
_LISTEN_LINE = re.compile(r"Listening for client connections on [^\s:]+:(\d+)")


class NatsServerMissing(RuntimeError):
    """No way to run nats-server here; the message says how to install one."""


class NatsServerStartFailed(RuntimeError):
    pass


@dataclass
class NatsServer:
    url: str
    store_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None
    _cleanup: list[contextlib.AbstractContextManager[object]] = field(default_factory=list)

    @property
    def owned(self) -> bool:
        """False for a server named by NATS_URL: tests must not assume they have it to themselves."""
        return self.process is not None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def nats_server_candidates(env: Mapping[str, str] | None = None) -> list[str]:
    """Where the harness looks, in order: $NATS_SERVER_BIN, the project's install dir, then PATH."""
    env = os.environ if env is None else env
    found: list[str] = []
    if env.get("NATS_SERVER_BIN"):
        found.append(env["NATS_SERVER_BIN"])
    home = env.get("HOME") or str(Path.home())
    found.append(str(Path(home) / ".local/share/speakers/bin/nats-server"))
    on_path = shutil.which("nats-server", path=env.get("PATH", ""))
    if on_path:
        found.append(on_path)
    return found


def find_nats_server(env: Mapping[str, str] | None = None) -> str | None:
    return next((c for c in nats_server_candidates(env) if os.access(c, os.X_OK) and Path(c).is_file()), None)


def docker_reachable(env: Mapping[str, str] | None = None) -> bool:
    """True when testcontainers is installed and a Docker engine answers."""
    env = os.environ if env is None else env
    try:
        import docker  # type: ignore[import-not-found]
        import testcontainers  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    try:
        docker.from_env(environment=dict(env)).ping()
        return True
    except Exception:
        return False


def missing_message(env: Mapping[str, str] | None = None) -> str:
    looked = ", ".join(nats_server_candidates(env)) or "(nowhere)"
    return (
        f"no nats-server binary found (looked at: {looked}; $PATH) and no Docker engine with testcontainers. "
        f"Install the server with: {INSTALL_COMMAND}  (or set NATS_URL to a running server started with -js)"
    )


@contextlib.contextmanager
def nats_server(env: Mapping[str, str] | None = None) -> Iterator[NatsServer]:
    """Yields a running JetStream server and always cleans up what it started."""
    env = os.environ if env is None else env
    if env.get("NATS_URL"):
        yield NatsServer(url=env["NATS_URL"])
        return
    binary = find_nats_server(env)
    if binary is not None:
        with local_nats_server(binary) as server:
            yield server
        return
    if docker_reachable(env):
        with container_nats_server() as server:
            yield server
        return
    raise NatsServerMissing(missing_message(env))


@contextlib.contextmanager
def local_nats_server(binary: str, extra_args: list[str] | None = None) -> Iterator[NatsServer]:
    with tempfile.TemporaryDirectory(prefix="speakers-nats-") as tmp:
        store = Path(tmp) / "store"
        log = Path(tmp) / "nats-server.log"
        # Port -1 lets the server pick a free port itself: no race with another process grabbing it.
        args = [binary, "-js", "-a", "127.0.0.1", "-p", "-1", "-sd", str(store), "-l", str(log)]
        proc = subprocess.Popen(
            [*args, *(extra_args or [])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        server = NatsServer(url="", store_dir=store, process=proc, log_file=log)
        try:
            server.url = f"nats://127.0.0.1:{_wait_ready(server)}"
            yield server
        finally:
            _stop(proc)


@contextlib.contextmanager
def container_nats_server() -> Iterator[NatsServer]:
    from testcontainers.core.container import (
        DockerContainer,  # type: ignore[import-not-found]
    )

    container = DockerContainer("nats:2.11.17").with_command("-js").with_exposed_ports(4222)
    with container:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Server is ready" not in _container_logs(container):
            if time.monotonic() > deadline:
                raise NatsServerStartFailed("nats container did not report ready")
            time.sleep(0.1)
        host = container.get_container_host_ip()
        yield NatsServer(url=f"nats://{host}:{container.get_exposed_port(4222)}")


def _container_logs(container: object) -> str:
    out, err = container.get_logs()  # type: ignore[attr-defined]
    return (out + err).decode(errors="replace")


def _wait_ready(server: NatsServer) -> int:
    assert server.process is not None and server.log_file is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    port: int | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            stderr = server.process.stderr.read().decode(errors="replace") if server.process.stderr else ""
            raise NatsServerStartFailed(
                f"nats-server exited with {server.process.returncode}:\n{stderr}\n{server.log_tail()}"
            )
        text = server.log_file.read_text(errors="replace") if server.log_file.exists() else ""
        if port is None and (match := _LISTEN_LINE.search(text)):
            port = int(match.group(1))
        # "Server is ready" comes after JetStream has opened its store, so the first API call succeeds.
        if port is not None and "Server is ready" in text:
            return port
        time.sleep(0.05)
    _stop(server.process)
    raise NatsServerStartFailed(f"nats-server not ready after {START_TIMEOUT_S}s:\n{server.log_tail()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # SIGTERM lets JetStream flush; SIGKILL only when it hangs.
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()

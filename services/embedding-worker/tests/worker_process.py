"""Runs `python -m speaker_worker` as a real child process and watches its log, as an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping


class WorkerProcess:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    async def wait_for_line(self, pattern: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            for line in self.lines:
                if regex.search(line):
                    return line
            if self.proc.returncode is not None or time.monotonic() > deadline:
                tail = "\n".join(self.lines[-20:])
                code = self.proc.returncode
                raise AssertionError(f"worker never logged /{pattern}/ (exit {code}):\n{tail}")
            await asyncio.sleep(0.1)

    async def wait(self, timeout: float = 30.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        return code

    def signal(self, sig: signal.Signals) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)


@contextlib.asynccontextmanager
async def worker_process(env: Mapping[str, str], *args: str) -> AsyncIterator[WorkerProcess]:
    """Starts the worker with `env` over this environment; always kills it at the end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "speaker_worker",
        *args,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    worker = WorkerProcess(proc)
    try:
        yield worker
    finally:
        if proc.returncode is None:
            proc.kill()
        with contextlib.suppress(Exception):
            await worker.wait(10)

"""`python -m speaker_worker`: read config, load the model, say ready, work until SIGTERM/SIGINT, drain."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .app import Worker, create_worker
from .config import ConfigError, load_config
from .errors import WorkerError

log = logging.getLogger("speaker_worker")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = load_config(sys.argv[1:] if argv is None else argv)
    except ConfigError as err:
        print(f"speaker-worker: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        # The model loads before connecting: a worker that is on the bus can always answer.
        worker = create_worker(config)
    except WorkerError as err:
        log.error("cannot load the model: %s", err)
        return 1
    try:
        return asyncio.run(_run(worker))
    except KeyboardInterrupt:
        return 130


async def _run(worker: Worker) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    exit_with_parent = os.environ.get("SPEAKERS_EXIT_WITH_PARENT") == "1"
    watcher = asyncio.create_task(_exit_with_parent(stop)) if exit_with_parent else None
    try:
        await worker.start()
    except Exception as err:
        log.error("cannot start: %s", err)
        if watcher is not None:
            watcher.cancel()
        return 1
    info = worker.embedder.info
    log.info(
        "ready model=%s revision=%s dim=%d device=%s threads=%d consume=%s serve=%s nats=%s",
        info.id,
        info.revision,
        info.dim,
        worker.embedder.device,
        worker.embedder.threads,
        worker.config.consume,
        worker.config.serve,
        worker.config.nats_url,
    )
    await stop.wait()
    if watcher is not None:
        watcher.cancel()
    log.info("stopping: finishing the batch in hand and draining")
    await worker.stop()
    log.info("stopped")
    return 0


async def _exit_with_parent(stop: asyncio.Event) -> None:
    """Set by ensureWorker(): a parent killed outright cannot stop its worker, so the worker notices it was
    orphaned (re-parented) and stops itself."""
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(1)
        if os.getppid() != parent:
            log.warning("parent process %d is gone; stopping", parent)
            stop.set()


if __name__ == "__main__":
    sys.exit(main())

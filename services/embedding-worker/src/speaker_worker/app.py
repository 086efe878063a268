"""Builds a worker from its config (build) and runs it on a NATS connection (run); no import side effects."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nats.aio.client import Client

from . import bus
from .audio import AudioLimits
from .config import WorkerConfig
from .consumer import AudioConsumer
from .embedder import Embedder
from .models import Encoder, load_encoder
from .models.ecapa import ECAPA_INFO
from .models.ge2e import GE2E_INFO
from .service import EmbeddingService

log = logging.getLogger("speaker_worker")

# The models ADR 0001 names, reported by the `models` endpoint as what a worker can be started with.
AVAILABLE_MODELS = (ECAPA_INFO, GE2E_INFO)


class Worker:
    """One model, one inference thread, and the two ways in: the audio consumer and the micro service."""

    def __init__(self, config: WorkerConfig, embedder: Embedder):
        self.config = config
        self.embedder = embedder
        self.nc: Client | None = None
        self.consumer: AudioConsumer | None = None
        self.service: EmbeddingService | None = None
        # One thread: forward passes are serialized anyway, and the event loop never runs one.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")

    async def start(self, nc: Client | None = None) -> None:
        """Connects (unless given a connection), then starts consuming and serving as configured."""
        self.nc = nc or await bus.connect(self.config.nats_url, name="embedding-worker")
        # A replay worker never takes live audio, whatever its config object says.
        if self.config.consume and self.config.role == "live":
            self.consumer = AudioConsumer(self.nc, self.embedder, self._executor, self.config)
            await self.consumer.start()
        if self.config.serve:
            self.service = EmbeddingService(
                self.nc,
                self.embedder,
                self._executor,
                self.config,
                available=[bus.model_ref(m) for m in AVAILABLE_MODELS],
                extra_stats=self.stats,
            )
            await self.service.start()

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"embedder": self.embedder.stats}
        if self.consumer is not None:
            out["consumer"] = vars(self.consumer.stats).copy()
        return out

    async def stop(self, *, close: bool = True) -> None:
        """Stops taking work, finishes the batch in hand, then drains so acks and replies reach the server."""
        if self.service is not None:
            await self.service.stop()
            self.service = None
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None
        if self.nc is not None and close and not self.nc.is_closed:
            await self.nc.drain()
        self.nc = None
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)
        self.embedder.close()


def load_model(config: WorkerConfig) -> Encoder:
    return load_encoder(
        config.model,
        device=config.device,
        cache_dir=str(config.cache_dir),
        source=config.model_source,
        threads=config.threads,
        log=log,
        parity_audio=[str(root) for root in config.audio_roots],
    )


def create_worker(config: WorkerConfig, encoder: Encoder | None = None) -> Worker:
    """Loads the model unless one is given (tests share one), and wires the worker; does not connect."""
    limits = AudioLimits(min_seconds=config.min_audio_seconds, max_seconds=config.max_audio_seconds)
    embedder = Embedder(encoder or load_model(config), limits, max_batch=config.batch_max)
    return Worker(config, embedder)

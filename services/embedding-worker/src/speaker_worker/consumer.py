"""The event path: audio.captured in, embedding.computed / embedding.failed out, in batches.

Every replica binds the same durable pull consumer, so JetStream spreads the clips over them. An input is
acked only after its output is stored; a crash in between redelivers it, and the deterministic output id
makes JetStream drop the second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError, ObjectNotFoundError

from . import bus, contract
from .audio import AudioLimits, decode_audio
from .config import WorkerConfig
from .embedder import Embedder
from .errors import WorkerError
from .heap import HeapTrimmer
from .quality import measure

DURABLE = "embedding-worker"
AUDIO_STREAM = "AUDIO"
AUDIO_FILTER = "audio.captured.>"
# Idle pull requests wait this long; short enough that stop() is prompt, long enough not to spin.
_IDLE_FETCH_S = 1.0

log = logging.getLogger("speaker_worker.consumer")


class InvalidInput(Exception):
    """The message breaks the contract (headers or metadata): it is dead-lettered, never retried."""

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.details = details or {}


@dataclass
class _Item:
    msg: Msg
    event_id: str = ""
    correlation_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""
    samples: np.ndarray | None = None
    vector: np.ndarray | None = None
    quality: dict[str, float] | None = None
    error: WorkerError | None = None
    compute_ms: float = 0.0


@dataclass
class ConsumerStats:
    batches: int = 0
    clips: int = 0
    computed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    redelivered: int = 0
    naked: int = 0
    last_batch_size: int = 0


class AudioConsumer:
    def __init__(self, nc: Client, embedder: Embedder, executor: Executor, config: WorkerConfig):
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream()
        self._embedder = embedder
        self._executor = executor
        self._config = config
        self._limits = AudioLimits(min_seconds=config.min_audio_seconds, max_seconds=config.max_audio_seconds)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._heap = HeapTrimmer()
        self.stats = ConsumerStats()

    async def start(self) -> None:
        """Provisions the streams, binds the shared durable and starts the batch loop."""
        await bus.ensure_streams(self._js)
        self._sub = await self._js.pull_subscribe(
            AUDIO_FILTER,
            durable=DURABLE,
            stream=AUDIO_STREAM,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._config.ack_wait_s,
                max_deliver=self._config.max_deliver,
                max_ack_pending=max(64, (self._config.batch_max or 16) * 4),
            ),
        )
        self._task = asyncio.create_task(self._run(), name="audio-consumer")

    async def stop(self) -> None:
        """Finishes the batch in hand (publish + ack), then stops pulling."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _run(self) -> None:
        """Pulls without waiting for company: whatever is pending goes at once (the first clip of an idle
        queue included), and while its forward pass runs, the next pull takes what arrived meanwhile and
        decodes it, so the next pass starts the moment this one ends. At most two batch caps of clips are
        in hand at a time."""
        in_hand: set[asyncio.Task[None]] = set()
        clips_in_hand = 0

        loop = asyncio.get_running_loop()

        def done(task: asyncio.Task[None], size: int) -> None:
            nonlocal clips_in_hand
            in_hand.discard(task)
            clips_in_hand -= size
            if clips_in_hand == 0 and not self._stopping.is_set():
                # Queued behind any pass already submitted, so it never runs beside one.
                with contextlib.suppress(RuntimeError):  # the executor shut down meanwhile
                    loop.run_in_executor(self._executor, self._heap.trim)

        while not self._stopping.is_set():
            room = self._limit() - clips_in_hand
            if room <= 0:
                await asyncio.wait(in_hand, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                msgs = await self._fetch_batch(room)
            except Exception as err:
                log.warning("fetch failed, retrying: %s", err)
                await asyncio.sleep(1)
                continue
            if not msgs:
                continue
            clips_in_hand += len(msgs)
            task = asyncio.create_task(self._process_guarded(msgs))
            in_hand.add(task)
            size = len(msgs)
            task.add_done_callback(functools.partial(done, size=size))
        if in_hand:
            await asyncio.gather(*in_hand, return_exceptions=True)

    def _limit(self) -> int:
        return max(2, 2 * self._embedder.max_batch)

    async def _process_guarded(self, msgs: list[Msg]) -> None:
        try:
            await self.process(msgs)
        except Exception as err:
            # process() answers every clip itself; reaching here is a bug. Put the clips back for a later
            # delivery (dead-lettered after max_deliver) rather than leave them to the ack wait.
            log.exception("batch of %d failed outside its clips", len(msgs))
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await self._retry_later(msg, err)

    async def _fetch_batch(self, want: int | None = None) -> list[Msg]:
        """Every pending message up to `want` (the batch cap by default) at once; on an idle queue, the first
        one to arrive (nats-py's fetch asks with no_wait first, then waits for one)."""
        assert self._sub is not None
        want = max(1, min(want or self._embedder.max_batch, self._embedder.max_batch))
        try:
            msgs = await self._sub.fetch(want, timeout=_IDLE_FETCH_S)
        except NatsTimeoutError:
            return []
        # Opt-in (BATCH_WAIT_MS > 0): trade latency for fuller batches by waiting for company.
        if len(msgs) < want and self._config.batch_wait_ms > 0:
            with contextlib.suppress(NatsTimeoutError):
                msgs += await self._sub.fetch(want - len(msgs), timeout=self._config.batch_wait_ms / 1000)
        return msgs

    async def process(self, msgs: list[Msg]) -> None:
        """One batch: validate, decode (decode threads) and embed (inference thread, in a pass shared with
        whatever else waits), publish every output, then ack. Each clip ends computed or failed on its own."""
        items: list[_Item] = []
        for msg in msgs:
            if msg.metadata.num_delivered > 1:
                self.stats.redelivered += 1
            try:
                items.append(await self._admit(msg))
            except InvalidInput as err:
                await self._dead_letter(msg, str(err), "INVALID_EVENT")
        if not items:
            return
        self.stats.batches += 1
        self.stats.clips += len(items)
        self.stats.last_batch_size = len(items)

        keepalive = asyncio.create_task(self._keep_in_progress(items))
        try:
            await self._decode_and_embed(items)
        finally:
            keepalive.cancel()

        published = await asyncio.gather(*(self._publish(item) for item in items), return_exceptions=True)
        if self._config.pause_before_ack_ms:
            log.info("test hook: pausing %d ms before ack", self._config.pause_before_ack_ms)
            await asyncio.sleep(self._config.pause_before_ack_ms / 1000)
        for item, outcome in zip(items, published, strict=True):
            if isinstance(outcome, BaseException):
                await self._retry_later(item.msg, outcome)
            else:
                await item.msg.ack()
        await bus.flush(self._nc)

    async def _admit(self, msg: Msg) -> _Item:
        """Checks headers and metadata against the contract and fetches object-store audio."""
        try:
            ce = bus.parse_ce(msg.headers)
        except bus.HeaderError as err:
            raise InvalidInput(str(err)) from err
        try:
            meta = contract.decode_meta("AudioCaptured", (msg.headers or {}).get(bus.H_META))
        except contract.ContractError as err:
            raise InvalidInput(err.message, err.details) from err
        item = _Item(msg=msg, event_id=ce.id, correlation_id=ce.correlation_id or ce.id, meta=meta)
        ref = meta["audio"]
        if ref["kind"] == "object":
            try:
                item.data = await self._get_object(ref)
            except WorkerError as err:
                item.error = err
        else:
            item.data = msg.data
        return item

    async def _get_object(self, ref: dict[str, Any]) -> bytes:
        try:
            store = await self._js.object_store(ref["bucket"])
            result = await store.get(ref["name"])
        except (NotFoundError, ObjectNotFoundError) as err:
            raise WorkerError(
                "AUDIO_OBJECT_NOT_FOUND",
                f"No object {ref['name']!r} in bucket {ref['bucket']!r}.",
                details={"bucket": ref["bucket"], "name": ref["name"]},
            ) from err
        return result.data or b""

    async def _decode_and_embed(self, items: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        pending = [item for item in items if item.error is None]
        decoded = await asyncio.gather(
            *(loop.run_in_executor(self._embedder.decode_pool, self._decode, item) for item in pending),
            return_exceptions=True,
        )
        for item, outcome in zip(pending, decoded, strict=True):
            if isinstance(outcome, BaseException):
                item.error = _as_worker_error(outcome, "decoding")
            else:
                item.samples = outcome
        await self._embedder.embed_decoded(items, self._executor)

    def _decode(self, item: _Item) -> np.ndarray:
        fmt = item.meta["format"]
        return decode_audio(
            item.data,
            format=fmt["encoding"],
            sample_rate=fmt["sampleRate"],
            channels=fmt["channels"],
            limits=self._limits,
        )

    async def _keep_in_progress(self, items: list[_Item]) -> None:
        """A long forward pass must not outlast the ack wait and get its batch redelivered elsewhere."""
        interval = max(1.0, self._config.ack_wait_s / 3)
        while True:
            await asyncio.sleep(interval)
            for item in items:
                with contextlib.suppress(Exception):
                    await item.msg.in_progress()

    async def _publish(self, item: _Item) -> None:
        info = self._embedder.info
        model = bus.model_ref(info)
        event_id = contract.embedding_event_id(item.event_id, model)
        if item.vector is not None:
            payload: dict[str, Any] = {
                "sourceEventId": item.event_id,
                "source": item.meta["source"],
                "model": model,
                "vector": [float(x) for x in item.vector],
                "durationMs": round(len(item.samples) / 16.0, 3) if item.samples is not None else 0,
                "computeMs": round(item.compute_ms, 3),
                "device": str(self._embedder.device),
            }
            if "capturedAt" in item.meta:
                payload["capturedAt"] = item.meta["capturedAt"]
            if item.quality is not None:
                payload["quality"] = item.quality
            elif item.samples is not None:
                payload["quality"] = measure(item.samples)
            name, subject = "EmbeddingComputed", f"embedding.computed.{bus.model_token(info)}"
        else:
            assert item.error is not None
            payload = {"sourceEventId": item.event_id, "model": model, "error": item.error.to_payload()}
            name, subject = "EmbeddingFailed", f"embedding.failed.{bus.model_token(info)}"
            log.info("clip %s failed: %s", item.event_id, item.error)
        # Our own output must match the contract; a mismatch here is a bug, not a bad input.
        contract.validate(name, payload)
        await bus.publish_event(
            self._js,
            subject,
            payload,
            event_type=contract.type_id(name),
            event_id=event_id,
            correlation_id=item.correlation_id,
        )
        if item.vector is not None:
            self.stats.computed += 1
        else:
            self.stats.failed += 1

    async def _retry_later(self, msg: Msg, err: BaseException) -> None:
        if msg.metadata.num_delivered >= self._config.max_deliver:
            await self._dead_letter(
                msg, f"gave up after {msg.metadata.num_delivered} deliveries: {err}", "INTERNAL"
            )
            return
        log.warning("publish failed, input redelivered in %.1f s: %s", self._config.nak_delay_s, err)
        self.stats.naked += 1
        await msg.nak(delay=self._config.nak_delay_s)

    async def _dead_letter(self, msg: Msg, reason: str, code: str) -> None:
        log.warning("dead-lettering %s: %s", msg.subject, reason)
        self.stats.dead_lettered += 1
        await bus.dead_letter(self._js, msg, reason=reason, code=code)


def _as_worker_error(err: BaseException, stage: str) -> WorkerError:
    """A clip's own error: WorkerErrors as they are, anything else (a decoder bug) as INTERNAL naming it."""
    if isinstance(err, WorkerError):
        return err
    log.error("unexpected error while %s a clip: %s: %s", stage, type(err).__name__, err, exc_info=err)
    return WorkerError(
        "INTERNAL",
        f"Unexpected error while {stage} the clip: {type(err).__name__}: {str(err)[:300]}",
        details={"exception": type(err).__name__},
    )

"""The request/reply path: the NATS micro service `embedding` (ADR-32), the original HTTP API's parity.

Every live replica joins queue group `embedding` on `speakers.embedding.*`, so adding workers scales it
out. Every replica, live or replay, also answers its own model's `speakers.embedding.<model token>.*` in
queue group `embedding-<model token>`: a caller that needs one model (replay, enrollment) names it, and
workers of two models never answer each other's requests. A replay worker serves only those. Health is
the framework's PING/INFO/STATS: model, role, device and threads in the metadata, clips/batches/errors in
each endpoint's data. Errors go out as Nats-Service-Error(-Code) headers with the ErrorPayload JSON as the
body.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from nats.aio.client import Client
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import EndpointStats, Service, ServiceConfig

from . import bus, contract
from .audio import AudioLimits, decode_audio, read_audio_file
from .augment_endpoint import run_augment
from .config import WorkerConfig
from .embedder import Embedder
from .errors import WorkerError
from .quality import measure
from .speech import voiced_ms

SERVICE_NAME = "embedding"
QUEUE_GROUP = "embedding"
SUBJECT_PREFIX = "speakers.embedding"
SAMPLE_RATE = 16000
VERSION = importlib.metadata.version("speaker-worker")

# Requests answered at once by one worker; more wait in the subscription (and in NATS) until one finishes.
MAX_IN_FLIGHT = 64

log = logging.getLogger("speaker_worker.service")

Reply = dict[str, Any]


def model_prefix(token: str) -> str:
    """`speakers.embedding.<model token>`: the subjects only workers of that model answer."""
    return f"{SUBJECT_PREFIX}.{token}"


def model_queue(token: str) -> str:
    return f"{QUEUE_GROUP}-{token}"


@dataclass
class EndpointCounters:
    clips: int = 0
    batches: int = 0
    errors: int = 0
    last_error_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clips": self.clips, "batches": self.batches, "errors": self.errors}
        if self.last_error_code:
            out["lastErrorCode"] = self.last_error_code
        return out


class EmbeddingService:
    def __init__(
        self,
        nc: Client,
        embedder: Embedder,
        executor: Executor,
        config: WorkerConfig,
        *,
        available: list[dict[str, Any]] | None = None,
        extra_stats: Callable[[], dict[str, Any]] | None = None,
    ):
        self._nc = nc
        self._embedder = embedder
        self._executor = executor
        self._config = config
        self._limits = AudioLimits(min_seconds=config.min_audio_seconds, max_seconds=config.max_audio_seconds)
        self._roots = [str(r) for r in config.audio_roots]
        self._available = available or [bus.model_ref(embedder.info)]
        self._extra_stats = extra_stats
        self._service: Service | None = None
        self._ops: dict[str, tuple[Callable[[Request], Awaitable[Reply]], str]] = {
            "extract": (self._extract, "EmbeddingResult"),
            "extract-batch": (self._extract_batch, "BatchResult"),
            "similarity": (self._similarity, "SimilarityReply"),
            "centroid": (self._centroid, "CentroidReply"),
            "models": (self._models, "ModelsReply"),
            "augment": (self._augment, "AugmentReply"),
        }
        # One set of counters per operation, shared by its generic and its model-specific endpoint.
        self.counters = {name: EndpointCounters() for name in self._ops}
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._op_of_endpoint: dict[str, str] = {}

    @property
    def id(self) -> str | None:
        return self._service.id if self._service else None

    def metadata(self) -> dict[str, str]:
        info = self._embedder.info
        return {
            "model_id": info.id,
            "model_revision": info.revision,
            "model_dim": str(info.dim),
            "model_key": bus.model_key(info),
            "device": str(self._embedder.device),
            "threads": str(self._threads()),
            "role": self._config.role,
        }

    async def start(self) -> None:
        self._service = await add_service(
            self._nc,
            ServiceConfig(
                name=SERVICE_NAME,
                version=VERSION,
                description="Speaker embeddings: extract(-batch), similarity, centroid, models, augment",
                metadata=self.metadata(),
                queue_group=QUEUE_GROUP,
                stats_handler=self._endpoint_data,
            ),
        )
        token = bus.model_token(self._embedder.info)
        if self._config.role == "live":
            group = self._service.add_group(name=SUBJECT_PREFIX, queue_group=QUEUE_GROUP)
            for op in self._ops:
                self._op_of_endpoint[op] = op
                await group.add_endpoint(name=op, handler=self._make_handler(op))
        model_group = self._service.add_group(name=model_prefix(token), queue_group=model_queue(token))
        for op in self._ops:
            # Endpoint names must be unique within the service; the model token keeps them apart.
            name = f"{token}-{op}"
            self._op_of_endpoint[name] = op
            await model_group.add_endpoint(name=name, subject=op, handler=self._make_handler(op))
        await bus.flush(self._nc)

    async def stop(self) -> None:
        if self._service is not None:
            await self._service.stop()
            self._service = None
        if self._tasks:  # requests already taken are answered before the connection drains
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _endpoint_data(self, stats: EndpointStats) -> dict[str, Any]:
        data = self.counters[self._op_of_endpoint.get(stats.name, stats.name)].to_dict()
        if self._extra_stats is not None:
            data["worker"] = self._extra_stats()
        return data

    def _make_handler(self, name: str) -> Callable[[Request], Awaitable[None]]:
        handler, reply_schema = self._ops[name]
        counters = self.counters[name]

        async def handle(request: Request) -> None:
            try:
                reply = await handler(request)
                # Our own reply must match the contract; a mismatch is our bug, reported as INTERNAL.
                contract.validate(reply_schema, reply)
            except WorkerError as err:
                await self._respond_error(request, counters, err)
                return
            except Exception as err:
                log.exception("%s failed", name)
                await self._respond_error(
                    request, counters, WorkerError("INTERNAL", f"{type(err).__name__}: {err}")
                )
                return
            await request.respond(bus.json_bytes(reply), headers={"Content-Type": bus.JSON_CONTENT_TYPE})

        async def dispatch(request: Request) -> None:
            # nats-py runs one subscription's callbacks one after another; answering each request in a task
            # of its own lets requests that arrive together share a forward pass. Past MAX_IN_FLIGHT, the
            # subscription waits (back-pressure) instead of queueing without bound.
            await self._in_flight.acquire()
            task = asyncio.create_task(handle(request), name=f"embedding-{name}")
            self._tasks.add(task)
            task.add_done_callback(self._finished)

        return dispatch

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._in_flight.release()

    async def _respond_error(self, request: Request, counters: EndpointCounters, err: WorkerError) -> None:
        counters.errors += 1
        counters.last_error_code = err.code
        payload = err.to_payload()
        # Whatever raised it, a reply stays small: the header carries one line, the body a bounded message.
        payload["message"] = _clip(payload.get("message", ""), MAX_MESSAGE_CHARS)
        if len(bus.json_bytes(payload.get("details", {}))) > MAX_DETAILS_BYTES:
            payload.pop("details", None)
        # A header value must be one ASCII line: nats-py's parser chokes on anything else.
        description = (
            _clip(f"{err.code}: {err.message}", MAX_MESSAGE_CHARS).encode("ascii", "replace").decode()
        )
        await request.respond_error(str(err.status), description, data=bus.json_bytes(payload))

    # --- endpoints -------------------------------------------------------------------------------------

    async def _extract(self, request: Request) -> Reply:
        meta = _meta(request, "ExtractMeta")
        body = request.data or b""
        if meta.get("path") and body:
            raise WorkerError("INVALID_REQUEST", "Send either audio bytes or a path, not both.")
        item = _Clip(meta=meta, data=body)
        await self._decode_and_embed([item])
        self.counters["extract"].clips += 1
        self.counters["extract"].batches += 1
        if item.error is not None:
            raise item.error
        return item.result(self._embedder.info)

    async def _extract_batch(self, request: Request) -> Reply:
        meta = _meta(request, "ExtractBatchMeta")
        body = request.data or b""
        parts = bus.split_by_lengths(body, [int(item["length"]) for item in meta["items"]], "item lengths")
        clips = [_Clip(meta=m, data=part) for m, part in zip(meta["items"], parts, strict=True)]
        await self._decode_and_embed(clips)
        counters = self.counters["extract-batch"]
        counters.clips += len(clips)
        counters.batches += 1
        items: list[dict[str, Any]] = []
        for index, clip in enumerate(clips):
            if clip.error is not None:
                items.append({"index": index, "ok": False, "error": clip.error.to_payload()})
            else:
                items.append({"index": index, "ok": True, "embedding": clip.result(self._embedder.info)})
        errors = sum(1 for clip in clips if clip.error is not None)
        return {"total": len(clips), "processed": len(clips), "errorsCount": errors, "items": items}

    async def _similarity(self, request: Request) -> Reply:
        body = _json(request)
        contract_check("SimilarityRequest", body)
        a, b = _vector(body["a"], "a"), _vector(body["b"], "b")
        if a.shape != b.shape:
            raise WorkerError(
                "EMBEDDING_DIM_MISMATCH",
                f"The vectors have different lengths ({a.size} and {b.size}); compare vectors of one model.",
                details={"dimA": int(a.size), "dimB": int(b.size)},
            )
        a, b = _unit(a, "a"), _unit(b, "b")
        similarity = float(np.clip(np.dot(a, b), -1.0, 1.0))
        return {"similarity": similarity}

    async def _centroid(self, request: Request) -> Reply:
        body = _json(request)
        if isinstance(body, dict) and body.get("embeddings") == []:
            raise WorkerError("EMBEDDINGS_EMPTY", "No embeddings were given; send at least one.")
        contract_check("CentroidRequest", body)
        vectors = [_vector(v, f"embeddings[{i}]") for i, v in enumerate(body["embeddings"])]
        dims = sorted({v.size for v in vectors})
        if len(dims) > 1:
            raise WorkerError(
                "EMBEDDING_DIM_MISMATCH",
                f"The embeddings have different lengths ({', '.join(map(str, dims))}); send one model's.",
                details={"dims": dims},
            )
        mean = np.stack([_unit(v, f"embeddings[{i}]") for i, v in enumerate(vectors)]).mean(axis=0)
        length = float(np.linalg.norm(mean))
        if length < 1e-9:
            raise WorkerError("INVALID_REQUEST", "The embeddings cancel out; their mean has no direction.")
        centroid = mean / length
        return {"centroid": [float(x) for x in centroid], "dim": int(centroid.size), "count": len(vectors)}

    async def _augment(self, request: Request) -> Reply:
        meta = _meta(request, "AugmentMeta")
        body = request.data or b""
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(
            self._executor, run_augment, self._embedder, meta, body, self._roots, self._limits
        )
        self.counters["augment"].clips += 1 + len(reply["copies"])
        self.counters["augment"].batches += 1
        return reply

    async def _models(self, request: Request) -> Reply:
        return {
            "active": bus.model_ref(self._embedder.info),
            "device": str(self._embedder.device),
            "threads": self._threads(),
            "available": self._available,
        }

    # --- inference -------------------------------------------------------------------------------------

    async def _decode_and_embed(self, clips: list[_Clip]) -> None:
        """Decodes on the decode threads, then embeds the good clips in a forward pass shared with whatever
        else is waiting (other requests, the audio consumer). Each clip ends with a vector or its error."""
        loop = asyncio.get_running_loop()
        decoded = await asyncio.gather(
            *(loop.run_in_executor(self._embedder.decode_pool, self._decode, clip) for clip in clips),
            return_exceptions=True,
        )
        for clip, outcome in zip(clips, decoded, strict=True):
            if isinstance(outcome, WorkerError):
                clip.error = outcome
            elif isinstance(outcome, BaseException):
                log.error("unexpected error decoding a clip", exc_info=outcome)
                clip.error = WorkerError(
                    "INTERNAL", f"Unexpected error while decoding the clip: {type(outcome).__name__}."
                )
            else:
                clip.samples = outcome
        await self._embedder.embed_decoded(clips, self._executor)

    def _decode(self, clip: _Clip) -> np.ndarray:
        """Runs on a decode thread; so does the voiced measure (an FFT per frame), off the event loop."""
        samples = self._read(clip)
        clip.voiced_ms = voiced_ms(samples)
        return samples

    def _read(self, clip: _Clip) -> np.ndarray:
        path = clip.meta.get("path")
        if path:
            if clip.data:
                raise WorkerError("INVALID_REQUEST", "An item with a path must have length 0.")
            return read_audio_file(path, self._roots, self._limits)
        return decode_audio(
            clip.data,
            format=clip.meta.get("format"),
            sample_rate=clip.meta.get("sampleRate"),
            channels=clip.meta.get("channels"),
            limits=self._limits,
        )

    def _threads(self) -> int:
        return max(1, int(getattr(self._embedder, "threads", None) or 1))


@dataclass
class _Clip:
    meta: dict[str, Any]
    data: bytes
    samples: np.ndarray | None = None
    vector: np.ndarray | None = None
    error: WorkerError | None = None
    compute_ms: float = 0.0
    voiced_ms: float = 0.0
    quality: dict[str, float] | None = None

    def result(self, info: Any) -> Reply:
        assert self.vector is not None and self.samples is not None
        return {
            "model": bus.model_ref(info),
            "vector": [float(x) for x in self.vector],
            "durationMs": round(len(self.samples) * 1000 / SAMPLE_RATE, 3),
            "computeMs": round(self.compute_ms, 3),
            "voicedMs": self.voiced_ms,
            "quality": self.quality if self.quality is not None else measure(self.samples),
        }


# An error reply names what is wrong, never echoes the input: jsonschema's messages quote the offending
# value whole (a 1,001-vector list is megabytes), and the description also travels as a NATS header.
MAX_ISSUES = 3
MAX_ISSUE_CHARS = 160
MAX_MESSAGE_CHARS = 600
MAX_DETAILS_BYTES = 2048


def contract_check(name: str, payload: Any) -> None:
    """Validates a request; a mismatch is the caller's INVALID_REQUEST, with the offending field(s)."""
    try:
        contract.validate(name, payload)
    except contract.ContractError as err:
        issues = [(path or "/", _clip(message)) for path, message in err.issues[:MAX_ISSUES]]
        more = len(err.issues) - len(issues)
        where = "; ".join(f"{path}: {message}" for path, message in issues)
        message = f"{name} is invalid: {where}" + (f" (and {more} more)" if more > 0 else "")
        details = {"issues": [{"path": p, "message": m} for p, m in issues]}
        raise WorkerError("INVALID_REQUEST", message, details=details) from err


def _clip(text: str, limit: int = MAX_ISSUE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _meta(request: Request, schema: str) -> dict[str, Any]:
    raw = (request.headers or {}).get(bus.H_META)
    meta: Any = {}
    if raw:
        try:
            meta = json.loads(raw, parse_constant=_reject_constant)
        except ValueError as err:
            raise WorkerError("INVALID_REQUEST", f"The {bus.H_META} header is not JSON: {err}.") from err
    contract_check(schema, meta)
    return meta


def _json(request: Request) -> Any:
    try:
        return json.loads(request.data or b"", parse_constant=_reject_constant)
    except ValueError as err:
        raise WorkerError("INVALID_REQUEST", f"The request body is not JSON: {err}.") from err


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unit(vector: np.ndarray, name: str) -> np.ndarray:
    """The vector scaled to length 1, exactly even for values near the float limits (scaled by its largest
    component first, so the norm cannot overflow to inf and turn the answer into NaN)."""
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    if peak == 0.0:
        raise WorkerError("INVALID_REQUEST", f"{name} is a zero vector: it has no direction.")
    scaled = vector / peak
    unit = scaled / np.linalg.norm(scaled)
    if not np.isfinite(unit).all():
        raise WorkerError("INVALID_REQUEST", f"{name} cannot be normalised in double precision.")
    return unit


def _vector(values: Any, name: str) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.ndim != 1 or not np.isfinite(vector).all():
        raise WorkerError("INVALID_REQUEST", f"{name} must be a list of finite numbers.")
    return vector

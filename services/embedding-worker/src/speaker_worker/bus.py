"""The worker's side of the bus conventions (ADR 0001): connecting, CloudEvents headers, publishing with
a dedupe id, provisioning the streams it needs, and dead-lettering messages it can never process."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, PubAck, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from . import contract
from .errors import WorkerError

CE_SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"
CE_SOURCE = "/services/embedding-worker"

H_SPEC = "ce-specversion"
H_ID = "ce-id"
H_TYPE = "ce-type"
H_SOURCE = "ce-source"
H_TIME = "ce-time"
H_CONTENT_TYPE = "ce-datacontenttype"
H_CORRELATION = "ce-correlationid"
H_MSG_ID = "Nats-Msg-Id"
H_META = "Speakers-Meta"
H_DEAD_REASON = "Speakers-Dead-Reason"
H_DEAD_CODE = "Speakers-Dead-Code"

# JetStream answers this when a stream of that name exists with another configuration.
_STREAM_NAME_IN_USE = 10058
# Header values are single lines; the server's max payload covers headers, so long reasons are cut.
_MAX_REASON_CHARS = 1000

log = logging.getLogger("speaker_worker.bus")


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvents binary-mode attributes of a received message."""

    id: str
    type: str
    source: str
    time: str | None
    content_type: str | None
    correlation_id: str | None


class HeaderError(ValueError):
    """A received message lacks a CloudEvents attribute the contract requires."""


async def connect(url: str, name: str, *, first_attempts: int = 5) -> Client:
    """Gives up after `first_attempts` tries at start (a wrong URL is reported, not retried forever),
    then reconnects forever: a restarting home server must never stop a running worker."""

    async def on_disconnect() -> None:
        log.warning("disconnected from NATS")

    async def on_reconnect() -> None:
        log.info("reconnected to NATS at %s", nc.connected_url.netloc if nc.connected_url else "?")

    async def on_error(err: Exception) -> None:
        log.error("NATS error: %s", err)

    # A cluster's servers come comma-separated (the Go client's form, and what the TS services read); nats-py
    # wants a list, and each URL keeps its own user:password@ (servers it discovers later carry none).
    servers = [s.strip() for s in url.split(",") if s.strip()]
    nc = await nats.connect(
        servers,
        name=name,
        max_reconnect_attempts=first_attempts,
        reconnect_time_wait=1,
        allow_reconnect=True,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
    )
    nc.options["max_reconnect_attempts"] = -1
    return nc


async def flush(nc: Client) -> None:
    """Returns once the server has processed everything sent so far. nats-py's own flush() writes its PING
    ahead of commands still queued for the flusher task (subscriptions included), so a PONG alone does not
    prove a new subscription is live: push the queue out first."""
    await nc._flush_pending(force_flush=True)
    await nc.flush()


def ce_headers(
    *,
    event_type: str,
    event_id: str | None = None,
    correlation_id: str | None = None,
    content_type: str = JSON_CONTENT_TYPE,
    source: str = CE_SOURCE,
    time: datetime | None = None,
) -> dict[str, str]:
    """CloudEvents binary-mode headers, with Nats-Msg-Id = ce-id so JetStream dedupes a retried publish."""
    event_id = event_id or str(uuid.uuid4())
    return {
        H_SPEC: CE_SPEC_VERSION,
        H_ID: event_id,
        H_TYPE: event_type,
        H_SOURCE: source,
        H_TIME: rfc3339(time or datetime.now(UTC)),
        H_CONTENT_TYPE: content_type,
        # The first event of a chain is its own correlation id.
        H_CORRELATION: correlation_id or event_id,
        H_MSG_ID: event_id,
    }


def parse_ce(headers: Mapping[str, str] | None) -> CloudEvent:
    headers = headers or {}
    missing = [h for h in (H_ID, H_TYPE, H_SOURCE) if not headers.get(h)]
    if missing:
        raise HeaderError(f"missing CloudEvents header(s): {', '.join(missing)}")
    return CloudEvent(
        id=headers[H_ID],
        type=headers[H_TYPE],
        source=headers[H_SOURCE],
        time=headers.get(H_TIME),
        content_type=headers.get(H_CONTENT_TYPE),
        correlation_id=headers.get(H_CORRELATION),
    )


def split_by_lengths(body: bytes, lengths: list[int], what: str = "lengths") -> list[bytes]:
    """A request body of concatenated parts, cut as the meta's `lengths` say; INVALID_REQUEST when they do not
    add up to the body (`what` names them in the message)."""
    if sum(lengths) != len(body):
        raise WorkerError(
            "INVALID_REQUEST",
            f"The {what} add up to {sum(lengths)} bytes but the body holds {len(body)}.",
            details={"lengths": sum(lengths), "bodyBytes": len(body)},
        )
    parts: list[bytes] = []
    offset = 0
    for length in lengths:
        parts.append(body[offset : offset + length])
        offset += length
    return parts


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


async def publish_event(
    js: JetStreamContext,
    subject: str,
    payload: Mapping[str, Any],
    *,
    event_type: str,
    event_id: str,
    correlation_id: str | None,
    timeout: float = 5.0,
) -> PubAck:
    """Publishes one JSON event and waits for the stream's ack; a redelivered input gives ack.duplicate."""
    headers = ce_headers(event_type=event_type, event_id=event_id, correlation_id=correlation_id)
    return await js.publish(subject, json_bytes(payload), timeout=timeout, headers=headers)


async def ensure_streams(
    js: JetStreamContext, names: tuple[str, ...] = ("AUDIO", "EMBEDDINGS", "DEADLETTER")
) -> None:
    """Creates the streams the worker reads and writes; an existing stream is left as its operator set it."""
    streams = contract.topology()["streams"]
    for name in names:
        spec = streams[name]
        config = StreamConfig(
            name=spec["name"],
            subjects=list(spec["subjects"]),
            storage=StorageType.FILE if spec["storage"] == "file" else StorageType.MEMORY,
            max_age=spec["maxAgeMs"] / 1000,
            max_bytes=spec["maxBytes"],
            discard=DiscardPolicy.OLD if spec["discard"] == "old" else DiscardPolicy.NEW,
            duplicate_window=spec["duplicateWindowMs"] / 1000,
        )
        try:
            await js.add_stream(config=config)
        except BadRequestError as err:
            if err.err_code != _STREAM_NAME_IN_USE:
                raise
            info = await js.stream_info(name)
            if sorted(info.config.subjects or []) != sorted(config.subjects or []):
                log.warning(
                    "stream %s exists with subjects %s, expected %s",
                    name,
                    info.config.subjects,
                    config.subjects,
                )


def model_key(model: Any) -> str:
    """`<id>@<revision>`: vectors of different keys are never compared."""
    return f"{model.id}@{model.revision}"


def model_ref(model: Any) -> dict[str, Any]:
    return {"id": model.id, "revision": model.revision, "dim": int(model.dim)}


def subject_token(value: str) -> str:
    """Lowercase, every character outside [a-z0-9_-] replaced by `_` (ADR 0001)."""
    token = re.sub(r"[^a-z0-9_-]", "_", value.lower())
    if not token:
        raise ValueError("a subject token cannot be empty")
    return token


def model_token(model: Any) -> str:
    return subject_token(model_key(model))


def dead_letter_subject(subject: str) -> str:
    return f"deadletter.{subject}"


async def dead_letter(js: JetStreamContext, msg: Msg, *, reason: str, code: str) -> None:
    """Keeps the original message (body and headers) with the reason under deadletter.<subject>, then
    terminates it so it is never redelivered."""
    headers = dict(msg.headers or {})
    headers[H_DEAD_REASON] = " ".join(reason.split())[:_MAX_REASON_CHARS]
    headers[H_DEAD_CODE] = code
    # A poison message redelivered before its term landed is still dead-lettered only once.
    original_id = headers.get(H_MSG_ID) or headers.get(H_ID)
    if original_id:
        headers[H_MSG_ID] = f"dead-{original_id}"
    await js.publish(dead_letter_subject(msg.subject), msg.data, headers=headers)
    await msg.term()

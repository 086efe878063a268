"""The bus as a producer or a downstream reader sees it: publish captured audio, read streams."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from speaker_worker import bus

GE2E_TOKEN = "resemblyzer_ge2e_0_1_4"


def captured_meta(
    data: bytes, *, encoding: str = "flac", device: str = "kitchen", **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": {"service": "tests", "deviceId": device, "room": "lab"},
        "capturedAt": "2026-11-23T18:04:05.250Z",
        "format": {"encoding": encoding, "sampleRate": 16000, "channels": 1},
        "bytes": len(data),
        "audio": {"kind": "inline"},
    }
    meta.update(extra)
    return meta


async def publish_audio(
    js: JetStreamContext,
    data: bytes,
    *,
    meta: dict[str, Any] | None = None,
    event_id: str | None = None,
    device: str = "kitchen",
    raw_meta: str | None = None,
    drop_headers: tuple[str, ...] = (),
) -> str:
    """Publishes an audio.captured event as the capture service does (ADR rule 3); returns its ce-id."""
    event_id = event_id or str(uuid.uuid4())
    headers = bus.ce_headers(
        event_type="speakers.audio.captured.v1", event_id=event_id, content_type="audio/flac"
    )
    headers["ce-source"] = "/services/tests"
    headers[bus.H_META] = (
        raw_meta if raw_meta is not None else json.dumps(meta or captured_meta(data, device=device))
    )
    for name in drop_headers:
        headers.pop(name, None)
    await js.publish(f"audio.captured.{device}", data, headers=headers)
    return event_id


async def read_stream(
    js: JetStreamContext, stream: str, subject: str, count: int, timeout: float = 60.0
) -> list[Msg]:
    """Waits until `count` messages matching `subject` are in `stream`, and returns them (unacked)."""
    sub = await js.pull_subscribe(
        subject, stream=stream, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30)
    )
    got: list[Msg] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only {len(got)} of {count} messages on {subject} after {timeout}s")
            try:
                got += await sub.fetch(count - len(got), timeout=min(left, 2.0))
            except NatsTimeoutError:
                continue
    finally:
        await sub.unsubscribe()
    return got


async def stream_count(js: JetStreamContext, stream: str, subject: str | None = None) -> int:
    info = await js.stream_info(stream, subjects_filter=subject) if subject else await js.stream_info(stream)
    if subject:
        return sum((info.state.subjects or {}).values())
    return info.state.messages


async def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def body(msg: Msg) -> dict[str, Any]:
    return json.loads(msg.data)


def read_clip(path: Path) -> bytes:
    return path.read_bytes()

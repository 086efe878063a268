"""The event path against a real nats-server and the real GE2E model, with LibriSpeech recordings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from bus_helpers import GE2E_TOKEN, body, captured_meta, publish_audio, read_stream, stream_count, wait_for
from nats.aio.client import Client
from nats.js import JetStreamContext

from speaker_worker import bus, contract
from speaker_worker.audio import decode_audio
from speaker_worker.quality import measure

GE2E_KEY = "resemblyzer/ge2e@0.1.4"


@pytest.fixture
async def js(nc: Client, clean_streams: None, start_worker) -> JetStreamContext:
    """JetStream on a server with no streams yet and one worker of the default config running."""
    await start_worker()
    return nc.jetstream()


async def _settled(nc: Client) -> bool:
    info = await nc.jetstream().consumer_info("AUDIO", "embedding-worker")
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_captured_audio_becomes_one_embedding(
    nc: Client, clean_streams: None, start_worker, dev_clips
) -> None:
    js = nc.jetstream()
    worker = await start_worker()
    source_id = await publish_audio(js, dev_clips[0].read_bytes())

    [msg] = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 1)
    event = body(msg)
    contract.validate("EmbeddingComputed", event)
    assert event["sourceEventId"] == source_id
    assert event["model"] == {"id": "resemblyzer/ge2e", "revision": "0.1.4", "dim": 256}
    assert event["source"]["deviceId"] == "kitchen"
    vector = np.asarray(event["vector"])
    assert vector.shape == (256,) and abs(np.linalg.norm(vector) - 1) < 1e-3
    # The quality measured beside the forward pass is the clip's own, as measuring at publish gave.
    assert event["quality"] == measure(decode_audio(dev_clips[0].read_bytes()))
    expected_id = "emb-" + hashlib.sha1(f"{source_id}|{GE2E_KEY}".encode()).hexdigest()
    assert msg.headers is not None
    assert msg.headers["ce-id"] == expected_id == msg.headers["Nats-Msg-Id"]
    assert msg.headers["ce-type"] == "speakers.embedding.computed.v1"
    assert msg.headers["ce-correlationid"] == source_id
    assert msg.headers["ce-datacontenttype"] == "application/json"
    await wait_for(lambda: _settled(nc), what="the input to be acked")
    assert worker.consumer is not None and worker.consumer.stats.computed == 1


async def test_waiting_clips_share_one_forward_pass(
    nc: Client, clean_streams: None, start_worker, dev_clips
) -> None:
    js = nc.jetstream()
    # The first worker provisions streams and the durable, then stops so clips queue up for the second.
    first = await start_worker(serve=False)
    await first.stop()
    ids = [await publish_audio(js, clip.read_bytes()) for clip in dev_clips[:3]]

    worker = await start_worker(serve=False, batch_max=8)
    msgs = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 3)
    assert sorted(body(m)["sourceEventId"] for m in msgs) == sorted(ids)
    assert worker.consumer is not None
    assert worker.consumer.stats.batches == 1
    assert worker.consumer.stats.last_batch_size == 3
    assert worker.embedder.stats["batches"] == 1 and worker.embedder.stats["clips"] == 3
    # Different speakers in one padded batch still come out as different voices.
    vectors = [np.asarray(body(m)["vector"]) for m in msgs]
    assert max(float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])) < 0.95


async def test_bad_audio_becomes_a_failed_event_and_the_worker_goes_on(
    nc: Client, js: JetStreamContext, dev_clips
) -> None:
    garbage = b"fLaC" + bytes(range(256)) * 8
    bad_id = await publish_audio(js, garbage)

    [failed] = await read_stream(js, "EMBEDDINGS", f"embedding.failed.{GE2E_TOKEN}", 1)
    event = body(failed)
    contract.validate("EmbeddingFailed", event)
    assert event["sourceEventId"] == bad_id
    assert event["error"]["code"] == "AUDIO_CORRUPT"
    assert event["error"]["message"]
    await wait_for(lambda: _settled(nc), what="the bad input to be acked, not retried")

    good_id = await publish_audio(js, dev_clips[1].read_bytes())
    [computed] = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 1)
    assert body(computed)["sourceEventId"] == good_id
    info = await js.consumer_info("AUDIO", "embedding-worker")
    assert info.num_redelivered == 0


async def test_invalid_metadata_is_dead_lettered_and_terminated(
    nc: Client, js: JetStreamContext, dev_clips
) -> None:
    data = dev_clips[0].read_bytes()
    meta = captured_meta(data)
    del meta["format"]
    await publish_audio(js, data, meta=meta, device="hall")
    await publish_audio(js, data, raw_meta="{not json", device="hall")

    dead = await read_stream(js, "DEADLETTER", "deadletter.audio.captured.hall", 2)
    for msg in dead:
        assert msg.headers is not None
        assert msg.headers["Speakers-Dead-Code"] == "INVALID_EVENT"
        assert msg.headers["Speakers-Dead-Reason"]
        assert msg.data == data, "the dead letter keeps the original audio"
    reasons = " | ".join(m.headers["Speakers-Dead-Reason"] for m in dead if m.headers)
    assert "format" in reasons and "JSON" in reasons
    await wait_for(lambda: _settled(nc), what="invalid inputs to be terminated")
    assert await stream_count(js, "EMBEDDINGS") == 0


async def test_clip_from_the_object_store(js: JetStreamContext, dev_clips: list[Path]) -> None:
    store = await js.create_object_store("audio-clips")
    data = dev_clips[2].read_bytes()
    await store.put("clips/one.flac", data)
    ref = {"kind": "object", "bucket": "audio-clips", "name": "clips/one.flac"}
    found_id = await publish_audio(js, b"", meta=captured_meta(data, audio=ref))
    missing_ref = {**ref, "name": "clips/gone.flac"}
    missing_id = await publish_audio(js, b"", meta=captured_meta(data, audio=missing_ref))

    [computed] = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 1)
    assert body(computed)["sourceEventId"] == found_id
    [failed] = await read_stream(js, "EMBEDDINGS", f"embedding.failed.{GE2E_TOKEN}", 1)
    assert body(failed)["sourceEventId"] == missing_id
    assert body(failed)["error"]["code"] == "AUDIO_OBJECT_NOT_FOUND"


async def test_unicode_metadata_travels_as_ascii_json(js: JetStreamContext, dev_clips) -> None:
    # Header values must be ASCII (nats-py cannot parse others): producers escape, the worker reads it back.
    data = dev_clips[0].read_bytes()
    meta = captured_meta(data, transcript="Schalte das Licht im Büro an — bitte.")
    source_id = await publish_audio(js, data, raw_meta=contract.encode_meta("AudioCaptured", meta))
    [computed] = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 1)
    assert body(computed)["sourceEventId"] == source_id


async def test_failed_publish_is_retried_later(
    nc: Client, clean_streams: None, start_worker, dev_clips
) -> None:
    js = nc.jetstream()
    worker = await start_worker(serve=False, nak_delay_s=0.5)
    await js.delete_stream("EMBEDDINGS")  # the output stream is gone: every publish fails
    source_id = await publish_audio(js, dev_clips[0].read_bytes())
    assert worker.consumer is not None
    stats = worker.consumer.stats

    async def naked() -> bool:
        return stats.naked >= 1

    await wait_for(naked, what="the input to be naked after the failed publish")
    await bus.ensure_streams(js)
    [computed] = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 1)
    assert body(computed)["sourceEventId"] == source_id
    await wait_for(lambda: _settled(nc), what="the retried input to be acked")


async def test_gives_up_after_max_deliver_into_the_dead_letters(
    nc: Client, clean_streams: None, start_worker, dev_clips
) -> None:
    js = nc.jetstream()
    await start_worker(serve=False, nak_delay_s=0.2, max_deliver=2)
    await js.delete_stream("EMBEDDINGS")
    await publish_audio(js, dev_clips[0].read_bytes(), device="attic")
    [dead] = await read_stream(js, "DEADLETTER", "deadletter.audio.captured.attic", 1)
    assert dead.headers is not None and dead.headers["Speakers-Dead-Code"] == "INTERNAL"
    assert "after 2 deliveries" in dead.headers["Speakers-Dead-Reason"]
    await wait_for(lambda: _settled(nc), what="the poison input to be terminated")

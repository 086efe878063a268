"""An exception in the middle of a batch loses no clip: the real ECAPA model raises inside its forward pass
for one clip of a batch (an unexpected error, not the worker's own type); that clip gets its own
embedding.failed, the others their embedding.computed, and every input is acked."""

from __future__ import annotations

from pathlib import Path

from bus_helpers import body, publish_audio, read_stream, wait_for
from ecapa_fixture import seeded_encoder
from nats.aio.client import Client

from speaker_worker import bus, contract
from speaker_worker.app import create_worker
from speaker_worker.audio import decode_audio
from speaker_worker.config import WorkerConfig


async def _settled(nc: Client) -> bool:
    info = await nc.jetstream().consumer_info("AUDIO", "embedding-worker")
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_clip_that_breaks_the_model_mid_batch_fails_alone(
    nc: Client, clean_streams: None, nats_server, dev_clips: list[Path]
) -> None:
    js = nc.jetstream()
    encoder = seeded_encoder()
    token = bus.model_token(encoder.info)
    config = WorkerConfig(nats_url=nats_server.url, model="ecapa", serve=False)
    # The first worker provisions the streams and the durable, then stops so the clips queue up together.
    first = create_worker(config, encoder=encoder)
    await first.start()
    await first.stop()
    clips = [clip.read_bytes() for clip in dev_clips[:3]]
    poison = len(decode_audio(clips[1]))

    def break_on_poison(_module, args) -> None:
        if bool((args[1] == poison).any()):
            raise RuntimeError("unexpected kernel failure")

    handle = encoder._forward.register_forward_pre_hook(break_on_poison)
    worker = create_worker(config, encoder=encoder)
    try:
        ids = [await publish_audio(js, data) for data in clips]
        await worker.start()
        computed = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{token}", 2)
        [failed] = await read_stream(js, "EMBEDDINGS", f"embedding.failed.{token}", 1)
        await wait_for(lambda: _settled(nc), what="every input to be acked")
    finally:
        await worker.stop()
        handle.remove()
    assert sorted(body(m)["sourceEventId"] for m in computed) == sorted([ids[0], ids[2]])
    event = contract.validate("EmbeddingFailed", body(failed))
    assert event["sourceEventId"] == ids[1]
    assert event["error"]["code"] == "INTERNAL" and "RuntimeError" in event["error"]["message"]

"""A worker killed after publishing but before acking loses nothing and duplicates nothing."""

from __future__ import annotations

import signal

from bus_helpers import GE2E_TOKEN, publish_audio, stream_count, wait_for
from nats.aio.client import Client
from nats_harness import NatsServer
from worker_process import worker_process


async def test_killed_before_ack_is_redelivered_and_output_stays_single(
    nats_server: NatsServer, nc: Client, clean_streams: None, start_worker, dev_clips
) -> None:
    js = nc.jetstream()
    env = {
        "NATS_URL": nats_server.url,
        "SPEAKERS_MODEL": "ge2e",
        "WORKER_SERVE": "false",
        "ACK_WAIT_S": "3",
        # The documented test hook: hold every batch between publish and ack, the window a crash matters in.
        "SPEAKERS_TEST_PAUSE_BEFORE_ACK_MS": "120000",
    }
    async with worker_process(env) as doomed:
        await doomed.wait_for_line(r"ready model=resemblyzer/ge2e")
        source_id = await publish_audio(js, dev_clips[0].read_bytes())
        await doomed.wait_for_line(r"pausing \d+ ms before ack")
        assert await stream_count(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}") == 1
        doomed.signal(signal.SIGKILL)
        assert await doomed.wait() == -signal.SIGKILL
    info = await js.consumer_info("AUDIO", "embedding-worker")
    assert info.num_ack_pending == 1, "the killed worker must not have acked"

    survivor = await start_worker(serve=False)
    assert survivor.consumer is not None
    stats = survivor.consumer.stats

    async def redone() -> bool:
        info = await js.consumer_info("AUDIO", "embedding-worker")
        return stats.computed == 1 and info.num_ack_pending == 0 and info.num_pending == 0

    await wait_for(redone, timeout=90, what="the redelivered clip to be processed and acked")
    assert stats.redelivered == 1
    # The second publish carried the same Nats-Msg-Id, so the stream kept one copy.
    assert await stream_count(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}") == 1
    assert source_id

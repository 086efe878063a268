"""No waiting on an idle queue: the first clip goes into a forward pass on its own, and the clips that arrive
while that pass runs are decoded meanwhile and share the next pass. The real GE2E model is held inside its
forward pass by a hook until the test lets it go, so nothing depends on the machine's speed."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from bus_helpers import GE2E_TOKEN, body, publish_audio, read_stream
from nats.aio.client import Client


async def test_clips_arriving_during_a_pass_share_the_next_one(
    nc: Client, clean_streams: None, start_worker, dev_clips: list[Path]
) -> None:
    js = nc.jetstream()
    worker = await start_worker(serve=False, batch_wait_ms=0)
    model = worker.embedder._encoder._model
    entered, release = threading.Event(), threading.Event()
    passes: list[int] = []

    def hold(_module, args) -> None:
        passes.append(1)
        if len(passes) == 1:
            entered.set()
            release.wait(30)

    handle = model.register_forward_pre_hook(hold)
    try:
        first = await publish_audio(js, dev_clips[0].read_bytes())
        # The first clip reached the model alone: nothing else had been published.
        assert await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
        later = [await publish_audio(js, clip.read_bytes()) for clip in dev_clips[1:4]]
        deadline = time.monotonic() + 30
        while sum(len(clips) for clips, _ in worker.embedder._waiting) < 3:
            assert time.monotonic() < deadline, (
                "the clips published during the pass never reached the embedder"
            )
            await asyncio.sleep(0.02)
        release.set()
        msgs = await read_stream(js, "EMBEDDINGS", f"embedding.computed.{GE2E_TOKEN}", 4)
    finally:
        release.set()
        handle.remove()
    assert sorted(body(m)["sourceEventId"] for m in msgs) == sorted([first, *later])
    assert len(passes) == 2, (
        f"expected the first clip alone, then the other three together: {len(passes)} passes"
    )

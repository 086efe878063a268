"""The `embedding` micro service against a real nats-server and the real GE2E model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError

from speaker_worker import contract

PREFIX = "speakers.embedding"
GE2E_TOKEN = "resemblyzer_ge2e_0_1_4"
TIMEOUT = 60.0


async def call(nc: Client, endpoint: str, data: bytes = b"", meta: Any = None, **kw: Any) -> Msg:
    headers = None
    if meta is not None:
        headers = {"Speakers-Meta": meta if isinstance(meta, str) else json.dumps(meta)}
    return await nc.request(f"{PREFIX}.{endpoint}", data, timeout=TIMEOUT, headers=headers, **kw)


def ok(msg: Msg, schema: str) -> dict[str, Any]:
    assert not (msg.headers or {}).get("Nats-Service-Error"), msg.headers
    return contract.validate(schema, json.loads(msg.data))


def failed(msg: Msg, code: str, status: int) -> dict[str, Any]:
    headers = msg.headers or {}
    assert headers.get("Nats-Service-Error-Code") == str(status), headers
    assert headers.get("Nats-Service-Error", "").startswith(f"{code}: "), headers
    payload = contract.validate("ErrorPayload", json.loads(msg.data))
    assert payload["code"] == code and payload["message"] and payload.get("hint")
    return payload


@pytest.fixture
async def worker(start_worker):
    return await start_worker(consume=False)


async def test_extract_from_bytes_and_from_a_path_agree(nc: Client, worker, dev_clips: list[Path]) -> None:
    clip = dev_clips[0]
    from_bytes = ok(await call(nc, "extract", clip.read_bytes(), {"format": "flac"}), "EmbeddingResult")
    from_path = ok(await call(nc, "extract", b"", {"path": str(clip.resolve())}), "EmbeddingResult")
    assert from_bytes["model"] == {"id": "resemblyzer/ge2e", "revision": "0.1.4", "dim": 256}
    assert len(from_bytes["vector"]) == 256
    assert from_bytes["durationMs"] > 2000
    assert np.allclose(from_bytes["vector"], from_path["vector"], atol=1e-5)


async def test_extract_errors_are_typed(nc: Client, worker, dev_clips: list[Path], tmp_path: Path) -> None:
    failed(await call(nc, "extract", b"RIFF" + bytes(100)), "AUDIO_CORRUPT", 422)
    failed(await call(nc, "extract", b""), "AUDIO_EMPTY", 400)
    half_second = (np.random.default_rng(1).normal(0, 0.1, 8000) * 32767).astype("<i2").tobytes()
    short = {"format": "pcm_s16le", "sampleRate": 16000, "channels": 1}
    failed(await call(nc, "extract", half_second, short), "AUDIO_TOO_SHORT", 422)
    outside = tmp_path / "x.flac"
    outside.write_bytes(dev_clips[0].read_bytes())
    failed(await call(nc, "extract", b"", {"path": str(outside)}), "AUDIO_PATH_FORBIDDEN", 400)
    error = failed(await call(nc, "extract", b"x", {"format": "amr"}), "INVALID_REQUEST", 400)
    assert "format" in error["message"]
    failed(await call(nc, "extract", b"x", "{oops"), "INVALID_REQUEST", 400)
    # Still serving after every kind of bad input.
    ok(await call(nc, "extract", dev_clips[1].read_bytes()), "EmbeddingResult")


async def test_extract_batch_reports_each_item(nc: Client, worker, dev_clips: list[Path]) -> None:
    a, b, c = (clip.read_bytes() for clip in dev_clips[:3])
    garbage = b"fLaC" + bytes(500)
    items = [
        {"length": len(a), "format": "flac"},
        {"length": len(garbage)},
        {"length": 0, "path": str(dev_clips[2].resolve())},
        {"length": len(b)},
    ]
    before = worker.embedder.stats["batches"]
    result = ok(await call(nc, "extract-batch", a + garbage + b, {"items": items}), "BatchResult")
    assert (result["total"], result["processed"], result["errorsCount"]) == (4, 4, 1)
    assert [item["ok"] for item in result["items"]] == [True, False, True, True]
    assert result["items"][1]["error"]["code"] == "AUDIO_CORRUPT"
    assert worker.embedder.stats["batches"] == before + 1, "three good clips, one forward pass"
    single = ok(await call(nc, "extract", c), "EmbeddingResult")
    batched = result["items"][2]["embedding"]["vector"]
    # Padding in a batch must not change a clip's embedding.
    assert float(np.dot(single["vector"], batched)) > 0.999

    lying = {"items": [{"length": len(a) + 10}]}
    failed(await call(nc, "extract-batch", a, lying), "INVALID_REQUEST", 400)


async def test_similarity(nc: Client, worker, dev_clips: list[Path]) -> None:
    v0 = ok(await call(nc, "extract", dev_clips[0].read_bytes()), "EmbeddingResult")["vector"]
    v1 = ok(await call(nc, "extract", dev_clips[1].read_bytes()), "EmbeddingResult")["vector"]
    same = ok(await call(nc, "similarity", json.dumps({"a": v0, "b": v0}).encode()), "SimilarityReply")
    other = ok(await call(nc, "similarity", json.dumps({"a": v0, "b": v1}).encode()), "SimilarityReply")
    assert same["similarity"] == pytest.approx(1.0, abs=1e-6)
    assert other["similarity"] < 0.95
    assert ok(await call(nc, "similarity", b'{"a":[1,0],"b":[0,2]}'), "SimilarityReply")["similarity"] == 0
    failed(await call(nc, "similarity", b'{"a":[1,0],"b":[1,0,0]}'), "EMBEDDING_DIM_MISMATCH", 400)
    failed(await call(nc, "similarity", b'{"a":[0,0],"b":[1,0]}'), "INVALID_REQUEST", 400)
    failed(await call(nc, "similarity", b'{"a":[1]}'), "INVALID_REQUEST", 400)
    failed(await call(nc, "similarity", b"not json"), "INVALID_REQUEST", 400)


async def test_centroid(nc: Client, worker) -> None:
    reply = ok(await call(nc, "centroid", b'{"embeddings":[[3,0,0],[0,0.5,0]]}'), "CentroidReply")
    assert reply["dim"] == 3 and reply["count"] == 2
    assert np.allclose(reply["centroid"], [2**-0.5, 2**-0.5, 0])
    failed(await call(nc, "centroid", b'{"embeddings":[]}'), "EMBEDDINGS_EMPTY", 400)
    failed(await call(nc, "centroid", b'{"embeddings":[[1,0],[1,0,0]]}'), "EMBEDDING_DIM_MISMATCH", 400)
    failed(await call(nc, "centroid", b'{"embeddings":[[1,0],[-1,0]]}'), "INVALID_REQUEST", 400)


async def test_models(nc: Client, worker) -> None:
    reply = ok(await call(nc, "models"), "ModelsReply")
    assert reply["active"] == {"id": "resemblyzer/ge2e", "revision": "0.1.4", "dim": 256}
    assert reply["device"] == "cpu" and reply["threads"] >= 1
    assert {m["id"] for m in reply["available"]} == {"resemblyzer/ge2e", "speechbrain/spkrec-ecapa-voxceleb"}


async def test_ping_info_stats_describe_the_worker(nc: Client, worker, dev_clips: list[Path]) -> None:
    ok(await call(nc, "extract", dev_clips[0].read_bytes()), "EmbeddingResult")
    failed(await call(nc, "extract", b"junk"), "AUDIO_UNSUPPORTED_FORMAT", 422)
    ping = json.loads((await nc.request("$SRV.PING.embedding", b"", timeout=5)).data)
    assert ping["type"] == "io.nats.micro.v1.ping_response" and ping["name"] == "embedding"
    meta = ping["metadata"]
    assert meta["model_id"] == "resemblyzer/ge2e" and meta["model_revision"] == "0.1.4"
    assert meta["model_dim"] == "256" and meta["device"] == "cpu" and int(meta["threads"]) >= 1

    assert meta["role"] == "live"

    info = json.loads((await nc.request("$SRV.INFO.embedding", b"", timeout=5)).data)
    subjects = {e["name"]: (e["subject"], e["queue_group"]) for e in info["endpoints"]}
    ops = ("extract", "extract-batch", "similarity", "centroid", "models", "augment")
    assert subjects == {
        **{op: (f"{PREFIX}.{op}", "embedding") for op in ops},
        **{f"{GE2E_TOKEN}-{op}": (f"{PREFIX}.{GE2E_TOKEN}.{op}", f"embedding-{GE2E_TOKEN}") for op in ops},
    }

    stats = json.loads((await nc.request("$SRV.STATS.embedding", b"", timeout=5)).data)
    extract = next(e for e in stats["endpoints"] if e["name"] == "extract")
    assert extract["num_requests"] == 2
    assert extract["data"]["clips"] == 2 and extract["data"]["errors"] == 1
    assert extract["data"]["lastErrorCode"] == "AUDIO_UNSUPPORTED_FORMAT"
    assert extract["data"]["worker"]["embedder"]["batches"] >= 1


async def test_two_workers_share_the_queue_group(nc: Client, start_worker) -> None:
    for _ in range(2):
        await start_worker(consume=False)
    body = b'{"a":[1,2,3],"b":[3,2,1]}'
    replies = await asyncio.gather(*(call(nc, "similarity", body) for _ in range(40)))
    assert all(ok(r, "SimilarityReply")["similarity"] == pytest.approx(10 / 14) for r in replies)

    inbox = nc.new_inbox()
    answers: list[dict[str, Any]] = []

    async def collect(msg: Msg) -> None:
        answers.append(json.loads(msg.data))

    sub = await nc.subscribe(inbox, cb=collect)
    await nc.publish("$SRV.STATS.embedding", b"", reply=inbox)
    await asyncio.sleep(1.0)
    await sub.unsubscribe()
    assert len(answers) == 2, "both instances answer STATS"
    per_instance = [e["num_requests"] for a in answers for e in a["endpoints"] if e["name"] == "similarity"]
    assert sum(per_instance) == 40
    assert all(n > 0 for n in per_instance), f"the queue group did not spread requests: {per_instance}"


@contextlib.contextmanager
def forward_held(worker) -> Iterator[threading.Event]:
    """Holds the real model inside its forward pass (a hook on the inference thread) until the block ends;
    the event yielded is set once a pass is held."""
    model = worker.embedder._encoder._model
    entered, release = threading.Event(), threading.Event()

    def hold(_module, _args) -> None:
        entered.set()
        release.wait(30)

    handle = model.register_forward_pre_hook(hold)
    try:
        yield entered
    finally:
        release.set()
        handle.remove()


async def test_inference_never_blocks_the_event_loop(nc: Client, worker, dev_clips: list[Path]) -> None:
    """The real model is held inside its forward pass (a hook on the inference thread) until the test lets it
    go; PING must answer while it is provably still running. Had the forward run on the event loop, the loop
    would sit in the hook and PING would time out. Nothing here depends on how fast the machine is."""
    with forward_held(worker) as entered:
        request = asyncio.create_task(call(nc, "extract", dev_clips[0].read_bytes()))
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, entered.wait, 30), "the forward pass never started"
        for _ in range(3):
            ping = json.loads((await nc.request("$SRV.PING.embedding", b"", timeout=5)).data)
            assert ping["name"] == "embedding"
        stats = json.loads((await nc.request("$SRV.STATS.embedding", b"", timeout=5)).data)
        assert stats["name"] == "embedding"
        assert not request.done(), "the forward pass was still held: the request cannot have been answered"
    ok(await request, "EmbeddingResult")


async def test_concurrent_extracts_share_one_forward_pass(nc: Client, worker, dev_clips: list[Path]) -> None:
    """Requests that arrive while a forward pass runs are embedded together in the next one."""
    with forward_held(worker) as entered:
        first = asyncio.create_task(call(nc, "extract", dev_clips[0].read_bytes()))
        assert await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
        before = worker.embedder.stats["batches"]
        others = [asyncio.create_task(call(nc, "extract", clip.read_bytes())) for clip in dev_clips[1:4]]
        deadline = time.monotonic() + 30
        while sum(len(clips) for clips, _ in worker.embedder._waiting) < 3:
            assert time.monotonic() < deadline, "the three requests never reached the embedder"
            await asyncio.sleep(0.02)
    for reply in [await first, *[await task for task in others]]:
        ok(reply, "EmbeddingResult")
    # `before` was read with the first pass still held: it and the three waiting requests make two passes.
    assert worker.embedder.stats["batches"] == before + 2, "the three waiting requests took one forward pass"


async def test_error_replies_do_not_echo_their_input(nc: Client, worker) -> None:
    too_many = json.dumps({"embeddings": [[0.1] * 192] * 1001}, separators=(",", ":")).encode()
    msg = await call(nc, "centroid", too_many)
    failed(msg, "INVALID_REQUEST", 400)
    assert len(msg.data) < 4096, f"error body of {len(msg.data)} bytes"
    assert len((msg.headers or {})["Nats-Service-Error"]) < 1024


async def test_similarity_near_the_float_limits(nc: Client, worker) -> None:
    huge = json.dumps({"a": [1e308, 1e308], "b": [1e308, 0]}).encode()
    assert ok(await call(nc, "similarity", huge), "SimilarityReply")["similarity"] == pytest.approx(2**-0.5)
    tiny = json.dumps({"a": [5e-324, 0], "b": [1e-300, 0]}).encode()
    assert ok(await call(nc, "similarity", tiny), "SimilarityReply")["similarity"] == pytest.approx(1.0)
    centroid = json.dumps({"embeddings": [[1e308, 0], [0, 1e308]]}).encode()
    reply = ok(await call(nc, "centroid", centroid), "CentroidReply")
    assert np.allclose(reply["centroid"], [2**-0.5, 2**-0.5])


async def test_model_subjects_share_counters_with_the_generic_ones(
    nc: Client, worker, dev_clips: list[Path]
) -> None:
    ok(await call(nc, "extract", dev_clips[0].read_bytes()), "EmbeddingResult")
    reply = ok(await call(nc, f"{GE2E_TOKEN}.extract", dev_clips[0].read_bytes()), "EmbeddingResult")
    assert reply["model"]["id"] == "resemblyzer/ge2e"
    stats = json.loads((await nc.request("$SRV.STATS.embedding", b"", timeout=5)).data)
    data = {e["name"]: e["data"] for e in stats["endpoints"]}
    assert data["extract"]["clips"] == 2 and data[f"{GE2E_TOKEN}-extract"]["clips"] == 2


async def test_a_replay_worker_answers_only_its_model_subjects(
    nc: Client, start_worker, dev_clips: list[Path]
) -> None:
    await start_worker(consume=False, role="replay")
    models = ok(await call(nc, f"{GE2E_TOKEN}.models"), "ModelsReply")
    assert models["active"]["id"] == "resemblyzer/ge2e"
    ok(await call(nc, f"{GE2E_TOKEN}.extract", dev_clips[0].read_bytes()), "EmbeddingResult")
    with pytest.raises(NoRespondersError):
        await nc.request(f"{PREFIX}.models", b"", timeout=5)
    with pytest.raises(NoRespondersError):
        await nc.request(f"{PREFIX}.extract", dev_clips[0].read_bytes(), timeout=5)
    # Another model's subjects stay unanswered too: nothing mixes.
    with pytest.raises(NoRespondersError):
        await nc.request(
            f"{PREFIX}.speechbrain_spkrec-ecapa-voxceleb_0f99f2d0ebe89ac095bcc5903c4dd8f72b367286.models",
            b"",
            timeout=5,
        )
    ping = json.loads((await nc.request("$SRV.PING.embedding", b"", timeout=5)).data)
    assert ping["metadata"]["role"] == "replay"

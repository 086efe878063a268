"""Container health check of the embedding worker: healthy when its micro service answers a PING.

Sends `$SRV.PING.embedding` with the worker's own NATS_URL (and so its user); exits 0 on a reply, 1 otherwise.
A PING proves more than a live process: the worker only serves once its model is loaded and NATS is reachable.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import nats

SERVICE = sys.argv[1] if len(sys.argv) > 1 else "embedding"
TIMEOUT_S = float(os.environ.get("HEALTHCHECK_TIMEOUT_S", "3"))


async def ping() -> dict:
    # A cluster's NATS_URL lists its servers comma-separated; each is tried once (reconnects > 0 drops it), so
    # a dead node does not make a healthy worker look unhealthy.
    url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    nc = await nats.connect(
        [s.strip() for s in url.split(",") if s.strip()],
        allow_reconnect=True,
        max_reconnect_attempts=0,
        reconnect_time_wait=0,
        connect_timeout=TIMEOUT_S,
        name=f"healthcheck-{SERVICE}",
    )
    try:
        reply = await nc.request(f"$SRV.PING.{SERVICE}", b"", timeout=TIMEOUT_S)
        return json.loads(reply.data)
    finally:
        await nc.close()


def main() -> int:
    try:
        info = asyncio.run(ping())
    except Exception as err:  # any failure is "unhealthy"; the message lands in `docker inspect`
        print(f"unhealthy: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(f"healthy: {info.get('name')} {info.get('version')} {info.get('id')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

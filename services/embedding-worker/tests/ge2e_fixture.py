"""The real GE2E encoder, loaded once per test process through the worker's own loading code."""

from __future__ import annotations

import logging
from functools import cache

from speaker_worker.models import Encoder, load_encoder


@cache
def ge2e() -> Encoder:
    return load_encoder(
        "ge2e", device="cpu", cache_dir="", source=None, threads=None, log=logging.getLogger("test.ge2e")
    )

"""The worker gives the heap a large batch freed back to the OS (speaker_worker.heap)."""

from __future__ import annotations

import os
import platform

import pytest

from speaker_worker.heap import HeapTrimmer

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trim_returns_freed_holes_to_the_os() -> None:
    trimmer = HeapTrimmer(min_interval_s=0)
    assert trimmer.available
    trimmer.trim()
    # 200 MB in 4 KB chunks, every 64th kept: the freed holes sit below live chunks, so free() alone
    # cannot shrink the heap from its top and glibc keeps them.
    chunks = [bytearray(4096) for _ in range(50_000)]
    for c in chunks:
        c[0] = 1  # touched, so resident
    kept = chunks[::64]
    del chunks
    before = _rss_bytes()
    assert trimmer.trim()
    after = _rss_bytes()
    assert before - after > 100 * 2**20, f"RSS {before >> 20} MB -> {after >> 20} MB"
    assert len(kept) > 0


def test_trims_at_most_once_per_interval() -> None:
    now = [100.0]
    trimmer = HeapTrimmer(min_interval_s=5, clock=lambda: now[0])
    if not trimmer.available:
        pytest.skip("no malloc_trim in this C library")
    assert trimmer.trim()
    now[0] += 4.9
    assert not trimmer.trim()
    now[0] += 0.2
    assert trimmer.trim()

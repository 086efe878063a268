"""Error codes: the built-in table agrees with the shared catalogue, and payloads have the wire shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speaker_worker.errors import _BUILTIN, WorkerError

CATALOGUE = Path(__file__).resolve().parents[3] / "packages" / "events" / "schemas" / "error-codes.json"


def test_builtin_statuses_match_the_shared_catalogue():
    if not CATALOGUE.is_file():
        pytest.skip(f"{CATALOGUE} not exported yet (pnpm schemas)")
    shared = json.loads(CATALOGUE.read_text())
    for code, (status, _hint) in _BUILTIN.items():
        assert code in shared, f"{code} missing from {CATALOGUE.name}"
        assert shared[code]["status"] == status, code


def test_payload_shape_and_status():
    err = WorkerError("AUDIO_TOO_LONG", "The clip is 90 s long.", details={"seconds": 90})
    assert err.status == 413
    payload = err.to_payload()
    assert payload["code"] == "AUDIO_TOO_LONG" and payload["message"] == "The clip is 90 s long."
    assert payload["details"] == {"seconds": 90} and payload["hint"]
    assert WorkerError("AUDIO_EMPTY", "x", hint="send bytes").to_payload()["hint"] == "send bytes"


def test_an_unknown_code_becomes_internal_and_keeps_the_original():
    err = WorkerError("NO_SUCH_CODE", "oops")
    assert err.code == "INTERNAL" and err.status == 500 and err.details == {"unknownCode": "NO_SUCH_CODE"}

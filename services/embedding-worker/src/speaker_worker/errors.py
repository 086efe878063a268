"""The worker's typed errors: one stable code each, with the status from the shared catalogue.

The catalogue's source is `packages/events/src/errors.ts`, exported to
`packages/events/schemas/error-codes.json`.
The worker reads that file when the repository has it and otherwise uses the built-in table below, which holds
the same codes and statuses, so an installed worker does not depend on the monorepo at runtime.
"""

from __future__ import annotations

import contextlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

# code -> (status, hint). Hints are what the user should do; messages are per occurrence.
_BUILTIN: dict[str, tuple[int, str]] = {
    "AUDIO_EMPTY": (400, "Send the audio bytes as the message body, or an object reference for large clips."),
    "AUDIO_CORRUPT": (
        422,
        "Check that the file is a valid WAV, FLAC or Ogg file and that the declared format matches "
        "the bytes.",
    ),
    "AUDIO_TRUNCATED": (422, "Re-record or re-export the clip; the upload or the file was cut short."),
    "AUDIO_UNSUPPORTED_FORMAT": (
        422,
        "Send WAV, FLAC, Ogg or raw 16-bit little-endian PCM (declare sampleRate and channels for PCM).",
    ),
    "AUDIO_TOO_SHORT": (
        422,
        "Send at least one second of speech; three or more seconds give reliable results.",
    ),
    "AUDIO_TOO_LONG": (
        413,
        "Split the recording into shorter clips or raise the worker's maximum clip length.",
    ),
    "AUDIO_SILENT": (422, "Check the microphone's input level and that the right device is recording."),
    "AUDIO_NON_FINITE": (
        422,
        "Fix the producer's sample conversion; float audio must hold finite values in [-1, 1].",
    ),
    "AUDIO_PATH_FORBIDDEN": (
        400,
        "Use a path under one of the worker's configured audio roots, or send the bytes instead.",
    ),
    "AUDIO_PATH_NOT_FOUND": (
        404,
        "Check the path as the worker sees it (inside its container, if it runs in one).",
    ),
    "AUDIO_OBJECT_NOT_FOUND": (404, "The clip may have expired or been deleted; re-publish the audio."),
    "MODEL_UNAVAILABLE": (
        503,
        "Wait for the worker to report Ready, or check its log for a model download or load failure.",
    ),
    "MODEL_VERIFY_FAILED": (
        500,
        "Delete the model cache and let the worker download the pinned revision again.",
    ),
    "MODEL_MISMATCH": (
        409,
        "Compare only vectors of the same model key; re-enroll or replay audio with the live model.",
    ),
    "EMBEDDING_DIM_MISMATCH": (400, "Send vectors made by one model, with length equal to its dimension."),
    "EMBEDDINGS_EMPTY": (400, "Send at least one embedding."),
    "INVALID_REQUEST": (
        400,
        "Check the request against packages/events/schemas; the details name the offending field.",
    ),
    "INVALID_EVENT": (
        400,
        "Fix the publisher; the details name the offending field. The event was dead-lettered.",
    ),
    "INTERNAL": (500, "Check the service log for the stack trace and report it."),
}

_CATALOGUE_ENV = "SPEAKERS_ERROR_CODES"


def _catalogue_path() -> Path | None:
    override = os.environ.get(_CATALOGUE_ENV)
    if override:
        return Path(override)
    # src/speaker_worker/errors.py -> repository root is four folders up.
    here = Path(__file__).resolve()
    if len(here.parents) < 5:
        return None
    return here.parents[4] / "packages" / "events" / "schemas" / "error-codes.json"


def _parse_catalogue(raw: Any) -> dict[str, tuple[int, str]]:
    """Accepts `{CODE: {status, hint?}}` (the TS `ERRORS` object) or `[{code, status, hint?}]`."""
    entries: dict[str, tuple[int, str]] = {}
    if isinstance(raw, dict) and isinstance(raw.get("codes"), (dict, list)):
        raw = raw["codes"]
    items = raw.items() if isinstance(raw, dict) else ((e.get("code"), e) for e in raw if isinstance(e, dict))
    for code, entry in items:
        if isinstance(code, str) and isinstance(entry, dict) and isinstance(entry.get("status"), int):
            entries[code] = (entry["status"], str(entry.get("hint", "")))
    return entries


@cache
def catalogue() -> dict[str, tuple[int, str]]:
    """The code table in use: the shared catalogue merged over the built-in one."""
    table = dict(_BUILTIN)
    path = _catalogue_path()
    if path is not None and path.is_file():
        # A broken catalogue file must not take the worker down: the built-in table has every code it uses.
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            table.update(_parse_catalogue(json.loads(path.read_text(encoding="utf-8"))))
    return table


class WorkerError(Exception):
    """An error with a stable code; `to_payload()` is the `ErrorPayload` the bus sends back."""

    def __init__(self, code: str, message: str, *, hint: str | None = None, details: dict | None = None):
        super().__init__(f"{code}: {message}")
        table = catalogue()
        known = table.get(code)
        self.code = code if known else "INTERNAL"
        self.status = (known or table["INTERNAL"])[0]
        self.message = message
        self.hint = hint if hint is not None else ((known[1] or None) if known else None)
        self.details = dict(details) if details else None
        if not known:
            self.details = {**(self.details or {}), "unknownCode": code}

    def to_payload(self) -> dict:
        payload: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            payload["hint"] = self.hint
        if self.details:
            payload["details"] = self.details
        return payload

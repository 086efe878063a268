"""The worker's settings: environment variables, overridden by command-line flags of the same meaning."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import contract

MODEL_CHOICES = ("ecapa", "ge2e")
# live: consumes AUDIO and answers the generic `speakers.embedding.*` subjects (the live model's worker).
# replay: answers only its model's `speakers.embedding.<model token>.*` subjects, so a second model can run
# beside the live one (replay, retraining) without taking live requests or audio events.
ROLE_CHOICES = ("live", "replay")


class ConfigError(ValueError):
    """A setting has a value the worker cannot use; the message names the variable."""


@dataclass(frozen=True)
class WorkerConfig:
    nats_url: str = "nats://127.0.0.1:4222"
    # None lets the model loader pick its default (ECAPA, GE2E when the hub is unreachable).
    model: str | None = None
    device: str | None = None
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "speakers" / "models")
    model_source: str | None = None
    threads: int | None = None
    audio_roots: tuple[Path, ...] = ()
    # Defaults from the contract's audio limits, which capture enforces at the edge too.
    max_audio_seconds: float = field(default_factory=lambda: contract.audio_limits()["maxDurationMs"] / 1000)
    min_audio_seconds: float = field(default_factory=lambda: contract.audio_limits()["minDurationMs"] / 1000)
    batch_max: int | None = None  # None: the device's default cap (embedder.DEFAULT_CAPS)
    batch_wait_ms: int = 0  # 0: never wait for company; a batch is what arrived during the last pass
    ack_wait_s: float = 60.0
    max_deliver: int = 5
    # How long a failed publish waits before JetStream redelivers the input.
    nak_delay_s: float = 2.0
    consume: bool = True
    serve: bool = True
    role: str = "live"
    log_level: str = "INFO"
    # Test hook (SPEAKERS_TEST_PAUSE_BEFORE_ACK_MS): sleep after publishing, before acking, so a test can
    # SIGKILL the worker in the one window where a crash could duplicate or lose output.
    pause_before_ack_ms: int = 0


_ENV = {
    "nats_url": "NATS_URL",
    "model": "SPEAKERS_MODEL",
    "device": "MODEL_DEVICE",
    "cache_dir": "MODEL_CACHE_DIR",
    "model_source": "MODEL_SOURCE",
    "threads": "TORCH_THREADS",
    "audio_roots": "AUDIO_ROOTS",
    "max_audio_seconds": "MAX_AUDIO_SECONDS",
    "min_audio_seconds": "MIN_AUDIO_SECONDS",
    "batch_max": "BATCH_MAX",
    "batch_wait_ms": "BATCH_WAIT_MS",
    "ack_wait_s": "ACK_WAIT_S",
    "max_deliver": "MAX_DELIVER",
    "nak_delay_s": "NAK_DELAY_S",
    "consume": "WORKER_CONSUME",
    "serve": "WORKER_SERVE",
    "role": "WORKER_ROLE",
    "log_level": "LOG_LEVEL",
    "pause_before_ack_ms": "SPEAKERS_TEST_PAUSE_BEFORE_ACK_MS",
}


def load_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> WorkerConfig:
    """Reads the environment, then applies flags; raises ConfigError naming the bad setting."""
    env = os.environ if env is None else env
    raw: dict[str, str] = {key: env[var] for key, var in _ENV.items() if env.get(var, "") != ""}
    args = _parser().parse_args(list(argv) if argv is not None else [])
    raw.update({key: str(value) for key, value in vars(args).items() if value is not None})
    return _build(raw)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="speaker-worker",
        description="Speaker embedding worker: consumes audio.captured, serves the `embedding` service.",
    )
    p.add_argument("--nats-url", dest="nats_url", help="NATS server URL (env NATS_URL)")
    p.add_argument("--model", choices=MODEL_CHOICES, help="embedding model (env SPEAKERS_MODEL)")
    p.add_argument("--device", help="torch device, e.g. cpu or cuda (env MODEL_DEVICE)")
    p.add_argument("--cache-dir", dest="cache_dir", help="model cache folder (env MODEL_CACHE_DIR)")
    p.add_argument("--model-source", dest="model_source", help="model files source (env MODEL_SOURCE)")
    p.add_argument("--threads", help="torch CPU threads (env TORCH_THREADS)")
    p.add_argument("--audio-roots", dest="audio_roots", help="os.pathsep-separated folders (env AUDIO_ROOTS)")
    p.add_argument("--max-audio-seconds", dest="max_audio_seconds", help="env MAX_AUDIO_SECONDS")
    p.add_argument("--min-audio-seconds", dest="min_audio_seconds", help="env MIN_AUDIO_SECONDS")
    p.add_argument("--batch-max", dest="batch_max", help="clips per forward pass (env BATCH_MAX)")
    p.add_argument("--batch-wait-ms", dest="batch_wait_ms", help="wait to fill a batch (env BATCH_WAIT_MS)")
    p.add_argument("--ack-wait-s", dest="ack_wait_s", help="consumer ack wait (env ACK_WAIT_S)")
    p.add_argument("--max-deliver", dest="max_deliver", help="deliveries before giving up (env MAX_DELIVER)")
    p.add_argument("--no-consume", dest="consume", action="store_const", const="false", help="serve only")
    p.add_argument("--no-serve", dest="serve", action="store_const", const="false", help="consume only")
    p.add_argument("--role", choices=ROLE_CHOICES, help="live (default) or replay (env WORKER_ROLE)")
    p.add_argument("--log-level", dest="log_level", help="env LOG_LEVEL")
    return p


def _build(raw: Mapping[str, str]) -> WorkerConfig:
    defaults = WorkerConfig()
    model = raw.get("model", "").strip().lower() or None
    if model is not None and model not in MODEL_CHOICES:
        raise ConfigError(f"SPEAKERS_MODEL must be one of {', '.join(MODEL_CHOICES)} or unset, got {model!r}")
    role = raw.get("role", "").strip().lower() or defaults.role
    if role not in ROLE_CHOICES:
        raise ConfigError(f"WORKER_ROLE must be one of {', '.join(ROLE_CHOICES)}, got {role!r}")
    if role == "replay":
        # A replay worker must never take live audio off the shared durable consumer.
        if _bool(raw, "consume", False):
            raise ConfigError("a replay worker (WORKER_ROLE=replay) cannot consume; unset WORKER_CONSUME")
        if not _bool(raw, "serve", True):
            raise ConfigError("a replay worker (WORKER_ROLE=replay) only serves; unset WORKER_SERVE")
    config = WorkerConfig(
        nats_url=raw.get("nats_url", defaults.nats_url),
        model=model,
        device=raw.get("device") or None,
        cache_dir=Path(raw["cache_dir"]).expanduser() if "cache_dir" in raw else defaults.cache_dir,
        model_source=raw.get("model_source") or None,
        threads=_int(raw, "threads", None, minimum=1),
        audio_roots=tuple(
            Path(p).expanduser().resolve() for p in raw.get("audio_roots", "").split(os.pathsep) if p
        ),
        max_audio_seconds=_float(raw, "max_audio_seconds", defaults.max_audio_seconds),
        min_audio_seconds=_float(raw, "min_audio_seconds", defaults.min_audio_seconds),
        batch_max=_int(raw, "batch_max", None, minimum=1),
        batch_wait_ms=_int(raw, "batch_wait_ms", defaults.batch_wait_ms, minimum=0) or 0,
        ack_wait_s=_float(raw, "ack_wait_s", defaults.ack_wait_s),
        max_deliver=_int(raw, "max_deliver", defaults.max_deliver, minimum=1) or defaults.max_deliver,
        nak_delay_s=_float(raw, "nak_delay_s", defaults.nak_delay_s),
        consume=role == "live" and _bool(raw, "consume", defaults.consume),
        serve=_bool(raw, "serve", defaults.serve),
        role=role,
        log_level=raw.get("log_level", defaults.log_level).upper(),
        pause_before_ack_ms=_int(raw, "pause_before_ack_ms", 0, minimum=0) or 0,
    )
    if config.min_audio_seconds >= config.max_audio_seconds:
        raise ConfigError("MIN_AUDIO_SECONDS must be below MAX_AUDIO_SECONDS")
    if not (config.consume or config.serve):
        raise ConfigError("the worker must consume, serve, or both (WORKER_CONSUME / WORKER_SERVE)")
    return config


def _int(raw: Mapping[str, str], key: str, default: int | None, *, minimum: int) -> int | None:
    return _number(
        raw, key, default, int, "an integer", lambda v: f"at least {minimum}" if v < minimum else None
    )


def _float(raw: Mapping[str, str], key: str, default: float) -> float:
    return _number(raw, key, default, float, "a number", lambda v: "positive" if v <= 0 else None)


def _number(
    raw: Mapping[str, str],
    key: str,
    default: Any,
    parse: Callable[[str], Any],
    noun: str,
    unmet: Callable[[Any], str | None],
) -> Any:
    """The variable parsed as `noun` (`default` when unset); ConfigError when `unmet` says it falls short."""
    if key not in raw:
        return default
    try:
        value = parse(raw[key])
    except ValueError:
        raise ConfigError(f"{_ENV[key]} must be {noun}, got {raw[key]!r}") from None
    requirement = unmet(value)
    if requirement is not None:
        raise ConfigError(f"{_ENV[key]} must be {requirement}, got {value}")
    return value


def _bool(raw: Mapping[str, str], key: str, default: bool) -> bool:
    if key not in raw:
        return default
    value = raw[key].strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{_ENV[key]} must be true or false, got {raw[key]!r}")

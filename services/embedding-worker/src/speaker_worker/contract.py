"""The event contract, read from the JSON Schemas that `packages/events` exports from its TypeBox source.

The worker never declares a payload shape of its own: it validates what it reads and writes against
`packages/events/schemas/<Name>.schema.json`. The folder is found relative to this file in the monorepo,
or at `SPEAKERS_SCHEMA_DIR` (the worker's container image copies it there).

Kept light on purpose (no torch, no numpy): the bus and the tests import it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match

SCHEMA_DIR_ENV = "SPEAKERS_SCHEMA_DIR"
# Same keyword as VECTOR_DIM_KEYWORD in packages/events/src/common.ts.
VECTOR_DIM_KEYWORD = "x-speakers-vector-dim"
_MAX_ISSUES = 10


class ContractError(Exception):
    """A payload breaks its schema. `code` is INVALID_EVENT for stream events, INVALID_REQUEST otherwise."""

    def __init__(self, name: str, code: str, issues: list[tuple[str, str]]) -> None:
        self.name = name
        self.code = code
        self.issues = issues
        self.path = issues[0][0] if issues else ""
        where = "; ".join(f"{path or '/'}: {message}" for path, message in issues)
        self.message = f"{name} is invalid: {where}"
        self.details: dict[str, Any] = {
            "issues": [{"path": path, "message": message} for path, message in issues]
        }
        super().__init__(self.message)


def schema_dir() -> Path:
    """`SPEAKERS_SCHEMA_DIR`, else `packages/events/schemas` of the repository this file sits in."""
    override = os.environ.get(SCHEMA_DIR_ENV)
    if override:
        return Path(override)
    # src/speaker_worker/contract.py -> services/embedding-worker -> repository root
    return Path(__file__).resolve().parents[4] / "packages" / "events" / "schemas"


def _pointer_get(value: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(token.replace("~1", "/").replace("~0", "~"))
    return value


def _vector_dim(
    validator: Any, rule: Mapping[str, str], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """JSON Schema cannot say "this array is as long as that integer"; the exported schemas use a keyword."""
    if not isinstance(instance, dict):
        return
    vector = _pointer_get(instance, rule["vector"])
    dim = _pointer_get(instance, rule["dim"])
    if isinstance(vector, list) and isinstance(dim, int) and not isinstance(dim, bool) and len(vector) != dim:
        path = [token for token in rule["vector"].split("/")[1:]]
        yield ValidationError(f"Expected {dim} numbers ({rule['dim']}), got {len(vector)}", path=path)


def _finite_number(checker: Any, value: Any) -> bool:
    # JSON has no NaN or Infinity, but Python's json module reads them; TypeBox rejects them too.
    return Draft202012Validator.TYPE_CHECKER.is_type(value, "number") and math.isfinite(value)


def _finite_integer(checker: Any, value: Any) -> bool:
    return Draft202012Validator.TYPE_CHECKER.is_type(value, "integer") and math.isfinite(value)


_NUMBER_ITEMS = {"type": "number"}
_generic_items = Draft202012Validator.VALIDATORS["items"]


def _is_finite_number(value: Any) -> bool:
    """`_finite_number`'s plain case (an exact int or float) without its type-checker call: 0.25 ms per
    256-number vector instead of 0.7. Anything it refuses still gets `_finite_number` on the generic path."""
    kind = type(value)
    return (kind is float and math.isfinite(value)) or kind is int


def _items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """A vector is hundreds of plain numbers: one pass over them instead of a validator call per number
    (2-3 ms per embedding event). Anything else, or any item that fails, takes the generic path and its
    messages."""
    if items == _NUMBER_ITEMS and isinstance(instance, list) and all(map(_is_finite_number, instance)):
        return
    yield from _generic_items(validator, items, instance, schema)


_Validator = validators.extend(
    Draft202012Validator,
    validators={VECTOR_DIM_KEYWORD: _vector_dim, "items": _items},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _finite_number, "integer": _finite_integer}
    ),
)


def _json_pointer(parts: Any) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in parts)


@dataclass(frozen=True)
class Contract:
    """Every exported schema and fixture of one schema folder."""

    directory: Path
    schemas: dict[str, dict[str, Any]]
    fixtures: dict[str, Any]

    def names(self) -> list[str]:
        return sorted(self.schemas)

    def schema(self, name: str) -> dict[str, Any]:
        try:
            return self.schemas[name]
        except KeyError:
            raise KeyError(f"No schema named {name!r} in {self.directory}") from None

    def issues(self, name: str, payload: Any) -> list[tuple[str, str]]:
        """Every way `payload` breaks the schema (at most a few), best first; empty when valid."""
        validator = _validator(self.directory, name)
        errors = list(validator.iter_errors(payload))
        if not errors:
            return []
        first = best_match(errors)
        ordered = [first, *(error for error in errors if error is not first)]
        return [(_json_pointer(error.absolute_path), error.message) for error in ordered[:_MAX_ISSUES]]

    def validate(self, name: str, payload: Any) -> Any:
        issues = self.issues(name, payload)
        if issues:
            kind = self.schema(name).get("x-speakers", {}).get("kind")
            raise ContractError(name, "INVALID_EVENT" if kind == "event" else "INVALID_REQUEST", issues)
        return payload


def load_contract(directory: Path) -> Contract:
    """Reads `<Name>.schema.json` and `fixtures/<Name>.json` from a folder (fixtures may be missing)."""
    schemas: dict[str, dict[str, Any]] = {}
    fixtures: dict[str, Any] = {}
    for path in sorted(directory.glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        schemas[name] = json.loads(path.read_text("utf-8"))
        fixture = directory / "fixtures" / f"{name}.json"
        if fixture.exists():
            fixtures[name] = json.loads(fixture.read_text("utf-8"))
    if not schemas:
        raise FileNotFoundError(
            f"No *.schema.json in {directory}: run `pnpm schemas` or point {SCHEMA_DIR_ENV} at the export"
        )
    return Contract(directory=directory, schemas=schemas, fixtures=fixtures)


@cache
def _contract_at(directory: Path) -> Contract:
    return load_contract(directory)


@cache
def _validator(directory: Path, name: str) -> Any:
    return _Validator(_contract_at(directory).schema(name))


def contract() -> Contract:
    """The contract of the configured schema folder, read once."""
    return _contract_at(schema_dir())


def validate(name: str, payload: Any) -> Any:
    """`payload` unchanged when it matches schema `name`, else ContractError naming the faulty path."""
    return contract().validate(name, payload)


def type_id(name: str) -> str:
    """The versioned type id (`ce-type`) of a schema, e.g. `speakers.embedding.computed.v1`."""
    return str(contract().schema(name)["$id"])


@cache
def _json_file(directory: Path, file_name: str) -> Any:
    return json.loads((directory / file_name).read_text("utf-8"))


def error_codes() -> dict[str, dict[str, Any]]:
    """The error catalogue: code -> {status, message, hint}."""
    return _json_file(schema_dir(), "error-codes.json")


def topology() -> dict[str, Any]:
    """Streams, consumers, buckets, headers, services and models, as the TS side declares them."""
    return _json_file(schema_dir(), "topology.json")


def audio_limits() -> dict[str, Any]:
    """The one set of audio limits (durations, bytes, silence level, rates, formats) capture also enforces."""
    return topology()["audioLimits"]


def encode_json(name: str, payload: Any) -> bytes:
    """A message body: validated, compact JSON."""
    validate(name, payload)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def decode_json(name: str, body: bytes | str) -> Any:
    return validate(name, _parse(name, body))


def encode_meta(name: str, payload: Any) -> str:
    """A `Speakers-Meta` header value: validated JSON, ASCII only (like the TS `encodeMeta`)."""
    validate(name, payload)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def decode_meta(name: str, header: str | None) -> Any:
    if not header:
        raise ContractError(name, _invalid_code(name), [("", "Missing Speakers-Meta header")])
    return validate(name, _parse(name, header))


def _invalid_code(name: str) -> str:
    kind = contract().schema(name).get("x-speakers", {}).get("kind")
    return "INVALID_EVENT" if kind == "event" else "INVALID_REQUEST"


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _parse(name: str, data: bytes | str) -> Any:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise ContractError(name, _invalid_code(name), [("", f"Not JSON: {err}")]) from err


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def model_key(model: Mapping[str, Any]) -> str:
    return f"{model['id']}@{model['revision']}"


def embedding_event_id(source_event_id: str, model: Mapping[str, Any]) -> str:
    """Deterministic id of `embedding.computed`/`failed` (ADR 0001 rule 4), as `embeddingEventId` in TS."""
    return f"emb-{_sha1(f'{source_event_id}|{model_key(model)}')}"


def check_contract(schemas: Mapping[str, Mapping[str, Any]], fixtures: Mapping[str, Any]) -> list[str]:
    """Every way a schema set breaks the contract: a schema without a fixture, a fixture that does not
    validate or does not survive encode -> decode (body JSON, or the ASCII header form for audio messages)."""
    problems: list[str] = []
    for name in sorted(schemas):
        schema = schemas[name]
        if name not in fixtures:
            problems.append(f"{name}: has no fixture")
            continue
        fixture = fixtures[name]
        validator = _Validator(schema)
        errors = list(validator.iter_errors(fixture))
        if errors:
            error = best_match(errors)
            problems.append(
                f"{name}: fixture is invalid: {_json_pointer(error.absolute_path) or '/'}: {error.message}"
            )
            continue
        audio = schema.get("x-speakers", {}).get("body") == "audio"
        try:
            text = json.dumps(fixture, separators=(",", ":"), ensure_ascii=audio, allow_nan=False)
            back = json.loads(text, parse_constant=_reject_constant)
        except ValueError as err:
            problems.append(f"{name}: fixture fails encode -> decode: {err}")
            continue
        if back != fixture or list(validator.iter_errors(back)):
            problems.append(f"{name}: fixture changes on encode -> decode")
    return problems

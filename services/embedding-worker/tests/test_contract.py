"""The Python side of the contract: every exported schema has a valid fixture that survives encode -> decode,
and the checker that says so does fail when it should."""

from __future__ import annotations

import copy
import hashlib
import shutil
from pathlib import Path

import pytest

from speaker_worker import contract

EXPORTED = contract.load_contract(contract.schema_dir())
NAMES = EXPORTED.names()


def test_the_exported_folder_holds_the_chain() -> None:
    chain = ("AudioCaptured", "EmbeddingComputed", "EmbeddingFailed", "SpeakerIdentified", "ErrorPayload")
    for name in chain:
        assert name in NAMES
    assert contract.type_id("EmbeddingComputed") == "speakers.embedding.computed.v1"


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_has_a_fixture_that_round_trips(name: str) -> None:
    assert name in EXPORTED.fixtures, f"{name} has no fixture"
    fixture = EXPORTED.fixtures[name]
    assert contract.validate(name, fixture) is fixture
    if EXPORTED.schema(name)["x-speakers"]["body"] == "audio":
        back = contract.decode_meta(name, contract.encode_meta(name, fixture))
    else:
        back = contract.decode_json(name, contract.encode_json(name, fixture))
    assert back == fixture


def test_the_checker_passes_the_exported_set() -> None:
    assert contract.check_contract(EXPORTED.schemas, EXPORTED.fixtures) == []


def test_the_checker_fails_on_a_missing_fixture() -> None:
    fixtures = dict(EXPORTED.fixtures)
    del fixtures["SpeakerIdentified"]
    assert contract.check_contract(EXPORTED.schemas, fixtures) == ["SpeakerIdentified: has no fixture"]


def test_the_checker_fails_on_an_invalid_fixture() -> None:
    fixtures = dict(EXPORTED.fixtures)
    fixtures["AudioCaptured"] = {**fixtures["AudioCaptured"], "bytes": -1}
    problems = contract.check_contract(EXPORTED.schemas, fixtures)
    assert len(problems) == 1
    assert problems[0].startswith("AudioCaptured: fixture is invalid: /bytes:")


def test_the_checker_fails_on_a_fixture_json_cannot_carry() -> None:
    schemas = {"SimilarityReply": EXPORTED.schema("SimilarityReply")}
    problems = contract.check_contract(schemas, {"SimilarityReply": {"similarity": float("nan")}})
    assert problems == ["SimilarityReply: fixture is invalid: /similarity: nan is not of type 'number'"]


def test_a_folder_missing_a_fixture_file_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copied = tmp_path / "schemas"
    shutil.copytree(contract.schema_dir(), copied)
    (copied / "fixtures" / "EmbeddingFailed.json").unlink()
    monkeypatch.setenv(contract.SCHEMA_DIR_ENV, str(copied))
    assert contract.schema_dir() == copied
    loaded = contract.load_contract(contract.schema_dir())
    assert contract.check_contract(loaded.schemas, loaded.fixtures) == ["EmbeddingFailed: has no fixture"]


def test_validate_names_the_path_and_the_code() -> None:
    event = copy.deepcopy(EXPORTED.fixtures["AudioCaptured"])
    event["format"]["sampleRate"] = "16k"
    with pytest.raises(contract.ContractError) as caught:
        contract.validate("AudioCaptured", event)
    assert caught.value.code == "INVALID_EVENT"
    assert caught.value.path == "/format/sampleRate"
    assert "/format/sampleRate" in str(caught.value)


def test_requests_fail_as_invalid_request_and_reject_unknown_fields() -> None:
    with pytest.raises(contract.ContractError) as caught:
        contract.validate("ExtractMeta", {"format": "wav", "bitrate": 128})
    assert caught.value.code == "INVALID_REQUEST"


def test_vector_length_must_equal_the_model_dimension() -> None:
    event = copy.deepcopy(EXPORTED.fixtures["EmbeddingComputed"])
    event["vector"] = event["vector"][:-1]
    with pytest.raises(contract.ContractError) as caught:
        contract.validate("EmbeddingComputed", event)
    assert caught.value.issues[0] == ("/vector", "Expected 256 numbers (/model/dim), got 255")


def test_vector_length_is_checked_inside_batch_items() -> None:
    batch = copy.deepcopy(EXPORTED.fixtures["BatchResult"])
    batch["items"][0]["embedding"]["vector"] = [0.1, 0.2]
    with pytest.raises(contract.ContractError) as caught:
        contract.validate("BatchResult", batch)
    assert caught.value.path.startswith("/items/0")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, "0.5", None])
def test_a_bad_number_inside_a_vector_is_named_by_its_index(bad: object) -> None:
    # Vectors are checked in one pass (the fast path); a failing one must still get the generic message.
    event = copy.deepcopy(EXPORTED.fixtures["EmbeddingComputed"])
    event["vector"][7] = bad
    with pytest.raises(contract.ContractError) as caught:
        contract.validate("EmbeddingComputed", event)
    assert caught.value.path == "/vector/7"


def test_integers_are_numbers_in_a_vector() -> None:
    event = copy.deepcopy(EXPORTED.fixtures["EmbeddingComputed"])
    event["vector"] = [0] * len(event["vector"])
    assert contract.validate("EmbeddingComputed", event) is event


def test_non_finite_numbers_are_rejected() -> None:
    with pytest.raises(contract.ContractError):
        contract.validate("SimilarityReply", {"similarity": float("inf")})
    with pytest.raises(contract.ContractError, match="Not JSON"):
        contract.decode_json("SimilarityReply", b'{"similarity": NaN}')


def test_meta_header_is_ascii_and_keeps_the_transcript() -> None:
    event = {**EXPORTED.fixtures["AudioCaptured"], "transcript": "Grüße aus der Küche 👋\nzwei"}
    header = contract.encode_meta("AudioCaptured", event)
    assert header.isascii()
    assert contract.decode_meta("AudioCaptured", header)["transcript"] == event["transcript"]
    with pytest.raises(contract.ContractError, match="Missing Speakers-Meta"):
        contract.decode_meta("AudioCaptured", None)


def test_error_codes_and_topology_come_from_the_ts_source() -> None:
    codes = contract.error_codes()
    assert codes["INVALID_EVENT"]["status"] == 400
    assert codes["WORKER_UNAVAILABLE"]["status"] == 503
    assert all(entry["hint"] for entry in codes.values())
    code_schema = EXPORTED.schema("ErrorPayload")["properties"]["code"]
    assert {branch["const"] for branch in code_schema["anyOf"]} == set(codes)
    topo = contract.topology()
    assert topo["streams"]["AUDIO"]["subjects"] == ["audio.captured.>", "audio.transcribed.>"]
    assert topo["consumers"]["embeddingWorker"]["durable"] == "embedding-worker"
    assert topo["inlineAudioLimitBytes"] == 512 * 1024
    assert topo["headers"]["meta"] == "Speakers-Meta"


def test_embedding_event_id_matches_adr_rule_4() -> None:
    model = {"id": "resemblyzer/ge2e", "revision": "0.1.4", "dim": 256}
    expected = hashlib.sha1(b"evt-1|resemblyzer/ge2e@0.1.4").hexdigest()
    assert contract.embedding_event_id("evt-1", model) == f"emb-{expected}"
    # Same test vector as packages/events/test/subjects.test.ts, so both languages agree.
    assert expected == "95144e646901d755a01a5c3f611afad37975f8a5"

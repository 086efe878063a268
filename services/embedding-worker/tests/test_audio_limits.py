"""One set of limits (issue 9 item 7): from the contract; silence wins over length; DC is not sound."""

from __future__ import annotations

import numpy as np
import pytest
from dev_audio import decode_error, encode_as, three_seconds_of_speech

from speaker_worker import contract
from speaker_worker.audio import FORMATS, TARGET_RATE, AudioLimits, decode_audio
from speaker_worker.config import WorkerConfig
from speaker_worker.errors import WorkerError


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return three_seconds_of_speech()


def encode(samples: np.ndarray, fmt: str, subtype: str = "PCM_16") -> bytes:
    return encode_as(samples, TARGET_RATE, fmt, subtype)


def code_of(data: bytes, **kwargs) -> str:
    return decode_error(data, **kwargs).code


def test_the_limits_are_the_contracts():
    limits = contract.audio_limits()
    assert AudioLimits() == AudioLimits(
        min_seconds=limits["minDurationMs"] / 1000,
        max_seconds=limits["maxDurationMs"] / 1000,
        silence_dbfs=limits["silenceDbfs"],
    )
    config = WorkerConfig()
    assert (config.min_audio_seconds, config.max_audio_seconds) == (1.0, 60.0)
    assert tuple(limits["formats"]) == FORMATS


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_ten_minutes_of_silence_is_silent_not_too_long(fmt):
    assert code_of(encode(np.zeros(600 * TARGET_RATE, np.float32), fmt)) == "AUDIO_SILENT"


def test_ten_minutes_of_raw_pcm_silence_is_silent():
    pcm = bytes(600 * TARGET_RATE * 2)
    assert code_of(pcm, format="pcm_s16le", sample_rate=TARGET_RATE) == "AUDIO_SILENT"


def test_five_minutes_of_speech_is_too_long(speech):
    five_minutes = np.tile(speech, 100)
    with pytest.raises(WorkerError) as err:
        decode_audio(encode(five_minutes, "FLAC"))
    assert err.value.code == "AUDIO_TOO_LONG" and "at most 60 s" in err.value.message


@pytest.mark.parametrize("offset", [0.25, -0.5])
def test_a_constant_dc_offset_is_silence(offset):
    assert code_of(encode(np.full(3 * TARGET_RATE, offset, np.float32), "WAV")) == "AUDIO_SILENT"


def test_speech_on_a_dc_offset_still_passes(speech):
    assert decode_audio(encode(speech * 0.5 + 0.3, "WAV", "FLOAT")).shape == speech.shape


def test_a_flac_with_an_id3_tag_in_front_decodes_like_the_flac(speech):
    flac = encode(speech, "FLAC")
    body = b"TIT2" + (9).to_bytes(4, "big") + b"\x00\x00" + b"\x03kitchen"
    tagged = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(body)]) + body + flac
    np.testing.assert_array_equal(decode_audio(tagged, format="flac"), decode_audio(flac))


def test_a_truncated_flac_is_truncated(speech):
    flac = encode(speech, "FLAC")
    assert code_of(flac[: len(flac) * 2 // 3], format="flac") == "AUDIO_TRUNCATED"

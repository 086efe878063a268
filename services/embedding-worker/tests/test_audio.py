"""Audio in: every accepted format decodes to the same 16 kHz mono speech; every bad input gets its code."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from dev_audio import decode_error, dev_files, dev_root, encode_as, three_seconds_of_speech

from speaker_worker.audio import TARGET_RATE, AudioLimits, decode_audio, read_audio_file
from speaker_worker.errors import WorkerError


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return three_seconds_of_speech()


@pytest.mark.parametrize(
    ("fmt", "subtype", "tolerance"),
    [
        ("WAV", "PCM_16", 1 / 32768),
        ("WAV", "PCM_24", 1e-6),
        ("WAV", "PCM_32", 1e-6),
        ("WAV", "FLOAT", 0.0),
        ("FLAC", "PCM_16", 1 / 32768),
    ],
)
def test_lossless_formats_decode_to_the_same_samples(speech, fmt, subtype, tolerance):
    decoded = decode_audio(encode_as(speech, TARGET_RATE, fmt, subtype))
    assert decoded.dtype == np.float32 and decoded.shape == speech.shape
    np.testing.assert_allclose(decoded, speech, atol=tolerance)


def test_ogg_vorbis_decodes_to_speech_of_the_same_length(speech):
    decoded = decode_audio(encode_as(speech, TARGET_RATE, "OGG", "VORBIS"))
    assert abs(len(decoded) - len(speech)) <= 1
    n = min(len(decoded), len(speech))
    # Lossy: the waveform is close, not equal.
    assert np.corrcoef(decoded[:n], speech[:n])[0, 1] > 0.9


def test_raw_pcm_needs_its_rate_and_decodes_exactly(speech):
    pcm = (np.clip(speech, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()
    np.testing.assert_allclose(
        decode_audio(pcm, format="pcm_s16le", sample_rate=16000), speech, atol=1 / 32768
    )
    err = decode_error(pcm, format="pcm_s16le")
    assert err.code == "AUDIO_UNSUPPORTED_FORMAT" and "sample rate" in err.message


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_rate_is_resampled_to_16k_keeping_pitch(rate):
    seconds, tone = 2.0, 440.0
    t = np.arange(int(seconds * rate)) / rate
    decoded = decode_audio(
        encode_as((0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32), rate, "WAV", "FLOAT")
    )
    assert abs(len(decoded) - seconds * TARGET_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(decoded))
    assert abs(np.argmax(spectrum) * TARGET_RATE / len(decoded) - tone) < 2.0


def test_channels_are_downmixed(speech):
    stereo = np.stack([speech, np.zeros_like(speech)], axis=1)
    np.testing.assert_allclose(
        decode_audio(encode_as(stereo, TARGET_RATE, "WAV", "FLOAT")), speech / 2, atol=1e-7
    )
    pcm = (np.repeat(speech[:, None], 3, axis=1) * 16000).astype("<i2").tobytes()
    mono = decode_audio(pcm, format="pcm_s16le", sample_rate=16000, channels=3)
    np.testing.assert_allclose(mono, (speech * 16000).astype("<i2") / 32768, atol=1e-6)


def test_empty_data():
    err = decode_error(b"")
    assert err.code == "AUDIO_EMPTY" and err.status == 400


def test_unknown_bytes_are_an_unsupported_format():
    # MP3 is decoded now (test_audio_formats.py); AMR and AIFF are formats the worker does not take.
    err = decode_error(b"#!AMR\n" + bytes(4000))
    assert err.code == "AUDIO_UNSUPPORTED_FORMAT" and err.status == 422
    assert decode_error(b"RIFF", format="aiff").code == "AUDIO_UNSUPPORTED_FORMAT"


@pytest.mark.parametrize("magic", [b"fLaC", b"OggS", b"RIFF\x00\x10\x00\x00WAVE\xff\xfe\x00\x01"])
def test_damaged_containers_are_corrupt(magic):
    junk = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert decode_error(magic + junk).code == "AUDIO_CORRUPT"


def test_a_declared_format_must_match_the_bytes(speech):
    err = decode_error(encode_as(speech, TARGET_RATE, "FLAC"), format="wav")
    assert err.code == "AUDIO_CORRUPT" and "flac" in err.message


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "VORBIS")])
def test_cut_short_files_are_truncated(speech, fmt, subtype):
    data = encode_as(speech, TARGET_RATE, fmt, subtype)
    err = decode_error(data[: int(len(data) * 0.8)])
    assert err.code == "AUDIO_TRUNCATED" and err.status == 422


def test_raw_pcm_with_a_partial_frame_is_truncated():
    assert decode_error(bytes(32001), format="pcm_s16le", sample_rate=16000).code == "AUDIO_TRUNCATED"


def test_too_short_says_the_minimum(speech):
    err = decode_error(encode_as(speech[:8000], TARGET_RATE, "WAV", "PCM_16"))
    assert err.code == "AUDIO_TOO_SHORT" and "at least 1 s" in err.message
    assert err.details == {"seconds": 0.5, "minSeconds": 1.0}
    err = decode_error(encode_as(speech, TARGET_RATE, "FLAC"), limits=AudioLimits(min_seconds=4.0))
    assert err.code == "AUDIO_TOO_SHORT" and "at least 4 s" in err.message


def test_longer_than_the_configured_maximum(speech):
    err = decode_error(encode_as(speech, TARGET_RATE, "FLAC"), limits=AudioLimits(max_seconds=2.0))
    assert err.code == "AUDIO_TOO_LONG" and err.status == 413 and "at most 2 s" in err.message


def test_silence_and_near_silence_are_rejected(speech):
    silence = encode_as(np.zeros(32000, np.float32), TARGET_RATE, "WAV", "PCM_16")
    assert decode_error(silence).code == "AUDIO_SILENT"
    hiss = (np.random.default_rng(2).standard_normal(32000) * 10 ** (-75 / 20)).astype(np.float32)
    err = decode_error(encode_as(hiss, TARGET_RATE, "WAV", "FLOAT"))
    assert err.code == "AUDIO_SILENT" and "-60 dBFS" in err.message
    # Quiet but real speech (about -50 dBFS) passes.
    quiet = speech * (10 ** (-50 / 20) / np.sqrt(np.mean(speech**2)))
    quiet_wav = encode_as(quiet.astype(np.float32), TARGET_RATE, "WAV", "FLOAT")
    assert decode_audio(quiet_wav).shape == speech.shape


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(speech, bad):
    samples = speech.copy()
    samples[1234] = bad
    assert decode_error(encode_as(samples, TARGET_RATE, "WAV", "FLOAT")).code == "AUDIO_NON_FINITE"


def test_a_sample_rate_nobody_records_at_is_unsupported():
    err = decode_error(bytes(4000), format="pcm_s16le", sample_rate=100)
    assert err.code == "AUDIO_UNSUPPORTED_FORMAT" and "100 Hz" in err.message


class TestFilePaths:
    def test_reads_a_file_under_a_root(self, speech, tmp_path):
        (tmp_path / "a.flac").write_bytes(encode_as(speech, TARGET_RATE, "FLAC"))
        np.testing.assert_allclose(
            read_audio_file(str(tmp_path / "a.flac"), [str(tmp_path)]), speech, atol=1e-4
        )
        real = dev_files()[0]
        assert read_audio_file(str(real.path), [str(dev_root())]).ndim == 1

    def forbidden(self, path: str, roots: list[str]) -> WorkerError:
        with pytest.raises(WorkerError) as err:
            read_audio_file(path, roots)
        assert err.value.code == "AUDIO_PATH_FORBIDDEN", err.value
        return err.value

    def test_outside_the_roots(self, tmp_path):
        root = tmp_path / "audio"
        root.mkdir()
        sibling = tmp_path / "audio2"
        sibling.mkdir()
        (sibling / "x.wav").write_bytes(b"RIFF")
        self.forbidden(str(sibling / "x.wav"), [str(root)])  # a shared name prefix is not "under"
        self.forbidden("/etc/passwd", [str(root)])

    def test_dot_dot_and_relative_paths(self, tmp_path):
        (tmp_path / "sub").mkdir()
        self.forbidden(str(tmp_path / "sub" / ".." / "sub"), [str(tmp_path)])
        self.forbidden("sub/a.wav", [str(tmp_path)])

    def test_a_symlink_out_of_the_root(self, tmp_path):
        root = tmp_path / "audio"
        root.mkdir()
        outside = tmp_path / "secret.wav"
        outside.write_bytes(b"RIFF")
        os.symlink(outside, root / "link.wav")
        self.forbidden(str(root / "link.wav"), [str(root)])

    def test_no_roots_means_paths_are_off(self, tmp_path):
        err = self.forbidden(str(tmp_path / "a.wav"), [])
        assert "no audio roots" in err.message

    def test_missing_file_and_folder(self, tmp_path):
        for path in (tmp_path / "missing.wav", tmp_path):
            with pytest.raises(WorkerError) as err:
                read_audio_file(str(path), [str(tmp_path)])
            assert err.value.code == "AUDIO_PATH_NOT_FOUND" and err.value.status == 404

    def test_a_file_outside_does_not_reveal_whether_it_exists(self, tmp_path):
        root = Path(tmp_path / "audio")
        root.mkdir()
        assert self.forbidden(str(tmp_path / "nothing-here.wav"), [str(root)]).code == "AUDIO_PATH_FORBIDDEN"

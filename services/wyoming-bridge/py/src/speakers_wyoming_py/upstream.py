"""A real Wyoming ASR server around PocketSphinx (its PyPI package ships the en-us model).

The bridge's tests and benchmark use it as the upstream speech-to-text, the way Home Assistant users run
wyoming-faster-whisper. It decodes each chunk as it arrives, so a bridge that held audio back until
audio-stop would show up in its log. Prints one JSON line per happening on stdout (`ready`, `first-chunk`,
`transcript`) with a wall-clock time, for the tests to follow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from functools import partial

from pocketsphinx import Decoder
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler, AsyncServer

_LOG = logging.getLogger("pocketsphinx-upstream")
_RATE = 16_000


def say(**fields: object) -> None:
    print(json.dumps({"t": time.time(), **fields}), flush=True)


class DecoderPool:
    """Loading the model takes a while; idle decoders are kept for the next utterance."""

    def __init__(self) -> None:
        self._idle: list[Decoder] = []

    def take(self) -> Decoder:
        return self._idle.pop() if self._idle else Decoder(samprate=_RATE, loglevel="FATAL")

    def give(self, decoder: Decoder) -> None:
        self._idle.append(decoder)


def make_info() -> Info:
    # The model and the program it belongs to share their attribution, install state and version.
    common = {
        "attribution": Attribution(name="CMU PocketSphinx", url="https://github.com/cmusphinx/pocketsphinx"),
        "installed": True,
        "version": "5.1.1",
    }
    model = AsrModel(name="en-us", description="PocketSphinx US English", languages=["en"], **common)
    program = AsrProgram(
        name="pocketsphinx", description="PocketSphinx speech-to-text", models=[model], **common
    )
    return Info(asr=[program])


class PocketSphinxHandler(AsyncEventHandler):
    def __init__(self, info: Info, pool: DecoderPool, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._info = info
        self._pool = pool
        self._decoder: Decoder | None = None
        self._converter = AudioChunkConverter(rate=_RATE, width=2, channels=1)
        self._chunks = 0

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self._info.event())
            return True
        if Transcribe.is_type(event.type):
            return True
        if AudioStart.is_type(event.type):
            self._decoder = self._pool.take()
            self._decoder.start_utt()
            self._chunks = 0
            return True
        if AudioChunk.is_type(event.type):
            if self._decoder is None:
                return True
            chunk = self._converter.convert(AudioChunk.from_event(event))
            if self._chunks == 0:
                say(event="first-chunk")
            self._chunks += 1
            self._decoder.process_raw(chunk.audio, False, False)
            return True
        if AudioStop.is_type(event.type):
            text = ""
            if self._decoder is not None:
                self._decoder.end_utt()
                hyp = self._decoder.hyp()
                text = hyp.hypstr if hyp is not None else ""
                self._pool.give(self._decoder)
                self._decoder = None
            await self.write_event(Transcript(text=text, language="en").event())
            say(event="transcript", text=text, chunks=self._chunks)
            return False
        return True

    async def disconnect(self) -> None:
        if self._decoder is not None:
            self._decoder.end_utt()
            self._pool.give(self._decoder)
            self._decoder = None


async def serve(uri: str) -> None:
    pool = DecoderPool()
    pool.give(pool.take())  # load the model before saying ready
    server = AsyncServer.from_uri(uri)
    _LOG.info("listening on %s", uri)
    say(event="ready", uri=uri)
    await server.run(partial(PocketSphinxHandler, make_info(), pool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True, help="tcp://host:port to listen on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(args.uri))


if __name__ == "__main__":
    main()

"""Home Assistant's side of a Wyoming STT conversation, played with the official `wyoming` library.

What Home Assistant's Wyoming STT provider sends: `transcribe` (with a language), `audio-start`, the audio as
`audio-chunk`s (16 kHz, 16-bit, mono), `audio-stop`; then it reads events until the `transcript`. Prints one
JSON line per utterance on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.info import Describe, Info

from .marker import Marker


def load_pcm(path: str) -> tuple[bytes, int, int]:
    audio, rate = sf.read(path, dtype="int16", always_2d=True)
    channels = audio.shape[1]
    return np.ascontiguousarray(audio).tobytes(), int(rate), int(channels)


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def describe(uri: str) -> None:
    async with AsyncClient.from_uri(uri) as client:
        await client.write_event(Describe().event())
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout=30)
            if event is None:
                emit(error={"text": "connection closed before info"})
                return
            if Info.is_type(event.type):
                emit(info=event.data)
                return


async def stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def transcribe_one(path: str, args: argparse.Namespace, marker: Marker | None) -> dict:
    pcm, rate, channels = load_pcm(path)
    width = 2
    chunk_bytes = int(rate * args.chunk_ms / 1000) * width * channels
    if args.max_seconds is not None:
        pcm = pcm[: int(rate * args.max_seconds) * width * channels]
    if args.disconnect_after_ms is not None:
        pcm = pcm[: int(rate * args.disconnect_after_ms / 1000) * width * channels]
    result: dict = {"file": Path(path).name}
    async with AsyncClient.from_uri(args.uri) as client:
        await client.write_event(Transcribe(language=args.language).event())
        await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        started = time.perf_counter()
        for i, offset in enumerate(range(0, len(pcm), chunk_bytes)):
            audio = pcm[offset : offset + chunk_bytes]
            chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=audio)
            await client.write_event(chunk.event())
            if args.realtime:
                # Paced like a microphone: chunk i is sent when its audio has been "spoken".
                ahead = started + (i + 1) * args.chunk_ms / 1000 - time.perf_counter()
                if ahead > 0:
                    await asyncio.sleep(ahead)
        if args.disconnect_after_ms is not None:
            result["disconnected"] = True
            return result
        if args.hold_stop:
            emit(event="chunks-sent", file=result["file"])
            await stdin_line()
        await client.write_event(AudioStop().event())
        stopped = time.perf_counter()
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout=args.timeout)
            if event is None:
                result["closed"] = True
                break
            if Transcript.is_type(event.type):
                if marker is not None:
                    marker.send(result["file"])
                transcript = Transcript.from_event(event)
                result["text"] = transcript.text
                result["language"] = transcript.language
                result["stop_to_transcript_ms"] = (time.perf_counter() - stopped) * 1000
                result["at"] = time.time()
                break
            if Error.is_type(event.type):
                error = Error.from_event(event)
                result["error"] = {"text": error.text, "code": error.code}
                break
    return result


async def transcribe(args: argparse.Namespace) -> None:
    marker = Marker(args.mqtt, args.mqtt_topic) if args.mqtt else None
    try:
        queue = list(args.files) * args.repeat
        semaphore = asyncio.Semaphore(args.concurrency)

        async def run(path: str) -> None:
            async with semaphore:
                try:
                    emit(**await transcribe_one(path, args, marker))
                except (OSError, TimeoutError) as err:
                    emit(file=Path(path).name, failure=f"{type(err).__name__}: {err}")

        await asyncio.gather(*(run(p) for p in queue))
    finally:
        if marker is not None:
            marker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True, help="tcp://host:port of the Wyoming STT service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("describe")
    t = sub.add_parser("transcribe")
    t.add_argument("files", nargs="+")
    t.add_argument("--language", default="en")
    t.add_argument("--chunk-ms", type=int, default=64)
    t.add_argument("--max-seconds", type=float, help="send only the first seconds of each file")
    t.add_argument("--realtime", action="store_true", help="pace chunks like a live microphone")
    t.add_argument("--concurrency", type=int, default=1)
    t.add_argument("--repeat", type=int, default=1)
    t.add_argument("--timeout", type=float, default=60)
    t.add_argument("--hold-stop", action="store_true", help="wait for a line on stdin before audio-stop")
    t.add_argument("--disconnect-after-ms", type=int, help="close the connection mid-utterance")
    t.add_argument("--mqtt", help="host:port of an MQTT broker to mark each transcript's arrival on")
    t.add_argument("--mqtt-topic", default="speakers-test/transcript")
    args = parser.parse_args()
    if args.command == "describe":
        asyncio.run(describe(args.uri))
    else:
        asyncio.run(transcribe(args))


if __name__ == "__main__":
    main()

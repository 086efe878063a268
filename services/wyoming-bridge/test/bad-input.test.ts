/**
 * Broken and hostile clients: each kind of bad input gets a Wyoming `error` (with our catalogue code) or a
 * clean close, only that connection closes, and afterwards the bridge still answers and holds nothing
 * (connections, utterances waiting for an identification, upstream sockets).
 */
import { randomBytes } from "node:crypto";
import { createLogger } from "@speakers/bus";
import { devClips, eventually, runClient, startPocketSphinx } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WyomingBridge } from "../src/index.js";
import { type Chain, startChain } from "./support/chain.js";
import { frame, rawExchange } from "./support/raw.js";

const FORMAT = { rate: 16000, width: 2, channels: 1 };
const pcm = (ms: number) => new Uint8Array((FORMAT.rate * ms * 2) / 1000);
const clip = devClips()[0]?.path;
if (!clip) throw new Error("no dev audio");

describe("bad input to the Wyoming bridge", () => {
  let chain: Chain;
  let bridge: WyomingBridge;
  let proxied: WyomingBridge;
  let upstream: Awaited<ReturnType<typeof startPocketSphinx>>;
  let port = 0;
  const logger = createLogger("wyoming-bad-input", { level: process.env.LOG_LEVEL ?? "silent" });

  beforeAll(async () => {
    // No worker: nothing gets identified, so every utterance also shows the bounded wait ending.
    chain = await startChain({ worker: false });
    upstream = await startPocketSphinx();
    const env = { SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0", SPEAKERS_WYOMING_WAIT_MS: "200" };
    bridge = chain.bridge(env, logger);
    await bridge.start();
    port = bridge.listeners[0]?.boundPort ?? 0;
    proxied = chain.bridge({ ...env, SPEAKERS_WYOMING_UPSTREAM: upstream.uri }, logger);
    await proxied.start();
  });
  afterAll(async () => {
    await bridge?.stop();
    await proxied?.stop();
    await upstream?.stop();
    await chain?.stop();
  });

  /** The Wyoming client transcribes the dev clip through `via`'s first listener, with these flags. */
  const transcribe = (via: WyomingBridge, flags: Record<string, string>) =>
    runClient(via.listeners[0]?.uri ?? "", ["transcribe", clip, ...Object.entries(flags).flat()]);

  const start = frame("audio-start", FORMAT);
  const cases: Array<{ kind: string; writes: Array<Uint8Array | string>; code: string }> = [
    { kind: "binary garbage", writes: [randomBytes(4096), "\n"], code: "WYOMING_BAD_FRAME" },
    {
      kind: "a 1 GB payload_length",
      writes: ['{"type":"audio-chunk","payload_length":1073741824}\n'],
      code: "WYOMING_FRAME_TOO_LARGE",
    },
    {
      kind: "a header line that never ends",
      writes: [Buffer.alloc(70 * 1024, 0x7b)],
      code: "WYOMING_FRAME_TOO_LARGE",
    },
    {
      kind: "a negative data_length",
      writes: ['{"type":"describe","data_length":-4}\n'],
      code: "WYOMING_BAD_FRAME",
    },
    { kind: "a header without a type", writes: ['{"data":{"text":"hi"}}\n'], code: "WYOMING_BAD_FRAME" },
    {
      // data_length says 40 bytes but the data is 24: the next frame's header is read as data.
      kind: "a data_length longer than the data",
      writes: ['{"type":"audio-start","data_length":40}\n{"rate":16000,"width":2}', frame("audio-stop")],
      code: "WYOMING_BAD_FRAME",
    },
    {
      kind: "audio-chunk before audio-start",
      writes: [frame("audio-chunk", FORMAT, pcm(20))],
      code: "WYOMING_OUT_OF_ORDER",
    },
    { kind: "audio-stop before audio-start", writes: [frame("audio-stop")], code: "WYOMING_OUT_OF_ORDER" },
    { kind: "audio-start twice", writes: [start, start], code: "WYOMING_OUT_OF_ORDER" },
    {
      kind: "a rate of 4000 Hz",
      writes: [frame("audio-start", { ...FORMAT, rate: 4000 })],
      code: "AUDIO_UNSUPPORTED_FORMAT",
    },
    {
      kind: "32-bit samples",
      writes: [frame("audio-start", { ...FORMAT, width: 4 })],
      code: "AUDIO_UNSUPPORTED_FORMAT",
    },
    {
      kind: "three channels",
      writes: [frame("audio-start", { ...FORMAT, channels: 3 })],
      code: "AUDIO_UNSUPPORTED_FORMAT",
    },
    {
      kind: "a chunk in another format than audio-start",
      writes: [start, frame("audio-chunk", { ...FORMAT, rate: 22050 }, pcm(20))],
      code: "AUDIO_UNSUPPORTED_FORMAT",
    },
    {
      kind: "a chunk that is not whole 16-bit samples",
      writes: [start, frame("audio-chunk", FORMAT, new Uint8Array(641))],
      code: "WYOMING_BAD_FRAME",
    },
  ];

  for (const c of cases) {
    it(`answers ${c.kind} with a ${c.code} error and closes that connection`, async () => {
      const result = await rawExchange(port, c.writes);
      expect(result.closedByBridge).toBe(true);
      expect(result.events.map((e) => e.type)).toEqual(["error"]);
      expect(result.events[0]?.data).toMatchObject({ code: c.code, text: expect.any(String) });
    });
  }

  it("closes cleanly on a header cut short and on a payload cut short", async () => {
    const header = await rawExchange(port, ['{"type":"audio-st'], { end: true });
    expect(header).toEqual({ events: [], closedByBridge: true });
    const chunk = frame("audio-chunk", FORMAT, pcm(100)).subarray(0, 200);
    const payload = await rawExchange(port, [start, chunk], { end: true });
    expect(payload).toEqual({ events: [], closedByBridge: true });
  });

  it("drops an utterance whose client disconnects mid-way, upstream included", async () => {
    const lines = await transcribe(proxied, { "--disconnect-after-ms": "1500" });
    expect(lines).toEqual([expect.objectContaining({ disconnected: true })]);
    await eventually(() =>
      proxied.stats().connections === 0 && proxied.stats().upstreams === 0 ? true : undefined,
    );
  });

  it("turns away connections past SPEAKERS_WYOMING_MAX_SESSIONS with a BACKPRESSURE error", async () => {
    const small = chain.bridge(
      {
        SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_MAX_SESSIONS: "1",
      },
      logger,
    );
    await small.start();
    try {
      const smallPort = small.listeners[0]?.boundPort ?? 0;
      // The first holds its slot (an open utterance); the second is refused, not queued.
      const first = rawExchange(smallPort, [start], { waitMs: 1_500 });
      await eventually(() => (small.stats().connections === 1 ? true : undefined));
      const second = await rawExchange(smallPort, [frame("describe")]);
      expect(second.closedByBridge).toBe(true);
      expect(second.events[0]?.data).toMatchObject({ code: "BACKPRESSURE" });
      expect((await first).closedByBridge).toBe(false);
    } finally {
      await small.stop();
    }
  });

  it("serves 50 sessions at once, each to its transcript", async () => {
    const lines = await transcribe(bridge, { "--max-seconds": "1", "--repeat": "50", "--concurrency": "50" });
    expect(lines).toHaveLength(50);
    expect(lines.filter((l) => l.text === "")).toHaveLength(50);
  });

  it("still answers, and holds no connection, utterance or upstream socket afterwards", async () => {
    await eventually(() => (bridge.stats().connections === 0 ? true : undefined));
    expect(bridge.stats()).toEqual({ connections: 0, waiting: 0, upstreams: 0 });
    expect(proxied.stats()).toEqual({ connections: 0, waiting: 0, upstreams: 0 });
    const [described] = await runClient(bridge.listeners[0]?.uri ?? "", ["describe"]);
    expect(described?.info).toMatchObject({ asr: [{ name: "speakers" }] });
  });
});

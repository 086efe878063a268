import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { type Capture, captureConfigFromEnv, createCapture } from "@speakers/audio-capture";
import { devClips, eventually, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SLOW_CLIENTS = 40;
const MAX_IN_FLIGHT = 32;

/** An upload that announces 100 kB and then sends one byte at a time: a slow or stalled client. */
function slowUpload(url: URL): { socket: Socket; closed: Promise<string> } {
  const socket = connect(Number(url.port), url.hostname);
  let answer = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    answer += chunk;
  });
  socket.on("error", () => {});
  socket.write(
    `POST /v1/audio?device=slow HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: audio/flac\r\n` +
      "Content-Length: 100000\r\n\r\nf",
  );
  const drip = setInterval(() => {
    if (!socket.destroyed) socket.write("L");
  }, 500);
  const closed = new Promise<string>((resolve) =>
    socket.once("close", () => {
      clearInterval(drip);
      resolve(answer);
    }),
  );
  return { socket, closed };
}

describe("HTTP capture with slow clients (issue 9 item 5)", () => {
  const t = useTestBus("capture-slow-clients-test");
  let capture: Capture;
  let url: URL;

  beforeAll(async () => {
    const config = captureConfigFromEnv({
      CAPTURE_HTTP_PORT: "0",
      CAPTURE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      // Short deadlines so the test is quick; a normal local upload needs a few milliseconds of them.
      CAPTURE_REQUEST_TIMEOUT_MS: "6000",
      CAPTURE_HEADERS_TIMEOUT_MS: "3000",
      CAPTURE_IDLE_TIMEOUT_MS: "3000",
    });
    capture = createCapture({ bus: t.bus, config });
    await capture.listen();
    url = new URL(capture.url ?? "");
  });
  afterAll(async () => {
    await capture?.close();
  });

  it("takes a normal upload while 40 slow ones are open, and cuts the slow ones at the request deadline", async () => {
    const slow = Array.from({ length: SLOW_CLIENTS }, () => slowUpload(url));
    let open = SLOW_CLIENTS;
    for (const s of slow) void s.closed.then(() => open--);
    // Every slow client has sent its headers and started its body before the normal upload begins.
    await new Promise((r) => setTimeout(r, 300));

    const flac = readFileSync(devClips()[0]?.path ?? "");
    const res = await fetch(`${url.origin}/v1/audio?device=normal`, {
      method: "POST",
      body: flac,
      headers: { "Content-Type": "audio/flac" },
    });
    expect(res.status).toBe(202);
    // The slow uploads were still being received while the normal one went through.
    expect(open).toBe(SLOW_CLIENTS);

    const answers = await eventually(
      async () => (open === 0 ? Promise.all(slow.map((s) => s.closed)) : undefined),
      30_000,
    );
    // Node answers 408 when the request deadline passes; nothing of the partial uploads was stored.
    for (const answer of answers) expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
    const info = await t.bus.jsm.streams.info("AUDIO", { subjects_filter: "audio.captured.slow" });
    expect(info.state.subjects?.["audio.captured.slow"] ?? 0).toBe(0);
  });
});

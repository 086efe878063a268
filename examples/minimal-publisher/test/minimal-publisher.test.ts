import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import { AudioCaptured, decodeMeta, HEADERS } from "@speakers/events";
import { DEV_AUDIO, type NatsServer, startNatsServer } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const example = resolve(import.meta.dirname, "..");

describe("examples/minimal-publisher", () => {
  let server: NatsServer;
  let bus: Bus;

  beforeAll(async () => {
    // Run the example as a user does: built, then `node dist/main.js <file>`.
    await run("pnpm", ["exec", "tsc", "-b", example], { cwd: root });
    server = await startNatsServer();
    bus = await connectBus({
      servers: server.url,
      name: "example-test",
      logger: createLogger("t", { level: "silent" }),
    });
  });
  afterAll(async () => {
    await closeBus(bus).catch(() => {});
    await server?.stop();
  });

  it("publishes one audio.captured event with the file as its body", async () => {
    const file = resolve(DEV_AUDIO, "1688/1688-142285-0000.flac");
    const { stdout } = await run("node", [resolve(example, "dist/main.js"), file, "desk-mic"], {
      env: { ...process.env, NATS_URL: server.url, LOG_LEVEL: "silent" },
    });
    const printed = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { id: string; subject: string };
    expect(printed.subject).toBe("audio.captured.desk-mic");

    const msg = await bus.jsm.streams.getMessage("AUDIO", { last_by_subj: printed.subject });
    expect(msg?.header.get(HEADERS.ceId)).toBe(printed.id);
    expect(Buffer.from(msg?.data ?? []).equals(readFileSync(file))).toBe(true);
    const meta = decodeMeta(AudioCaptured, msg?.header.get(HEADERS.meta));
    expect(meta.format).toEqual({ encoding: "flac", sampleRate: 16_000, channels: 1 });
  });

  it("refuses a file that is not audio, and says why", async () => {
    const notAudio = resolve(example, "package.json");
    const failed = await run("node", [resolve(example, "dist/main.js"), notAudio], {
      env: { ...process.env, NATS_URL: server.url },
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toContain("AUDIO_UNSUPPORTED_FORMAT");
  });
});

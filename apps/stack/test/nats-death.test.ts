/**
 * Issue 9 item 4, the bus half: the embedded nats-server of `pnpm start` SIGKILLed. The stack logs it,
 * starts it again on the same store and port, every connection comes back by itself, clips are identified
 * again, and stopping the stack afterwards still ends every part.
 */
import { readFileSync } from "node:fs";
import { devClips } from "@speakers/test-support";
import { describe, expect, it, vi } from "vitest";
import { mediaTypeOf, postClip, traceChain } from "../src/index.js";
import { part, useTestStack } from "./support/stack-under-test.js";

describe("the embedded nats-server dies under pnpm start", () => {
  const t = useTestStack("nats-death");
  const { log } = t;

  it("is logged, restarted on its store, and the chain identifies clips again", async () => {
    const { stack } = t;
    const clip = devClips().find((c) => c.durationS < 6);
    if (!clip) throw new Error("the dev set has no short clip");
    const before = part(stack, "nats-server");
    const url = stack.urls?.nats;
    process.kill(before.pid as number, "SIGKILL");
    await vi.waitFor(() => expect(part(stack, "nats-server")).toMatchObject({ up: true, restarts: 1 }), {
      timeout: 60_000,
    });
    expect(part(stack, "nats-server").lastExit?.signal).toBe("SIGKILL");
    expect(stack.urls?.nats).toBe(url);
    expect(
      log.entries().some((e) => e.msg === "nats-server exited unexpectedly (signal SIGKILL); restarting"),
    ).toBe(true);
    // The streams survived (same store), and the worker, registry, capture and plugins reconnected.
    await vi.waitFor(
      async () => expect((await stack.bus.jsm.streams.info("AUDIO")).config.name).toBe("AUDIO"),
      {
        timeout: 60_000,
      },
    );
    const tracer = await traceChain(stack.bus);
    try {
      const posted = await vi.waitFor(
        () =>
          postClip(stack.urls?.capture as string, new Uint8Array(readFileSync(clip.path)), {
            device: "after-restart",
            contentType: mediaTypeOf(clip.path),
          }),
        { timeout: 60_000, interval: 500 },
      );
      const trace = await tracer.wait(posted.id, 120_000);
      expect(trace.identified?.sourceEventId).toBe(posted.id);
    } finally {
      await tracer.stop();
    }
    expect(stack.health().ready).toBe(true);
  }, 300_000);

  it("stops every part afterwards", async () => {
    const { stack } = t;
    const pids = stack
      .health()
      .parts.map((p) => p.pid)
      .filter((p) => p !== undefined);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    await stack.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(log.entries().some((e) => e.msg === "stop step failed")).toBe(false);
  }, 120_000);
});

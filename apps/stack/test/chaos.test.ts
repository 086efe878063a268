/**
 * Issue 9's chaos test: under what `pnpm start` composes (createStack, the embedded nats-server, the GE2E worker
 * and the plugins as supervised child processes), SIGKILL the worker and a plugin process while 500 clips flow
 * through HTTP capture. Nobody restarts anything: every clip must still be identified exactly once, and the
 * killed plugin must catch up on every event. Kills happen after a number of identifications was observed,
 * and every wait is on a condition with a bounded timeout, so the outcome does not depend on machine speed.
 */
import { readFileSync } from "node:fs";
import { decodeJson, SpeakerIdentified } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import { consumerIdle, type DevClip, devClips } from "@speakers/test-support";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { LEAN_NODE_FLAGS, mediaTypeOf, postClip, type Stack } from "../src/index.js";
import { part, useTestStack } from "./support/stack-under-test.js";

const EVENTS = 500;
const KILL_WORKER_AT = 120;
const KILL_PLUGIN_AT = 280;

describe("chaos: SIGKILL of the worker and a plugin during 500 events", () => {
  const t = useTestStack("chaos");
  const { log } = t;

  beforeAll(async () => {
    const { stack } = t;
    // Everyone enrolled on two long clips, so the short clips sent below are mostly known voices.
    const bySpeaker = new Map<string, DevClip[]>();
    for (const clip of devClips())
      bySpeaker.set(clip.speaker, [...(bySpeaker.get(clip.speaker) ?? []), clip]);
    const registry = registryClient(stack.bus);
    for (const [speaker, own] of bySpeaker) {
      const long = own.filter((c) => c.durationS >= 8).slice(0, 2);
      await registry.enrollFiles(
        `dev-${speaker}`,
        long.map((c) => c.path),
      );
    }
  }, 600_000);

  it("identifies every clip exactly once, restarts both processes by itself, and the plugin catches up", async () => {
    const { stack } = t;
    const short = devClips().filter((c) => c.durationS < 6);
    const bytes = short.map((c) => ({
      data: new Uint8Array(readFileSync(c.path)),
      type: mediaTypeOf(c.path),
    }));
    const posted = new Set<string>();
    const identified = new Set<string>();
    const killed: Record<string, number> = {};

    const kill = (name: string) => {
      const { pid } = part(stack, name);
      if (pid === undefined) throw new Error(`${name} has no pid to kill`);
      killed[name] = pid;
      process.kill(pid, "SIGKILL");
    };
    const sub = stack.bus.nc.subscribe(SpeakerIdentified.filter, {
      callback: (err, msg) => {
        if (err) return;
        identified.add(decodeJson(SpeakerIdentified, msg.data).sourceEventId);
        if (identified.size === KILL_WORKER_AT) kill("worker");
        if (identified.size === KILL_PLUGIN_AT) kill("plugin presence");
      },
    });

    // Four microphones at once, as fast as capture accepts; it keeps accepting while the worker is down.
    let next = 0;
    const mic = async (device: string) => {
      while (next < EVENTS) {
        const clip = bytes[next++ % bytes.length] as { data: Uint8Array; type: string };
        const { id } = await postClip(stack.urls?.capture as string, clip.data, {
          device,
          contentType: clip.type,
        });
        posted.add(id);
      }
    };
    await Promise.all(["kitchen", "hall", "office", "bedroom"].map(mic));
    expect(posted.size).toBe(EVENTS);

    await vi.waitFor(
      () => {
        if (identified.size < EVENTS) throw new Error(`${identified.size}/${EVENTS} identified`);
      },
      { timeout: 600_000, interval: 500 },
    );
    sub.unsubscribe();
    // Both kills happened, and each part came back on its own with a new process.
    expect(Object.keys(killed).sort()).toEqual(["plugin presence", "worker"]);
    for (const name of ["worker", "plugin presence"]) {
      const health = part(stack, name);
      expect(health).toMatchObject({ up: true, restarts: 1, lastExit: { signal: "SIGKILL" } });
      expect(health.pid).not.toBe(killed[name]);
    }
    expect(stack.health().ready).toBe(true);
    // A restarted plugin runs with the same V8 memory flags as the first start.
    const cmdline = readFileSync(`/proc/${part(stack, "plugin presence").pid}/cmdline`, "utf8").split("\0");
    expect(cmdline).toEqual(expect.arrayContaining([...LEAN_NODE_FLAGS]));
    const exits = log.entries().filter((e) => /exited unexpectedly \(signal SIGKILL\)/.test(String(e.msg)));
    expect(exits.map((e) => e.part).sort()).toEqual(["plugin presence", "worker"]);

    // Quiet chain: nothing waits in or is held by any consumer, so no late redelivery can still add a copy.
    const quiet = async (stream: string, durable: string) => {
      if (!(await consumerIdle(stack.bus.jsm, stream, durable)))
        throw new Error(`${durable} is not idle yet`);
    };
    await vi.waitFor(
      async () => {
        await quiet("AUDIO", "embedding-worker");
        await quiet("EMBEDDINGS", "speaker-registry");
        // The killed plugin resumed its durable consumer: it has handled every speaker event.
        await quiet("SPEAKERS", "plugin-presence");
      },
      { timeout: 120_000, interval: 500 },
    );

    // Exactly once, counted where it is kept: one speaker.identified per clip in the SPEAKERS stream.
    const perClip = await identifiedPerSource(stack);
    const ours = [...posted].map((id) => perClip.get(id) ?? 0);
    expect(ours.filter((n) => n === 0)).toHaveLength(0);
    expect(ours.filter((n) => n > 1)).toHaveLength(0);
    expect([...perClip.keys()].filter((id) => !posted.has(id))).toEqual([]);
  }, 900_000);
});

/** Every speaker.identified in SPEAKERS, counted by the clip (audio.captured id) it is about. */
async function identifiedPerSource(stack: Stack): Promise<Map<string, number>> {
  const { jsm, js } = stack.bus;
  const stream = await jsm.streams.info("SPEAKERS", { subjects_filter: "speaker.identified" });
  const total = stream.state.subjects?.["speaker.identified"] ?? 0;
  const consumer = await js.consumers.get("SPEAKERS", {
    // An ordered consumer starts at the stream's first message.
    filter_subjects: ["speaker.identified"],
  });
  const counts = new Map<string, number>();
  let read = 0;
  while (read < total) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 5_000 });
    for await (const msg of batch) {
      const id = decodeJson(SpeakerIdentified, msg.data).sourceEventId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      read += 1;
    }
  }
  await consumer.delete();
  return counts;
}

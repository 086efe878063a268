import { HEADERS } from "@speakers/events";
import {
  definePlugin,
  pluginDeadLetterSubject,
  type RunningPlugin,
  runPlugins,
  startPlugin,
  Type,
} from "@speakers/plugin-sdk";
import { eventually, publishIdentified, readDeadLetters, sleep, useTestBus } from "@speakers/test-support";
import { afterEach, describe, expect, it } from "vitest";

/** A plugin that records the source event ids it saw. */
function recorder(name: string, seen: string[]) {
  return definePlugin({
    name,
    version: "1.0.0",
    on: {
      "speaker.identified": (event) => {
        seen.push(event.sourceEventId);
      },
    },
  });
}

describe("plugin SDK", () => {
  const t = useTestBus("plugin-sdk-test");
  const running: RunningPlugin[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  it("catches up on the events it missed while it was down, without repeating handled ones", async () => {
    const seen: string[] = [];
    const first = await startPlugin(t.bus, recorder("catch-up", seen));
    const a = await publishIdentified(t.bus);
    await eventually(() => (seen.length === 1 ? true : undefined));
    await first.stop();

    await publishIdentified(t.bus, { sourceEventId: "missed-1" });
    await publishIdentified(t.bus, { sourceEventId: "missed-2" });
    await sleep(200);
    expect(seen).toHaveLength(1);

    running.push(await startPlugin(t.bus, recorder("catch-up", seen)));
    await eventually(() => (seen.length === 3 ? true : undefined));
    expect(seen.slice(1)).toEqual(["missed-1", "missed-2"]);
    expect(a).toBeTruthy();
    await sleep(300);
    expect(seen).toHaveLength(3);
  });

  it("keeps a good plugin going while others throw or hang, and dead-letters their events", async () => {
    const good: string[] = [];
    let hangs = 0;
    const plugins = [
      definePlugin({
        name: "thrower",
        version: "1.0.0",
        on: {
          "speaker.identified": () => {
            throw new Error("boom");
          },
        },
      }),
      definePlugin({
        name: "hanger",
        version: "1.0.0",
        on: {
          "speaker.identified": () => {
            hangs++;
            return new Promise(() => {});
          },
        },
      }),
      recorder("good", good),
    ];
    const started = await runPlugins(t.bus, plugins, { handlerTimeoutMs: 300, maxDeliver: 2, backoffMs: 50 });
    running.push(...started.running);
    expect(started.failed).toEqual([]);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await publishIdentified(t.bus, { sourceEventId: `iso-${i}` }));
    // The good plugin is not slowed down by the hanging one: all three arrive before a single timeout.
    await eventually(() => (good.length === 3 ? true : undefined), 290);
    expect(good).toEqual(["iso-0", "iso-1", "iso-2"]);

    const thrown = await readDeadLetters(t.bus, pluginDeadLetterSubject("thrower", "speaker.identified"), 3);
    // Retries are delayed, so later events may be given up on first: compare as sets.
    expect(thrown.map((m) => m.headers?.get(HEADERS.ceId)).sort()).toEqual([...ids].sort());
    expect(thrown[0]?.headers?.get(HEADERS.deadCode)).toBe("INTERNAL");
    expect(thrown[0]?.headers?.get(HEADERS.deadReason)).toContain("boom");
    expect(thrown[0]?.headers?.get("Speakers-Dead-Consumer")).toBe("plugin-thrower");

    const hung = await readDeadLetters(t.bus, pluginDeadLetterSubject("hanger", "speaker.identified"), 3);
    expect(hung.map((m) => m.headers?.get(HEADERS.deadCode))).toEqual(["TIMEOUT", "TIMEOUT", "TIMEOUT"]);
    expect(hangs).toBe(6); // two deliveries each, then given up
    // Nothing of theirs is left pending: the failures were settled, not left to redeliver forever.
    for (const durable of ["plugin-thrower", "plugin-hanger", "plugin-good"]) {
      const info = await t.bus.jsm.consumers.info("SPEAKERS", durable);
      expect({ durable, pending: info.num_pending, unacked: info.num_ack_pending }).toEqual({
        durable,
        pending: 0,
        unacked: 0,
      });
    }
  });

  it("checks each plugin's config, applies defaults, times out a stuck start, and starts the others anyway", async () => {
    const configs: unknown[] = [];
    const configured = definePlugin({
      name: "configured",
      version: "1.0.0",
      config: Type.Object({
        greeting: Type.String({ default: "hello" }),
        limit: Type.Integer({ minimum: 1 }),
      }),
      on: { "speaker.enrolled": () => {} },
      start: (ctx) => {
        configs.push(ctx.config);
      },
    });
    const broken = definePlugin({ ...configured, name: "broken" });
    const stuck = definePlugin({
      name: "stuck",
      version: "1.0.0",
      on: { "speaker.deleted": () => {} },
      start: () => new Promise<void>(() => {}),
    });
    const started = await runPlugins(t.bus, [configured, broken, stuck], {
      config: { configured: { limit: 3 }, broken: { limit: 0 } },
      startTimeoutMs: 300,
    });
    running.push(...started.running);
    expect(started.running.map((p) => p.name)).toEqual(["configured"]);
    expect(started.failed.map((f) => [f.name, f.error.code])).toEqual([
      ["broken", "INVALID_REQUEST"],
      ["stuck", "TIMEOUT"],
    ]);
    expect(configs).toEqual([{ greeting: "hello", limit: 3 }]);
  });

  it("gives a plugin its own KV bucket, its own subjects and a request/reply endpoint", async () => {
    const plugin = definePlugin({
      name: "counter",
      version: "1.2.3",
      on: {
        "speaker.identified": async (event, ctx) => {
          const kv = await ctx.kv();
          await kv.update<number>(event.speaker?.id ?? "unknown", (n) => (n ?? 0) + 1);
          ctx.publish("counted", { speaker: event.speaker?.id });
        },
      },
      start: (ctx) => {
        ctx.serve(
          "count",
          async (req) => {
            const { speakerId } = req.data as { speakerId: string };
            return { speakerId, count: (await (await ctx.kv()).get<number>(speakerId)) ?? 0 };
          },
          Type.Object({ speakerId: Type.String({ minLength: 1 }) }),
        );
        expect(() => ctx.publish("Not A Subject", {})).toThrow(/suffix/);
      },
    });
    const counted = t.bus.nc.subscribe("plugin.counter.counted", { max: 2 });
    running.push(await startPlugin(t.bus, plugin));
    await publishIdentified(t.bus, { name: "Bob" });
    await publishIdentified(t.bus, { name: "Bob" });
    let notices = 0;
    for await (const _ of counted) notices++;
    expect(notices).toBe(2);

    const reply = await t.bus.nc.request("speakers.counter.count", JSON.stringify({ speakerId: "spk_bob" }));
    expect(reply.json()).toEqual({ speakerId: "spk_bob", count: 2 });
    const bad = await t.bus.nc.request("speakers.counter.count", JSON.stringify({}));
    expect(bad.headers?.get(HEADERS.serviceErrorCode)).toBe("400");
    expect(bad.json<{ code: string }>().code).toBe("INVALID_REQUEST");
    // The KV is the plugin's own bucket, named after it.
    expect((await t.bus.jsm.streams.info("KV_plugin-counter")).state.messages).toBeGreaterThan(0);
  });
});

/** A plugin's scoped KV lists and compacts without leaving anything behind on the server. */
import { definePlugin, type PluginKv, type RunningPlugin, startPlugin } from "@speakers/plugin-sdk";
import { useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("plugin KV", () => {
  const t = useTestBus("plugin-kv-test");
  let plugin: RunningPlugin;
  let kv: PluginKv;

  beforeAll(async () => {
    plugin = await startPlugin(
      t.bus,
      definePlugin({
        name: "kv-probe",
        version: "0.0.1",
        on: { "speaker.deleted": () => {} },
        async start(ctx) {
          kv = await ctx.kv();
        },
      }),
    );
  });
  afterAll(async () => {
    await plugin?.stop();
  });

  it("lists entries without leaving a consumer per call (each stayed 5 minutes before)", async () => {
    for (let i = 0; i < 5; i++) await kv.put(`k${i}`, { i });
    await kv.delete("k0");
    await kv.purge("k1");
    for (let i = 0; i < 20; i++) {
      expect((await kv.entries<{ i: number }>()).map((e) => e.value.i).sort()).toEqual([2, 3, 4]);
      expect((await kv.keys()).sort()).toEqual(["k2", "k3", "k4"]);
    }
    expect((await t.bus.jsm.streams.info(`KV_${kv.bucket}`)).state.consumer_count).toBe(0);
  });

  it("compacts away the markers deleted and purged keys leave", async () => {
    const subjects = async () => (await t.bus.jsm.streams.info(`KV_${kv.bucket}`)).state.num_subjects ?? 0;
    expect(await subjects()).toBe(5);
    await kv.compact(0);
    expect(await subjects()).toBe(3);
    expect((await kv.keys()).sort()).toEqual(["k2", "k3", "k4"]);
  });
});

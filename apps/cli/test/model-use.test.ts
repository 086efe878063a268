/**
 * `speakers model use` goes through the registry's `model.use` endpoint: the CLI neither resolves the model
 * nor writes `registry-state` itself. With nobody serving the endpoint the command fails naming it, and the
 * live model stays unset, whichever model is asked for (a known one, or one this system does not know).
 */
import { Kvm } from "@nats-io/kv";
import { KV_BUCKETS, SERVICES } from "@speakers/events";
import { LIVE_MODEL_KEY } from "@speakers/speaker-registry";
import { useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";
import { type EmbeddedStack, runCli } from "../src/index.js";

const t = useTestBus("cli-model-use-test");

async function speakers(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stack: EmbeddedStack = { url: t.server.url, bus: t.bus, embedded: false, stop: async () => {} };
  const code = await runCli(argv, {
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    openStack: async () => stack,
  });
  process.exitCode = undefined;
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("speakers model use", () => {
  it("asks the registry's model.use endpoint and writes no KV itself", async () => {
    for (const model of ["ge2e", "no-such-model"]) {
      const r = await speakers("model", "use", model);
      expect(r.code).toBe(1);
      expect(r.out).toBe("");
      expect(r.err).toContain(`nobody serves ${SERVICES.registry.endpoints.modelUse}`);
    }
    const state = await new Kvm(t.bus.js).open(KV_BUCKETS.registryState.name);
    expect(await state.get(LIVE_MODEL_KEY)).toBeNull();
  });
});

/** The embedded nats-server runs under a soft memory limit (README, "Soak"), one the user can change or lift. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@speakers/bus";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_NATS_MEMORY_LIMIT, natsMemoryLimit, startEmbeddedNats } from "../src/index.js";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** The environment a running process was started with. */
function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

async function serverEnvironment(env: Record<string, string | undefined>): Promise<Record<string, string>> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const dataDir = mkdtempSync(join(tmpdir(), "speakers-nats-memory-"));
  const nats = await startEmbeddedNats({ dataDir, port: 0, logger: createLogger("test", { level: "warn" }) });
  try {
    return environOf(nats.pid as number);
  } finally {
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("the embedded nats-server's memory limit", () => {
  it("starts the server with the default GOMEMLIMIT", async () => {
    const env = await serverEnvironment({ SPEAKERS_NATS_MEMORY_LIMIT: undefined, GOMEMLIMIT: undefined });
    expect(env.GOMEMLIMIT).toBe(DEFAULT_NATS_MEMORY_LIMIT);
  });

  it("takes SPEAKERS_NATS_MEMORY_LIMIT over GOMEMLIMIT, and runs without a limit when it says off", async () => {
    expect(
      (await serverEnvironment({ SPEAKERS_NATS_MEMORY_LIMIT: "1GiB", GOMEMLIMIT: "64MiB" })).GOMEMLIMIT,
    ).toBe("1GiB");
    expect(
      (await serverEnvironment({ SPEAKERS_NATS_MEMORY_LIMIT: "off", GOMEMLIMIT: "64MiB" })).GOMEMLIMIT,
    ).toBeUndefined();
    expect(natsMemoryLimit({ GOMEMLIMIT: "300MiB" })).toBe("300MiB");
  });

  it("refuses a size Go would not read, with a typed error", () => {
    for (const bad of ["128MB", "lots", "-1", "1.5GiB"])
      expect(() => natsMemoryLimit({ SPEAKERS_NATS_MEMORY_LIMIT: bad })).toThrow(
        expect.objectContaining({ code: "INVALID_REQUEST" }),
      );
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  findNatsServer,
  INSTALL_COMMAND,
  NatsTestingError,
  requireNatsServer,
  useNats,
} from "@speakers/test-support";
import { afterAll, describe, expect, it } from "vitest";

const emptyHome = mkdtempSync(join(tmpdir(), "speakers-empty-home-"));
const bareEnv = { HOME: emptyHome, PATH: "" };

describe("finding nats-server", () => {
  afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

  it("finds the installed binary", () => {
    expect(findNatsServer()).toMatch(/nats-server$/);
  });

  it("prefers NATS_SERVER_BIN", () => {
    const installed = findNatsServer();
    expect(findNatsServer({ env: { ...bareEnv, NATS_SERVER_BIN: installed } })).toBe(installed);
  });

  it("fails with the install command when no binary exists", () => {
    expect(findNatsServer({ env: bareEnv })).toBeUndefined();
    expect(() => requireNatsServer({ env: bareEnv })).toThrow(INSTALL_COMMAND);
    expect(() => requireNatsServer({ env: { ...bareEnv, NATS_SERVER_BIN: "/nope/nats-server" } })).toThrow(
      /NATS_SERVER_BIN=\/nope\/nats-server/,
    );
  });

  it("useNats uses NATS_URL as is, and stop leaves that server alone", async () => {
    const handle = await useNats({ env: { NATS_URL: "nats://127.0.0.1:1" } });
    expect(handle).toMatchObject({ url: "nats://127.0.0.1:1", source: "env", server: undefined });
    await handle.stop();
  });

  it("useNats without NATS_URL, binary or Docker fails with the install command", async () => {
    const result = await useNats({ env: bareEnv }).catch((e: unknown) => e);
    if (result instanceof NatsTestingError) {
      expect(result.code).toBe("NATS_SERVER_NOT_FOUND");
      expect(result.message).toContain(INSTALL_COMMAND);
    } else {
      // A machine with a Docker engine takes the container fallback instead.
      const handle = result as Awaited<ReturnType<typeof useNats>>;
      expect(handle.source).toBe("container");
      await handle.stop();
    }
  });

  it("useNats starts a local binary when one is installed", async () => {
    const handle = await useNats({ env: { ...process.env, NATS_URL: "" } });
    try {
      expect(handle.source).toBe("binary");
      expect(handle.server?.url).toBe(handle.url);
    } finally {
      await handle.stop();
    }
  });
});

import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { publish } from "@speakers/bus";
import { SpeakerIdentified } from "@speakers/events";
import { connectTestBus, type NatsServer, startNatsServer, type TestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const example = resolve(import.meta.dirname, "..");

describe("examples/minimal-plugin", () => {
  let stack: TestBus<NatsServer>;

  beforeAll(async () => {
    // Run the example as a user does: built, then `node dist/main.js`.
    await run("pnpm", ["exec", "tsc", "-b", example], { cwd: root });
    stack = await connectTestBus(await startNatsServer(), "example-test");
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("greets a recognised speaker with its configured greeting, and drains on SIGTERM", async () => {
    const child = spawn("node", [resolve(example, "dist/main.js")], {
      env: {
        ...process.env,
        NATS_URL: stack.server.url,
        SPEAKERS_PLUGIN_HELLO: JSON.stringify({ greeting: "Hi" }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c: Buffer) => {
      log += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      log += c.toString();
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!log.includes("plugin started")) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`example did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const greeted = stack.bus.nc.subscribe("plugin.hello.greeted", { max: 1, timeout: 10_000 });
      const { id } = await publish(stack.bus, SpeakerIdentified, SpeakerIdentified.fixture, {
        source: "/test/registry",
      });
      for await (const m of greeted) {
        expect(m.json()).toEqual({
          text: "Hi, Alice in the kitchen!",
          speakerId: "spk_01HZX3K9Q2",
          eventId: id,
        });
      }
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

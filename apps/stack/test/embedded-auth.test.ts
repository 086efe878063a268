/**
 * Issue 9 item 9: the embedded stack of `pnpm start` runs deploy/nats/auth.conf's least-privilege users with
 * passwords generated into the data folder (owner-only), every part logs in as its own user, voiceprints are
 * not readable by a plugin or capture login, and `speakers` commands join as the admin from the data folder.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Bus, closeBus, connectBus } from "@speakers/bus";
import { KV_BUCKETS } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import { CREDENTIALS_FILE, type Credentials, urlAs } from "@speakers/runtime";
import { DEV_AUDIO } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../src/index.js";
import { speakerFolders } from "../src/index.js";
import { buildStack, capturedLogger, startTestStack } from "./support/stack-under-test.js";

const root = resolve(import.meta.dirname, "../../..");

describe("embedded auth by default", () => {
  const log = capturedLogger("embedded-auth");
  let stack: Stack;
  let dataDir: string;
  let dispose: () => Promise<void>;
  let credentials: Credentials;
  let speakerId: string;
  const opened: Bus[] = [];

  const busAs = async (user: "presence" | "unknown-voices" | "plugin" | "capture" | "admin") => {
    const bus = await connectBus({
      servers: urlAs(stack.urls?.nats as string, user, credentials),
      name: `auth-test-${user}`,
      logger: log.logger,
      connection: { reconnect: false },
    });
    opened.push(bus);
    return bus;
  };

  beforeAll(async () => {
    await buildStack();
    ({ stack, dataDir, dispose } = await startTestStack(log.logger));
    credentials = JSON.parse(readFileSync(join(dataDir, CREDENTIALS_FILE), "utf8")) as Credentials;
    const who = speakerFolders(DEV_AUDIO)[0] as { speaker: string; files: string[] };
    const reply = await registryClient(stack.bus).enrollFiles("alice", who.files.slice(0, 2));
    speakerId = reply.speaker?.id as string;
  }, 600_000);

  afterAll(async () => {
    await Promise.all(opened.map((b) => closeBus(b).catch(() => {})));
    await dispose?.();
  });

  it("keeps generated passwords in the data folder, readable by its owner only", () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    for (const user of ["admin", "worker", "registry", "capture", "presence", "unknown-voices"] as const) {
      expect(credentials[user]).toMatch(/^[a-z][a-z0-9]{24,}$/);
    }
    // No password in what the stack logged (worker and plugin lines included) or announced.
    const logged = JSON.stringify(log.entries());
    for (const password of Object.values(credentials)) expect(logged).not.toContain(password);
    expect(readFileSync(join(dataDir, "stack.json"), "utf8")).not.toContain(credentials.admin);
  });

  it("refuses a connection without a login", async () => {
    await expect(
      connectBus({
        servers: stack.urls?.nats as string,
        name: "anonymous",
        connection: { reconnect: false },
      }),
    ).rejects.toMatchObject({ code: "BUS_UNAVAILABLE" });
  });

  it("hands voiceprints to the admin, and to neither a plugin nor capture", async () => {
    const admin = await busAs("admin");
    const detail = await registryClient(admin).get(speakerId, true);
    expect(detail.voiceprints[0]?.vector?.length).toBeGreaterThan(0);
    // A voiceprint's KV subject, and the admin's direct read of it: what the others are refused below.
    const stream = `KV_${KV_BUCKETS.voiceprints.name}`;
    const info = await admin.jsm.streams.info(stream, { subjects_filter: ">" });
    const subject = Object.keys(info.state.subjects ?? {})[0] as string;
    expect(subject).toMatch(/^\$KV\.voiceprints\./);
    const read = (bus: Bus) => bus.jsm.direct.getMessage(stream, { last_by_subj: subject });
    expect((await read(admin))?.data.length).toBeGreaterThan(0);

    for (const user of ["presence", "unknown-voices", "plugin", "capture"] as const) {
      const bus = await busAs(user);
      await expect(registryClient(bus).get(speakerId, true), user).rejects.toThrow();
      await expect(read(bus), user).rejects.toThrow();
    }
  }, 300_000);

  it("lets `speakers` join the running stack as the admin from the data folder", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SPEAKERS_DATA_DIR: dataDir };
    delete env.NATS_URL;
    const listed = await promisify(execFile)(
      "node",
      [join(root, "apps/cli/dist/main.js"), "list", "--json"],
      {
        cwd: root,
        env,
        timeout: 120_000,
      },
    );
    const names = (JSON.parse(listed.stdout) as { speakers: { name: string }[] }).speakers.map((s) => s.name);
    expect(names).toEqual(["alice"]);
  }, 180_000);
});

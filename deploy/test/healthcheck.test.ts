import { existsSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { freePort } from "@speakers/test-support";
import { describe, expect, it } from "vitest";
import { DEPLOY_DIR, REPO_ROOT } from "./helpers/deploy-files.js";
import { connectAs, singleNodeForFile, type User } from "./helpers/nats-users.js";
import { runScript } from "./helpers/run-script.js";

// The containers' HEALTHCHECK scripts, run as Docker runs them (a process, its exit code), with each service's
// own credentials in NATS_URL against a server from the deploy config: unhealthy until the service answers.
const NODE_CHECK = join(DEPLOY_DIR, "docker/healthcheck.mjs");
const WORKER_CHECK = join(DEPLOY_DIR, "docker/worker_healthcheck.py");
// The worker image runs the script with the worker's own interpreter; here, the worker's dev venv.
const WORKER_PYTHON = join(REPO_ROOT, "services/embedding-worker/.venv/bin/python");

const node = singleNodeForFile((nc: NatsConnection) => nc.close());

async function serve(user: User, name: string): Promise<void> {
  const nc = await connectAs(node.server.url, user, node.passwords);
  node.opened.push(nc);
  // @nats-io/services 3.0.0-25 is typed against an older nats-core; the connection is the same at runtime
  await new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]).add({ name, version: "0.1.0" });
}

/** The check fails while nobody serves `service` (not for refused credentials) and passes once `user` serves it. */
async function unhealthyUntilServed(
  run: () => Promise<{ code: number | null; output: string }>,
  user: User,
  service: string,
): Promise<void> {
  const before = await run();
  expect(before.code, before.output).toBe(1);
  // unhealthy because nobody answers, not because the credentials were refused
  expect(before.output).toMatch(/no responders/i);
  await serve(user, service);
  const after = await run();
  expect(after.code, after.output).toBe(0);
  expect(after.output).toContain(`healthy: ${service} 0.1.0`);
}

describe("container health checks", () => {
  it("registry: healthcheck.mjs fails until `registry` answers PING, then passes", async () => {
    const env = { PATH: process.env.PATH, NATS_URL: node.natsUrl("registry"), HEALTHCHECK_TIMEOUT_S: "1" };
    const run = () => runScript(process.execPath, [NODE_CHECK, "registry"], env, { cwd: REPO_ROOT });
    await unhealthyUntilServed(run, "registry", "registry");
  });

  it("worker: worker_healthcheck.py fails until `embedding` answers PING, then passes", async () => {
    expect(existsSync(WORKER_PYTHON), `no worker venv at ${WORKER_PYTHON}: run pnpm setup`).toBe(true);
    const env = { PATH: process.env.PATH, NATS_URL: node.natsUrl("worker"), HEALTHCHECK_TIMEOUT_S: "1" };
    const run = () => runScript(WORKER_PYTHON, [WORKER_CHECK], env);
    await unhealthyUntilServed(run, "worker", "embedding");
  });

  it("presence: healthcheck.mjs uses the user's own inbox and every server of a cluster's NATS_URL", async () => {
    await serve("presence", "presence");
    // a dead node first: the check must go on to the live one, not report the service unhealthy
    const dead = `nats://presence:${node.passwords.presence}@127.0.0.1:${await freePort()}`;
    const env = {
      PATH: process.env.PATH,
      NATS_URL: `${dead},${node.natsUrl("presence")}`,
      HEALTHCHECK_TIMEOUT_S: "1",
    };
    const result = await runScript(process.execPath, [NODE_CHECK, "presence"], env, { cwd: REPO_ROOT });
    // auth.conf lets presence subscribe to _INBOX.presence.> only: the default inbox would be refused
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("healthy: presence 0.1.0");
  });

  it("worker: worker_healthcheck.py reads a cluster's comma-separated NATS_URL", async () => {
    const dead = `nats://worker:${node.passwords.worker}@127.0.0.1:${await freePort()}`;
    const env = {
      PATH: process.env.PATH,
      NATS_URL: `${dead},${node.natsUrl("worker")}`,
      HEALTHCHECK_TIMEOUT_S: "1",
    };
    // `embedding` is served since the worker test above
    const result = await runScript(WORKER_PYTHON, [WORKER_CHECK], env);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("healthy: embedding 0.1.0");
  });

  it("a user without the PING permission is unhealthy even when the service is up", async () => {
    // `embedding` is up (previous test); the plugin user may not send $SRV.PING.embedding
    const env = { PATH: process.env.PATH, NATS_URL: node.natsUrl("plugin"), HEALTHCHECK_TIMEOUT_S: "1" };
    const result = await runScript(process.execPath, [NODE_CHECK, "embedding"], env, { cwd: REPO_ROOT });
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/permissions violation/i);
  });
});

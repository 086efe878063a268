import { PassThrough } from "node:stream";
import { Kvm } from "@nats-io/kv";
import {
  type Bus,
  closeBus,
  connectBus,
  createLogger,
  prepareTopology,
  SERVICE_NEEDS,
  type TopologyNeeds,
} from "@speakers/bus";
import { provisionCommand } from "@speakers/cli";
import { freePort, startNatsServer } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

import { singleNodeForFile, type User } from "./helpers/nats-users.js";

// The TS services' own start-up path (connectBus from NATS_URL, then prepareTopology) under the users of
// deploy/nats/auth.conf, on a server from deploy/nats/single.conf, before and after `speakers provision`.
const node = singleNodeForFile((b: Bus) => closeBus(b).catch(() => {}));

function logs() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { logger: createLogger("lp", { level: "debug", destination: stream }), text: () => text };
}

async function busAs(user: User, extra: { inboxPrefix?: string; log?: ReturnType<typeof logs> } = {}) {
  const bus = await connectBus({
    servers: node.natsUrl(user),
    name: `lp-${user}`,
    logger: (extra.log ?? logs()).logger,
    connection: {
      reconnect: false,
      ...(extra.inboxPrefix === undefined ? {} : { inboxPrefix: extra.inboxPrefix }),
    },
  });
  node.opened.push(bus);
  return bus;
}

const NEEDS: [User, TopologyNeeds][] = [
  ["capture", SERVICE_NEEDS.capture],
  ["registry", SERVICE_NEEDS.registry],
  ["plugin", SERVICE_NEEDS.plugins],
  ["presence", SERVICE_NEEDS.plugins],
  ["unknown-voices", SERVICE_NEEDS.plugins],
  ["wyoming", SERVICE_NEEDS.wyomingBridge],
];

describe("connectBus with NATS_URL credentials", () => {
  it("logs in as the URL's user and never logs its password", async () => {
    const log = logs();
    const bus = await busAs("capture", { log });
    expect(bus.user).toBe("capture");
    // the server's view: the connection is authenticated as capture
    const connz = (await (
      await fetch(`http://127.0.0.1:${node.server.monitorPort}/connz?auth=true&name=lp-capture`)
    ).json()) as { connections: { name: string; authorized_user?: string }[] };
    expect(connz.connections.find((c) => c.name === "lp-capture")?.authorized_user).toBe("capture");
    await bus.nc.flush();
    expect(log.text()).toContain('"user":"capture"');
    expect(log.text()).not.toContain(node.passwords.capture);
  });

  it("percent-decodes the password, and reports a refused login without printing it", async () => {
    const encoded = [...node.passwords.plugin].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
    const bus = await connectBus({
      servers: node.natsUrl("plugin", encoded),
      name: "lp-encoded",
      logger: logs().logger,
    });
    node.opened.push(bus);
    expect(bus.user).toBe("plugin");
    const wrong = `${node.passwords.capture}x`;
    const err = await connectBus({
      servers: node.natsUrl("capture", wrong),
      name: "lp-wrong",
      connection: { reconnect: false },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BUS_UNAVAILABLE" });
    expect(String((err as Error).message)).toMatch(/as capture/);
    expect(String((err as Error).message)).not.toContain(wrong);
  });

  it("uses every server of a comma-separated NATS_URL with one set of credentials", async () => {
    const dead = `nats://registry:${node.passwords.registry}@127.0.0.1:${await freePort()}`;
    const bus = await connectBus({
      servers: `${dead},${node.natsUrl("registry")}`,
      name: "lp-list",
      logger: logs().logger,
      connection: { noRandomize: true },
    });
    node.opened.push(bus);
    expect(bus.nc.getServer()).toBe(`127.0.0.1:${node.server.port}`);
  });

  it("gives a restricted user its own inbox, so its requests get replies; an explicit prefix wins", async () => {
    // a JetStream call is a request: its reply comes to the inbox, which auth.conf limits to _INBOX.<user>.>
    for (const user of ["capture", "plugin", "presence", "unknown-voices"] as const) {
      const bus = await busAs(user);
      await expect(bus.jsm.getAccountInfo(), user).resolves.toMatchObject({ streams: expect.any(Number) });
    }
    // the default "_INBOX" prefix is what nats.js would use without the derivation: refused
    await expect(busAs("capture", { inboxPrefix: "_INBOX" })).rejects.toThrow(/permission/i);
  });
});

describe("provisioning as an admin step", () => {
  it("before `speakers provision`, every service's check names what is missing, even when told to provision", async () => {
    for (const [user, needs] of NEEDS) {
      const log = logs();
      const bus = await busAs(user, { log });
      await expect(prepareTopology(bus, needs), user).rejects.toMatchObject({
        code: "BUS_UNAVAILABLE",
        details: { missing: expect.arrayContaining([`stream ${needs.streams?.[0]}`]) },
      });
      // a service user told to provision is refused by the server, and checks instead of crashing on it
      await expect(prepareTopology(bus, needs, { mode: "provision" })).rejects.toMatchObject({
        code: "BUS_UNAVAILABLE",
      });
      expect(log.text(), user).toMatch(
        /may not provision the topology.*checking that what this service needs/,
      );
    }
  });

  it("`speakers provision` as a service user fails with a typed error naming the refusal", async () => {
    const lines: string[] = [];
    const out = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    await expect(
      provisionCommand(out, { env: { NATS_URL: node.natsUrl("registry"), LOG_LEVEL: "silent" } }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST", message: /registry may not provision/ });
  });

  it("after `speakers provision` as admin, every service user checks its needs and starts", async () => {
    const lines: string[] = [];
    const out = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const report = await provisionCommand(out, {
      env: { NATS_URL: node.natsUrl("admin"), LOG_LEVEL: "silent" },
    });
    // capture, told to provision above, created AUDIO before the server refused it EMBEDDINGS (auth.conf lets a
    // service create what it uses); the admin updates it and creates the rest
    expect(report.streams).toEqual({
      AUDIO: "updated",
      EMBEDDINGS: "created",
      SPEAKERS: "created",
      DEADLETTER: "created",
    });
    expect(lines.join("\n")).not.toContain(node.passwords.admin);
    expect(lines[0]).toBe(`Provisioned nats://127.0.0.1:${node.server.port} with 1 replica(s)`);

    for (const [user, needs] of NEEDS) {
      const log = logs();
      const bus = await busAs(user, { log });
      // auto: an authenticated user only checks
      expect(await prepareTopology(bus, needs), user).toBe("checked");
      expect(log.text()).not.toMatch(/may not provision/);
      expect(await prepareTopology(bus, needs, { mode: "provision" }), user).toBe("checked");
      expect(log.text(), user).toMatch(/may not provision the topology/);
    }
    // and the checks really are of the server's state: a registry bucket is there and usable by its user
    const registry = await busAs("registry");
    await (await new Kvm(registry.js).open("voiceprints")).put("k", "v");

    // the admin may provision from a service too (SPEAKERS_PROVISION=provision); a rerun updates
    const admin = await busAs("admin");
    expect(await prepareTopology(admin, SERVICE_NEEDS.registry, { mode: "provision" })).toBe("provisioned");
  });

  it("leaves a server without auth provisioning itself (dev, tests, the embedded stack)", async () => {
    const open = await startNatsServer();
    try {
      const bus = await connectBus({ servers: open.url, name: "lp-dev", logger: logs().logger });
      try {
        expect(bus.user).toBeUndefined();
        expect(await prepareTopology(bus, SERVICE_NEEDS.registry)).toBe("provisioned");
        expect((await bus.jsm.streams.info("AUDIO")).config.name).toBe("AUDIO");
      } finally {
        await closeBus(bus);
      }
    } finally {
      await open.stop();
    }
  });
});

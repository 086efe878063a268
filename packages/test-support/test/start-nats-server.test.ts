import { existsSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsTestingError, startNatsServer, useNatsServer } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

describe("startNatsServer", () => {
  const nats = useNatsServer();

  it("listens on a free loopback port with JetStream and a monitoring endpoint", async () => {
    expect(nats.server.url).toBe(`nats://127.0.0.1:${nats.server.port}`);
    expect(nats.server.port).not.toBe(4222);
    const health = await fetch(`http://127.0.0.1:${nats.server.monitorPort}/healthz`);
    expect(health.status).toBe(200);
    const nc = await connect({ servers: nats.server.url });
    try {
      const info = await (await jetstreamManager(nc)).getAccountInfo();
      expect(info.streams).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it("keeps JetStream data across restart on the same port and store dir", async () => {
    const nc = await connect({ servers: nats.server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"] });
      const js = jetstream(nc);
      await js.publish("keep.one", "before");
      const port = nats.server.port;
      const pid = nats.server.pid;

      await nats.server.restart();

      expect(nats.server.port).toBe(port);
      expect(nats.server.pid).not.toBe(pid);
      const nc2 = await connect({ servers: nats.server.url });
      try {
        const msg = await (await jetstreamManager(nc2)).streams.getMessage("KEEP", { seq: 1 });
        expect(msg?.string()).toBe("before");
      } finally {
        await nc2.close();
      }
    } finally {
      await nc.close();
    }
  });

  it("removes its temporary store on stop", async () => {
    const other = await startNatsServer();
    expect(existsSync(other.storeDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.storeDir)).toBe(false);
    await other.stop(); // idempotent
    await expect(other.restart()).rejects.toMatchObject({ code: "NATS_SERVER_STOPPED" });
  });

  it("runs a config file and extra args", async () => {
    const other = await startNatsServer({
      configText: 'server_name: "from-config"\nmax_payload: 2MB\n',
      args: ["--user", "alice", "--pass", "s3cret"],
    });
    try {
      const varz = (await (await fetch(`http://127.0.0.1:${other.monitorPort}/varz`)).json()) as {
        server_name: string;
        max_payload: number;
      };
      expect(varz.server_name).toBe("from-config");
      expect(varz.max_payload).toBe(2 * 1024 * 1024);
      await expect(connect({ servers: other.url, reconnect: false })).rejects.toThrow();
      const nc = await connect({ servers: other.url, user: "alice", pass: "s3cret" });
      await nc.close();
    } finally {
      await other.stop();
    }
  });

  it("reports a server that cannot start, with its log", async () => {
    const err = await startNatsServer({ configText: "this is { not a config" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsTestingError);
    expect((err as NatsTestingError).code).toBe("NATS_SERVER_START_FAILED");
    expect((err as Error).message).toMatch(/exited/);
  });
});

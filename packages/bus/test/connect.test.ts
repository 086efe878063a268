import { PassThrough } from "node:stream";
import { closeBus, connectBus, createLogger, eventLogger, installShutdown } from "@speakers/bus";
import { eventually, startNatsServer, useNatsServer } from "@speakers/test-support";
import { describe, expect, it } from "vitest";

function captureLogger(name: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
  });
  return { logger: createLogger(name, { level: "debug", destination: stream }), lines };
}

describe("connectBus and installShutdown", () => {
  const nats = useNatsServer();

  it("fails fast with BUS_UNAVAILABLE when no server listens", async () => {
    const dead = await startNatsServer();
    const url = dead.url;
    await dead.stop();
    await expect(connectBus({ servers: url, name: "nobody" })).rejects.toMatchObject({
      code: "BUS_UNAVAILABLE",
    });
  });

  it("logs disconnects and reconnects, and keeps the connection across a server restart", async () => {
    const { logger, lines } = captureLogger("reconnecting");
    const bus = await connectBus({
      servers: nats.server.url,
      name: "reconnecting",
      logger,
      connection: { reconnectTimeWait: 100, reconnectJitter: 50 },
    });
    try {
      await nats.server.restart();
      await eventually(() => (lines.some((l) => l.msg === "reconnected to NATS") ? true : undefined));
      expect(lines.some((l) => l.msg === "disconnected from NATS")).toBe(true);
      expect(bus.nc.isClosed()).toBe(false);
      await bus.nc.flush();
    } finally {
      await closeBus(bus);
    }
  });

  it("on a signal runs the cleanups once, drains, then exits", async () => {
    const { logger, lines } = captureLogger("shutdown");
    const bus = await connectBus({ servers: nats.server.url, name: "shutdown", logger });
    const calls: string[] = [];
    const exits: number[] = [];
    // SIGUSR2/SIGHUP stand in for SIGTERM/SIGINT: the test runner and the server harness own those here.
    const shutdown = installShutdown(
      bus,
      [() => calls.push("consumers"), async () => calls.push("service")],
      {
        signals: ["SIGUSR2", "SIGHUP"],
        exit: (code) => exits.push(code),
      },
    );
    process.emit("SIGUSR2", "SIGUSR2");
    process.emit("SIGHUP", "SIGHUP");
    await shutdown();
    expect(calls).toEqual(["consumers", "service"]);
    expect(exits).toEqual([0]);
    expect(bus.nc.isClosed()).toBe(true);
    expect(lines.some((l) => l.msg === "shutting down" && l.signal === "SIGUSR2")).toBe(true);
    expect(process.listenerCount("SIGUSR2")).toBe(0);
    expect(process.listenerCount("SIGHUP")).toBe(0);
  });

  it("tags event log lines with eventId and correlationId", () => {
    const { logger, lines } = captureLogger("ids");
    eventLogger(logger, { eventId: "e1", correlationId: "c1" }).info("handled");
    return eventually(() => lines[0]).then((line) => {
      expect(line).toMatchObject({ name: "ids", eventId: "e1", correlationId: "c1", msg: "handled" });
    });
  });
});

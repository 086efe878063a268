import { randomUUID } from "node:crypto";
import { type Bus, closeBus, connectBus, createLogger, provision } from "@speakers/bus";
import { type NatsServer, startNatsServer } from "@speakers/test-support";
import { Bonjour, type Service } from "bonjour-service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridgeConfigFromEnv, createWyomingBridge, type WyomingBridge } from "../src/index.js";

/** What Home Assistant's Wyoming integration does to offer a service: browse mDNS for _wyoming._tcp. */
function discover(names: string[], timeoutMs = 15_000): Promise<Service[]> {
  const browser = new Bonjour();
  const found = new Map<string, Service>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      browser.destroy();
      reject(new Error(`found only ${[...found.keys()].join(", ") || "nothing"}`));
    }, timeoutMs);
    browser.find({ type: "wyoming", protocol: "tcp" }, (service) => {
      if (names.includes(service.name)) found.set(service.name, service);
      if (found.size === names.length) {
        clearTimeout(timer);
        browser.destroy();
        resolve([...found.values()]);
      }
    });
  });
}

describe("zeroconf", () => {
  let nats: NatsServer;
  let bus: Bus;
  let bridge: WyomingBridge;
  const name = `speakers-test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await connectBus({
      servers: nats.url,
      name: "zeroconf-test",
      logger: createLogger("zc", { level: "silent" }),
    });
    await provision(bus);
    bridge = createWyomingBridge({
      bus,
      config: bridgeConfigFromEnv({
        SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_ROOMS: "kitchen=tcp://127.0.0.1:0",
        SPEAKERS_WYOMING_ZEROCONF: "1",
        SPEAKERS_WYOMING_ZEROCONF_NAME: name,
      }),
    });
    await bridge.start();
  });
  afterAll(async () => {
    await bridge?.stop();
    await closeBus(bus).catch(() => {});
    await nats?.stop();
  });

  it("advertises _wyoming._tcp for each address, with the port it listens on", async () => {
    const services = await discover([name, `${name} kitchen`]);
    const ports = Object.fromEntries(services.map((s) => [s.name, s.port]));
    expect(ports).toEqual({
      [name]: bridge.listeners[0]?.boundPort,
      [`${name} kitchen`]: bridge.listeners[1]?.boundPort,
    });
  });
});

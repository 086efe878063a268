import type { Logger } from "@speakers/bus";
import { Bonjour } from "bonjour-service";

export interface Advertisement {
  stop(): Promise<void>;
}

/**
 * `_wyoming._tcp` over mDNS, one service per listening address, which is what Home Assistant's Wyoming
 * integration browses for: the bridge then shows up under "Discovered" on its integrations page.
 */
export function advertise(
  name: string,
  listeners: ReadonlyArray<{ boundPort: number; room?: string }>,
  logger: Logger,
): Advertisement {
  const bonjour = new Bonjour({}, (err: unknown) => logger.warn({ err }, "zeroconf error"));
  for (const l of listeners) {
    const serviceName = l.room === undefined ? name : `${name} ${l.room}`;
    bonjour.publish({ name: serviceName, type: "wyoming", protocol: "tcp", port: l.boundPort });
    logger.info({ name: serviceName, port: l.boundPort }, "advertising _wyoming._tcp over zeroconf");
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
      }),
  };
}

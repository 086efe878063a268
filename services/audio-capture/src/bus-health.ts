import type { Bus } from "@speakers/bus";
import { SpeakersError } from "@speakers/events";

/**
 * Whether the NATS connection is up right now. While it is down the client would buffer publishes and make an
 * HTTP caller wait for a timeout; knowing it lets capture answer 503 at once and the folder watcher pause.
 */
export interface BusHealth {
  readonly up: boolean;
  /** Throws BUS_UNAVAILABLE while the connection is down or closed. */
  assertUp(): void;
  /** Resolves the next time the connection comes back (at once if it is up). */
  whenUp(): Promise<void>;
  stop(): void;
}

export function watchBusHealth(nc: Bus["nc"]): BusHealth {
  let up = !nc.isClosed();
  let waiters: Array<() => void> = [];
  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  const status = nc.status();
  void (async () => {
    for await (const s of status) {
      if (s.type === "disconnect" || s.type === "close") up = false;
      else if (s.type === "reconnect") {
        up = true;
        wake();
      }
    }
  })();
  void nc.closed().then(() => {
    up = false;
  });
  return {
    get up() {
      return up && !nc.isClosed();
    },
    assertUp() {
      if (!up || nc.isClosed()) {
        throw new SpeakersError(
          "BUS_UNAVAILABLE",
          "The NATS server is not reachable right now; nothing was stored.",
        );
      }
    },
    whenUp() {
      if (up && !nc.isClosed()) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    stop() {
      (status as { stop?: () => void }).stop?.();
      wake();
    },
  };
}

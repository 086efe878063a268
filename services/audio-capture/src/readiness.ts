import type { BusHealth } from "./bus-health.js";

export interface ReadyState {
  ready: boolean;
  body: { status: "ok" | "unavailable"; bus: "up" | "down"; reason?: string };
}

/** What `/readyz` reports: whether a clip sent now would be turned into an identification. */
export interface Readiness {
  check(): Promise<ReadyState>;
}

export function busReadiness(health: BusHealth): Readiness {
  return {
    async check() {
      const up = health.up;
      return {
        ready: up,
        body: {
          status: up ? "ok" : "unavailable",
          bus: up ? "up" : "down",
          ...(up ? {} : { reason: "The NATS server is not reachable." }),
        },
      };
    },
  };
}

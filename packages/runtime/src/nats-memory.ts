/**
 * The embedded nats-server's soft memory limit (Go's GOMEMLIMIT). Without one, the Go runtime keeps the heap
 * it grew for the file store's block caches (8 MB blocks of AUDIO read while a consumer catches up) and RSS
 * rises for as long as the store does; with one, the collector runs before the process passes it. Measured by
 * `pnpm bench:soak` (README, "Soak"): its in-use heap stays near 50-100 MB at 5 clips/s, so the default leaves
 * room above that. It is a soft limit: a server that needs more takes more (and collects more often).
 */
import { SpeakersError } from "@speakers/events";

export const DEFAULT_NATS_MEMORY_LIMIT = "128MiB";

/** Go's own syntax: a number with an optional B, KiB, MiB, GiB or TiB suffix. */
const GO_MEMORY = /^[0-9]+(B|KiB|MiB|GiB|TiB)?$/;

/**
 * GOMEMLIMIT for the server's environment: `SPEAKERS_NATS_MEMORY_LIMIT` (Go's syntax, or `off`), else a
 * GOMEMLIMIT the user already set for it, else the default. Undefined means no limit.
 */
export function natsMemoryLimit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.SPEAKERS_NATS_MEMORY_LIMIT?.trim();
  if (chosen === "off") return undefined;
  if (chosen !== undefined && chosen !== "") {
    if (!GO_MEMORY.test(chosen))
      throw new SpeakersError(
        "INVALID_REQUEST",
        `SPEAKERS_NATS_MEMORY_LIMIT "${chosen}" is not a memory size.`,
        { hint: "Write it as Go does: 128MiB, 1GiB, 536870912, or off for no limit." },
      );
    return chosen;
  }
  return env.GOMEMLIMIT?.trim() || DEFAULT_NATS_MEMORY_LIMIT;
}

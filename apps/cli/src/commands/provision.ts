import { AuthorizationError } from "@nats-io/nats-core";
import {
  closeBus,
  connectBus,
  createLogger,
  defaultTopology,
  type ProvisionReport,
  permissionViolationIn,
  provision,
  splitServerCredentials,
} from "@speakers/bus";
import { audioRetentionFromEnv, SpeakersError } from "@speakers/events";
import { type Command, InvalidArgumentError } from "commander";
import type { Output } from "../output.js";

export interface ProvisionCommandOptions {
  replicas?: string;
  json?: boolean;
  /** Attempts before giving up on a server that is still settling (default 10, 1 s apart). */
  attempts?: number;
  env?: NodeJS.ProcessEnv;
}

/** `speakers provision`: registered beside the other commands, but it needs no worker or registry. */
export function registerProvision(program: Command, out: Output): void {
  program
    .command("provision")
    .description(
      "create or update every stream, consumer and bucket on $NATS_URL (run as the admin user; services only check)",
    )
    .option("--replicas <n>", "replicas of every stream and bucket (3 on a 3-node cluster)", replicasArg, "1")
    .option("--json", "print what was created or updated as JSON")
    .action(async (o: ProvisionCommandOptions) => {
      await provisionCommand(out, o);
    });
}

/**
 * The admin's step before the services start (docker compose's `provision` service). It talks to NATS_URL
 * only: an embedded server provisions itself. Idempotent, so it runs on every `compose up`.
 */
export async function provisionCommand(out: Output, o: ProvisionCommandOptions): Promise<ProvisionReport> {
  const env = o.env ?? process.env;
  const url = env.NATS_URL;
  if (!url) {
    throw new SpeakersError("INVALID_REQUEST", "speakers provision needs NATS_URL", {
      hint: "Set NATS_URL=nats://admin:<password>@<host>:4222 (an embedded server provisions itself).",
    });
  }
  const replicas = Number(o.replicas ?? "1");
  // Read before connecting: a malformed SPEAKERS_AUDIO_MAX_AGE / _MAX_BYTES fails without touching the server.
  const topology = defaultTopology({ replicas, ...audioRetentionFromEnv(env) });
  const logger = createLogger("speakers-provision", {
    level: env.LOG_LEVEL ?? "warn",
    destination: process.stderr,
  });
  const bus = await connectBus({ servers: url, name: "speakers-provision", logger });
  try {
    const report = await settled(() => provision(bus, topology), o.attempts ?? 10, out);
    if (o.json) out.out(JSON.stringify({ replicas, ...report }));
    else {
      const line = (kind: string, items: Record<string, string>) =>
        `${kind}: ${Object.entries(items)
          .map(([name, action]) => `${name} (${action})`)
          .join(", ")}`;
      out.out(`Provisioned ${splitServerCredentials(url).servers.join(",")} with ${replicas} replica(s)`);
      out.out(line("streams", report.streams));
      out.out(line("consumers", report.consumers));
      out.out(`KV buckets: ${report.kvBuckets.join(", ")}`);
      out.out(`object stores: ${report.objectStores.join(", ")}`);
    }
    return report;
  } catch (err) {
    const violation = permissionViolationIn(err);
    if (!violation) throw err;
    throw new SpeakersError(
      "INVALID_REQUEST",
      `${bus.user ?? "this client"} may not provision (refused: ${violation.subject})`,
      { hint: "Provision as the admin user: NATS_URL=nats://admin:<password>@<host>:4222.", cause: err },
    );
  } finally {
    await closeBus(bus);
  }
}

/**
 * A cluster that has just started may still count a peer offline for placement ("no suitable peers"), and
 * compose starts this as soon as nats is healthy; a permissions or login error will not heal, so it stops.
 */
async function settled<T>(work: () => Promise<T>, attempts: number, out: Output): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || permissionViolationIn(err) || err instanceof AuthorizationError) throw err;
      out.err(
        `provision attempt ${attempt} failed (${err instanceof Error ? err.message : String(err)}); retrying`,
      );
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function replicasArg(value: string): string {
  if (!/^[1-5]$/.test(value)) throw new InvalidArgumentError("must be 1 to 5 (JetStream's replica limit)");
  return value;
}

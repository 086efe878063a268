import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { PermissionViolationError } from "@nats-io/nats-core";
import { SpeakersError } from "@speakers/events";
import { type Bus, errorText } from "./connect.js";
import { defaultTopology, provision, type Topology } from "./provision.js";

/** What one service needs on the server before it starts; names as in ADR 0001. */
export interface TopologyNeeds {
  streams?: readonly string[];
  consumers?: readonly { stream: string; durable: string }[];
  kvBuckets?: readonly string[];
  objectStores?: readonly string[];
}

/**
 * "auto" (default): provision on a server without auth (dev, tests, the embedded stack), otherwise only check;
 * "provision": create/update the whole topology (an admin user running a service); "check": never change it.
 */
export type ProvisionMode = "auto" | "provision" | "check";

export interface PrepareTopologyOptions {
  mode?: ProvisionMode;
  /** What "provision" creates (default: the system's whole topology). */
  topology?: Topology;
}

const MODES: readonly ProvisionMode[] = ["auto", "provision", "check"];

/** SPEAKERS_PROVISION (auto, provision or check; default auto). */
export function provisionModeFromEnv(env: NodeJS.ProcessEnv = process.env): ProvisionMode {
  const value = env.SPEAKERS_PROVISION ?? "auto";
  if ((MODES as readonly string[]).includes(value)) return value as ProvisionMode;
  throw new SpeakersError("INVALID_REQUEST", `SPEAKERS_PROVISION is "${value}"`, {
    hint: `Use one of ${MODES.join(", ")}.`,
  });
}

/**
 * A service's start-up step. Provisioning the whole topology is the admin's job (`speakers provision`, the
 * compose `provision` service): deploy/nats/auth.conf lets a service's user read the info of what it uses,
 * never update it. So an authenticated service only checks; and one told to provision that meets a permissions
 * violation checks instead of crashing, saying so in the log.
 */
export async function prepareTopology(
  bus: Bus,
  needs: TopologyNeeds,
  options: PrepareTopologyOptions = {},
): Promise<"provisioned" | "checked"> {
  const mode = options.mode ?? "auto";
  if (mode === "provision" || (mode === "auto" && bus.user === undefined)) {
    try {
      await provision(bus, options.topology ?? defaultTopology());
      return "provisioned";
    } catch (err) {
      const violation = permissionViolationIn(err);
      if (!violation) throw err;
      bus.logger.warn(
        { user: bus.user, refused: violation.subject },
        "this NATS user may not provision the topology (run `speakers provision` as the admin); checking that what this service needs exists instead",
      );
    }
  }
  await checkTopology(bus, needs);
  return "checked";
}

/** Looks up every stream, consumer and bucket of `needs`; throws BUS_UNAVAILABLE naming all that are missing. */
export async function checkTopology(bus: Bus, needs: TopologyNeeds): Promise<void> {
  const missing: string[] = [];
  const lookups: [string, () => Promise<unknown>][] = [
    ...(needs.streams ?? []).map((s): [string, () => Promise<unknown>] => [
      `stream ${s}`,
      () => bus.jsm.streams.info(s),
    ]),
    ...(needs.consumers ?? []).map((c): [string, () => Promise<unknown>] => [
      `consumer ${c.stream}/${c.durable}`,
      () => bus.jsm.consumers.info(c.stream, c.durable),
    ]),
    // A KV bucket and an object store are streams named KV_<bucket> and OBJ_<store>; `Kvm.open` makes no call.
    ...(needs.kvBuckets ?? []).map((b): [string, () => Promise<unknown>] => [
      `KV bucket ${b}`,
      () => bus.jsm.streams.info(`KV_${b}`),
    ]),
    ...(needs.objectStores ?? []).map((o): [string, () => Promise<unknown>] => [
      `object store ${o}`,
      () => bus.jsm.streams.info(`OBJ_${o}`),
    ]),
  ];
  for (const [what, lookup] of lookups) {
    try {
      await lookup();
    } catch (err) {
      if (isNotFound(err)) missing.push(what);
      else if (permissionViolationIn(err)) missing.push(`${what} (not readable by this user)`);
      else
        throw new SpeakersError("BUS_UNAVAILABLE", `cannot look up ${what}: ${errorText(err)}`, {
          cause: err,
        });
    }
  }
  if (missing.length > 0) {
    throw new SpeakersError("BUS_UNAVAILABLE", `the NATS server lacks ${missing.join(", ")}`, {
      hint: "Provision first as the admin user: `NATS_URL=nats://admin:<password>@<host>:4222 speakers provision` (docker compose runs the `provision` service).",
      details: { missing },
    });
  }
  bus.logger.info({ needs }, "topology checked");
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

/** nats.js may wrap the violation behind a JetStream or request error. */
export function permissionViolationIn(err: unknown): PermissionViolationError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof PermissionViolationError) return e;
  }
  return undefined;
}

import type { NatsConnection } from "@nats-io/nats-core";
import { PermissionViolationError } from "@nats-io/nats-core";

type Operation = "publish" | "subscription";

/**
 * Every permissions violation the server reported on a connection (nats.js surfaces them as status
 * events, not as thrown errors, for core publishes and subscriptions).
 */
export class Violations {
  readonly seen: PermissionViolationError[] = [];

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "error" && s.error instanceof PermissionViolationError) this.seen.push(s.error);
      }
    })();
  }

  /** Resolves once the server refused `operation` on `subject`; rejects when it did not within the time. */
  async waitFor(operation: Operation, subject: string, timeoutMs = 3_000): Promise<PermissionViolationError> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find((e) => e.operation === operation && e.subject === subject);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no permissions violation for ${operation} to ${subject} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Publishes with core NATS and resolves once the server refused it. */
export async function expectPublishRefused(
  nc: NatsConnection,
  v: Violations,
  subject: string,
): Promise<void> {
  nc.publish(subject, "forbidden");
  await nc.flush();
  await v.waitFor("publish", subject);
}

/** Subscribes and resolves once the server refused the subscription and nats.js closed it with the error. */
export async function expectSubscribeRefused(
  nc: NatsConnection,
  v: Violations,
  subject: string,
): Promise<void> {
  const sub = nc.subscribe(subject);
  await nc.flush();
  await v.waitFor("subscription", subject);
  const closed = await sub.closed;
  if (!(closed instanceof PermissionViolationError)) {
    throw new Error(`subscription to ${subject} was not closed by a permissions violation`);
  }
}

/** The permissions violation behind a rejected request, looked up through `cause` (nats.js may wrap it). */
export function permissionViolationIn(err: unknown): PermissionViolationError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof PermissionViolationError) return e;
  }
  return undefined;
}

/** Awaits a request-shaped call (JetStream API, js.publish, nc.request) that the server must refuse. */
export async function expectRefused(
  call: Promise<unknown>,
  subject?: string,
): Promise<PermissionViolationError> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (err) {
    const violation = permissionViolationIn(err);
    if (!violation) throw new Error(`refused, but not by permissions: ${String(err)}`, { cause: err });
    if (subject !== undefined && violation.subject !== subject) {
      throw new Error(`refused for ${violation.subject}, expected ${subject}`, { cause: err });
    }
    return violation;
  }
  throw new Error(`expected a permissions violation, but the call succeeded with ${String(outcome)}`);
}

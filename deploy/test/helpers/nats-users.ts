import { randomBytes } from "node:crypto";
import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { EMBEDDED_USERS, type EmbeddedUser } from "@speakers/runtime";
import { type NatsServer, startNatsServer } from "@speakers/test-support";
import { afterAll, beforeAll } from "vitest";
import { NATS_CONFIGS } from "./deploy-files.js";

/** The users of deploy/nats/auth.conf (the runtime's list: the embedded stack logs in as the same users). */
export const USERS = EMBEDDED_USERS;
export type User = EmbeddedUser;

/** Edge clients get an inbox of their own in auth.conf; they must connect with this prefix. */
export const INBOX_PREFIX: Partial<Record<User, string>> = {
  capture: "_INBOX.capture",
  plugin: "_INBOX.plugin",
  presence: "_INBOX.presence",
  "unknown-voices": "_INBOX.unknown-voices",
  wyoming: "_INBOX.wyoming",
};

export const passwordVar = (user: User | "route"): string =>
  `NATS_${user.toUpperCase().replace(/-/g, "_")}_PASSWORD`;

export type Passwords = Record<User | "route", string>;

/** Fresh random passwords, one per user of auth.conf and one for the routes. */
export function newPasswords(): Passwords {
  const passwords = {} as Passwords;
  for (const user of [...USERS, "route"] as const) {
    // nats-server parses an env value as config: "3e5a..." would read as a number, so start with a letter.
    passwords[user] = `p${randomBytes(12).toString("hex")}`;
  }
  return passwords;
}

/** The environment the configs read their passwords from ($NATS_<USER>_PASSWORD). */
export function passwordEnv(passwords: Passwords): Record<string, string> {
  return Object.fromEntries(Object.entries(passwords).map(([user, pw]) => [passwordVar(user as User), pw]));
}

export function connectAs(
  servers: string | string[],
  user: User,
  passwords: Passwords,
  options: Omit<NodeConnectionOptions, "servers" | "user" | "pass"> = {},
): Promise<NatsConnection> {
  const inboxPrefix = INBOX_PREFIX[user];
  return connect({
    servers,
    user,
    pass: passwords[user],
    name: `deploy-test-${user}`,
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
    ...options,
  });
}

/** A nats-server from deploy/nats/single.conf, with fresh passwords for every user of auth.conf. */
export async function startSingleNode(): Promise<{ server: NatsServer; passwords: Passwords }> {
  const passwords = newPasswords();
  const server = await startNatsServer({ args: ["-c", NATS_CONFIGS.single], env: passwordEnv(passwords) });
  return { server, passwords };
}

/**
 * A single node (startSingleNode) for the tests of one file: started before them; after them `close` runs on
 * every connection the tests pushed to `opened`, then the server stops.
 */
export function singleNodeForFile<C>(close: (connection: C) => Promise<unknown>) {
  const opened: C[] = [];
  let node: { server: NatsServer; passwords: Passwords } | undefined;
  beforeAll(async () => {
    node = await startSingleNode();
  });
  afterAll(async () => {
    await Promise.all(opened.map(close));
    await node?.server.stop();
  });
  const started = () => {
    if (node === undefined) throw new Error("the node starts in beforeAll");
    return node;
  };
  return {
    opened,
    get server(): NatsServer {
      return started().server;
    },
    get passwords(): Passwords {
      return started().passwords;
    },
    /** NATS_URL with credentials, the form docker-compose.yml gives every service. */
    natsUrl: (user: User, pass = started().passwords[user]) =>
      `nats://${user}:${pass}@127.0.0.1:${started().server.port}`,
  };
}

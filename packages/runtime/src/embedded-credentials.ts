/**
 * The embedded nats-server's users: deploy/nats/auth.conf's least-privilege users, with passwords generated on
 * a data folder's first start and kept in `<data dir>/credentials.json` (0600, folder 0700). Every part logs
 * in as its own user, so a plugin or capture cannot read voiceprints; `speakers` commands use `admin`.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SpeakersError } from "@speakers/events";

export const CREDENTIALS_FILE = "credentials.json";

/** The users of deploy/nats/auth.conf that an embedded stack logs in as. */
export const EMBEDDED_USERS = [
  "admin",
  "worker",
  "registry",
  "capture",
  "plugin",
  "presence",
  "unknown-voices",
  "wyoming",
] as const;
export type EmbeddedUser = (typeof EMBEDDED_USERS)[number];
export type Credentials = Record<EmbeddedUser, string>;

/** deploy/nats/auth.conf of this checkout: the one definition of users and permissions, deploy and embedded. */
export const AUTH_CONF = resolve(import.meta.dirname, "../../../deploy/nats/auth.conf");

/** The data folder's credentials, created on first use; the folder and file are made owner-only. */
export function ensureCredentials(dataDir: string): Credentials {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The folder also holds the JetStream store, voiceprints included: nobody else may list or read it.
  chmodSync(dataDir, 0o700);
  const file = join(dataDir, CREDENTIALS_FILE);
  const existing = readCredentials(dataDir);
  if (existing && EMBEDDED_USERS.every((u) => typeof existing[u] === "string")) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return existing as Credentials;
  }
  const fresh = Object.fromEntries(
    EMBEDDED_USERS.map((user) => [user, existing?.[user] ?? newPassword()]),
  ) as Credentials;
  writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return fresh;
}

/** The credentials a data folder holds, if any (a `speakers` command joining a running stack reads them). */
export function readCredentials(dataDir: string): Partial<Credentials> | undefined {
  const file = join(dataDir, CREDENTIALS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Partial<Credentials>;
  } catch (err) {
    throw new SpeakersError("INVALID_REQUEST", `${file} is not valid JSON: ${(err as Error).message}`, {
      hint: "Remove it and start the stack again: it writes new passwords on start.",
      cause: err,
    });
  }
}

/** `$NATS_<USER>_PASSWORD` for each user, as auth.conf reads them. */
export function passwordEnv(credentials: Credentials): Record<string, string> {
  return Object.fromEntries(
    EMBEDDED_USERS.map((user) => [
      `NATS_${user.toUpperCase().replace(/-/g, "_")}_PASSWORD`,
      credentials[user],
    ]),
  );
}

/** `nats://user:pass@host:port` for a child process's NATS_URL (the bus and the worker split it again). */
export function urlAs(
  url: string,
  user: EmbeddedUser,
  credentials: Partial<Credentials> | undefined,
): string {
  if (credentials === undefined) return url;
  const password = credentials[user];
  if (password === undefined) {
    throw new SpeakersError("INVALID_REQUEST", `${CREDENTIALS_FILE} has no password for ${user}.`, {
      hint: "Restart `pnpm start`: it adds the missing users' passwords to the data folder.",
    });
  }
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString().replace(/\/$/, "");
}

/** Letters and digits, starting with a letter: auth.conf's rule for a value the server reads from env. */
function newPassword(): string {
  return `p${randomBytes(24).toString("hex")}`;
}

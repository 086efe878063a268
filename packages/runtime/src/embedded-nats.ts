import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@speakers/bus";
import { SpeakersError } from "@speakers/events";
import { type Child, type ChildExit, spawnChild } from "./child.js";
import { AUTH_CONF, type Credentials, passwordEnv } from "./embedded-credentials.js";
import { freePort, requireNatsServer } from "./nats-binary.js";
import { natsMemoryLimit } from "./nats-memory.js";

export interface EmbeddedNats {
  readonly url: string;
  readonly pid: number | undefined;
  readonly storeDir: string;
  /** The client port (the one asked for, or the free one picked): a restart listens on it again. */
  readonly port: number;
  /** Resolves once the server process has exited, however it ended. */
  readonly ended: Promise<ChildExit>;
  stop(): Promise<void>;
}

/**
 * The one runtime launcher of an embedded nats-server (`pnpm start`, `pnpm demo`, and `speakers` without
 * NATS_URL): JetStream files under `<dataDir>/nats` (kept across runs), loopback only. It runs in its own
 * process group, so a terminal's Ctrl-C reaches only its owner, which drains into it before stopping it.
 */
export async function startEmbeddedNats(opts: {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  timeoutMs?: number;
  /** The users' passwords (ensureCredentials): the server then runs deploy/nats/auth.conf's users. */
  credentials?: Credentials;
}): Promise<EmbeddedNats> {
  const storeDir = join(opts.dataDir, "nats");
  mkdirSync(storeDir, { recursive: true });
  const configFile = join(opts.dataDir, "nats-server.conf");
  // Enrollment sends a few clips inline in one request; the 1 MB default payload is tight for that.
  let config = "max_payload: 8MB\n";
  if (opts.credentials) {
    // nats-server resolves an include beside the including file, so auth.conf is copied next to it.
    copyFileSync(AUTH_CONF, join(opts.dataDir, "nats-auth.conf"));
    config += 'include "nats-auth.conf"\n';
  }
  writeFileSync(configFile, config, { mode: 0o600 });
  const port = opts.port === 0 ? await freePort() : opts.port;
  const monitorPort = await freePort();
  const log = opts.logger.child({ component: "nats" });
  const child = spawnChild({
    command: requireNatsServer(),
    // The passwords reach the server as the $VARs auth.conf names, never on its command line.
    env: serverEnv(opts.credentials),
    args: [
      "-c",
      configFile,
      "-js",
      "-sd",
      storeDir,
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-m",
      String(monitorPort),
    ],
    logger: log,
    // The server's banner is noise at info level; warnings and errors are not.
    line: (text) => {
      // Until JetStream is up the monitor's /healthz says so as a warning; that is the wait, not a problem.
      if (text.includes("Healthcheck failed")) return { level: "debug", msg: text };
      // The embedded users' passwords are random and live in an owner-only file next to the store; hashing
      // them would not protect more than that file's permissions already do.
      if (text.includes("Plaintext passwords detected")) return { level: "debug", msg: text };
      const level =
        text.includes("[ERR]") || text.includes("[FTL]")
          ? "error"
          : text.includes("[WRN]")
            ? "warn"
            : "debug";
      return { level, msg: text.replace(/^\[\d+\] \S+ \S+ /, "") };
    },
  });
  try {
    await waitHealthy(child, monitorPort, opts.timeoutMs ?? 20_000);
  } catch (err) {
    await child.stop(2_000);
    throw new SpeakersError(
      "BUS_UNAVAILABLE",
      `the embedded nats-server did not start: ${(err as Error).message}`,
      {
        hint: `Is port ${port} taken? Set NATS_PORT to another port, or NATS_URL to use a running server.\n${child.tail()}`,
        cause: err,
      },
    );
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    storeDir,
    port,
    ended: child.ended,
    // SIGTERM lets JetStream flush its files; give it time before SIGKILL.
    stop: () => child.stop(10_000),
  };
}

function serverEnv(credentials: Credentials | undefined): NodeJS.ProcessEnv {
  const { GOMEMLIMIT: _unset, ...env } = process.env;
  const limit = natsMemoryLimit();
  return {
    ...env,
    ...(limit === undefined ? {} : { GOMEMLIMIT: limit }),
    ...(credentials ? passwordEnv(credentials) : {}),
  };
}

async function waitHealthy(child: Child, monitorPort: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // /healthz answers ok only once JetStream is up, so a client never meets "JetStream not enabled".
  const url = `http://127.0.0.1:${monitorPort}/healthz`;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error("nats-server exited");
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not healthy after ${timeoutMs} ms`);
}

import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { INSTALL_COMMAND, NatsTestingError } from "./errors.js";

export interface FindNatsServerOptions {
  /** Environment to read NATS_SERVER_BIN, HOME and PATH from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where the harness looks, in order: $NATS_SERVER_BIN, the project's install dir, then PATH. */
export function natsServerCandidates(options: FindNatsServerOptions = {}): string[] {
  const env = options.env ?? process.env;
  const candidates: string[] = [];
  if (env.NATS_SERVER_BIN) candidates.push(env.NATS_SERVER_BIN);
  candidates.push(join(env.HOME ?? homedir(), ".local/share/speakers/bin/nats-server"));
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir) candidates.push(join(dir, "nats-server"));
  }
  return candidates;
}

/** The nats-server binary to run, or undefined when none is installed. */
export function findNatsServer(options: FindNatsServerOptions = {}): string | undefined {
  return natsServerCandidates(options).find(isExecutable);
}

/** Like findNatsServer, but a missing binary is an error that says how to install one. */
export function requireNatsServer(options: FindNatsServerOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.NATS_SERVER_BIN && !isExecutable(env.NATS_SERVER_BIN)) {
    throw new NatsTestingError(
      "NATS_SERVER_NOT_FOUND",
      `NATS_SERVER_BIN=${env.NATS_SERVER_BIN} is not an executable file. Install one with: ${INSTALL_COMMAND}`,
    );
  }
  const found = findNatsServer(options);
  if (!found) {
    throw new NatsTestingError(
      "NATS_SERVER_NOT_FOUND",
      `no nats-server binary in $NATS_SERVER_BIN, ~/.local/share/speakers/bin or PATH. Install one with: ${INSTALL_COMMAND}`,
    );
  }
  return found;
}

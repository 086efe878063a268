import {
  natsServerCandidates as candidates,
  findNatsServer as findBinary,
  requireNatsServer as requireBinary,
} from "@speakers/runtime";
import { NatsTestingError } from "./errors.js";

export interface FindNatsServerOptions {
  /** Environment to read NATS_SERVER_BIN, HOME and PATH from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Where the harness looks, in order: $NATS_SERVER_BIN, the project's install dir, then PATH (as the runtime does). */
export function natsServerCandidates(options: FindNatsServerOptions = {}): string[] {
  return candidates(options.env);
}

/** The nats-server binary to run, or undefined when none is installed. */
export function findNatsServer(options: FindNatsServerOptions = {}): string | undefined {
  return findBinary(options.env);
}

/** Like findNatsServer, but a missing binary is an error that says how to install one. */
export function requireNatsServer(options: FindNatsServerOptions = {}): string {
  try {
    return requireBinary(options.env);
  } catch (err) {
    const hint = (err as { hint?: string }).hint ?? "";
    throw new NatsTestingError("NATS_SERVER_NOT_FOUND", `${(err as Error).message}. ${hint}`, { cause: err });
  }
}

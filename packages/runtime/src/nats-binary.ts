import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { SpeakersError } from "@speakers/events";

/** Puts the pinned nats-server where the lookup below finds it first. */
export const NATS_INSTALL_COMMAND =
  "GOBIN=$HOME/.local/share/speakers/bin go install github.com/nats-io/nats-server/v2@v2.12.15";

/** Where a nats-server is looked for, in order: $NATS_SERVER_BIN, the project's install dir, then PATH. */
export function natsServerCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    ...(env.NATS_SERVER_BIN ? [env.NATS_SERVER_BIN] : []),
    join(env.HOME ?? homedir(), ".local/share/speakers/bin/nats-server"),
    ...(env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, "nats-server")),
  ];
}

/** The nats-server binary to run, or undefined when none is installed. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return natsServerCandidates(env).find(isExecutable);
}

/** The nats-server to run (embedded stack and test harness alike), or BUS_UNAVAILABLE with the install command. */
export function requireNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  // A NATS_SERVER_BIN that is not there is a mistake to report, not a reason to run another binary.
  const found = env.NATS_SERVER_BIN
    ? natsServerCandidates(env).slice(0, 1).find(isExecutable)
    : findNatsServer(env);
  if (found) return found;
  throw new SpeakersError(
    "BUS_UNAVAILABLE",
    "no nats-server binary in $NATS_SERVER_BIN, ~/.local/share/speakers/bin or PATH",
    {
      hint: env.NATS_SERVER_BIN
        ? `NATS_SERVER_BIN=${env.NATS_SERVER_BIN} is not an executable file. Install one with: ${NATS_INSTALL_COMMAND}`
        : `Install one with: ${NATS_INSTALL_COMMAND} (or set NATS_URL to use a running server).`,
    },
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (the OS picks it), for a server that cannot take port 0. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port the OS picked"));
      });
    });
  });
}

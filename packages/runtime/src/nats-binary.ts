import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { SpeakersError } from "@speakers/events";

/** Puts the pinned nats-server where the lookup below finds it first. */
const INSTALL_COMMAND =
  "GOBIN=$HOME/.local/share/speakers/bin go install github.com/nats-io/nats-server/v2@v2.11.17";

/**
 * The nats-server to run: $NATS_SERVER_BIN, the project's install dir, then PATH. The same order as the test
 * harness (@speakers/nats-testing), kept here because a runtime must not load the test package.
 */
export function requireNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    ...(env.NATS_SERVER_BIN ? [env.NATS_SERVER_BIN] : []),
    join(env.HOME ?? homedir(), ".local/share/speakers/bin/nats-server"),
    ...(env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, "nats-server")),
  ];
  // A NATS_SERVER_BIN that is not there is a mistake to report, not a reason to run another binary.
  const found = env.NATS_SERVER_BIN
    ? candidates.slice(0, 1).find(isExecutable)
    : candidates.find(isExecutable);
  if (found) return found;
  throw new SpeakersError("BUS_UNAVAILABLE", "no nats-server to start an embedded server with", {
    hint: env.NATS_SERVER_BIN
      ? `NATS_SERVER_BIN=${env.NATS_SERVER_BIN} is not an executable file. Install one with: ${INSTALL_COMMAND}`
      : `Install one with: ${INSTALL_COMMAND} (or set NATS_URL to use a running server).`,
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (the OS picks it): nats-server cannot report a port 0 it bound. */
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

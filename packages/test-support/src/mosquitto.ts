import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, onProcessExit, stopProcess } from "@speakers/runtime";

/** CI and developers install the broker from Debian; the harness names the command when it is missing. */
export const MOSQUITTO_INSTALL = "apt-get update && apt-get install -y mosquitto";

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real Mosquitto on 127.0.0.1, anonymous, no persistence, in a temp dir. Mosquitto cannot report a
 * port it picked itself, so it gets one that was free a moment ago, and a new one if another process took it.
 */
export async function startMosquitto(
  binary = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto",
): Promise<Mosquitto> {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`no Mosquitto broker at ${binary}. Install one with: ${MOSQUITTO_INSTALL}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "speakers-mosquitto-"));
  const tail: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", "log_dest stderr", ""].join(
        "\n",
      ),
    );
    const child = spawn(binary, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    const unregister = onProcessExit(() => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    const collect = (chunk: Buffer) => {
      tail.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (tail.length > 100) tail.splice(0, tail.length - 100);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    if (await waitListening(child, port)) {
      return {
        url: `mqtt://127.0.0.1:${port}`,
        port,
        logTail: () => tail.join("\n"),
        stop: async () => {
          unregister();
          await stopProcess(child, 5_000);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    unregister();
    await stopProcess(child, 5_000);
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Mosquitto did not start:\n${tail.join("\n")}`);
    }
  }
}

async function waitListening(child: ChildProcess, port: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onProcessExit, stopProcess } from "@speakers/runtime";
import { NatsTestingError } from "./errors.js";
import { requireNatsServer } from "./find-nats-server.js";
import { waitReady } from "./wait-ready.js";

export interface StartNatsServerOptions {
  /** Binary to run; defaults to $NATS_SERVER_BIN, ~/.local/share/speakers/bin/nats-server, then PATH. */
  binary?: string;
  /** Client port; by default the server binds a random one and reports it in its ports file. */
  port?: number;
  /** Monitoring port (serves /healthz); random by default, as the client port. */
  monitorPort?: number;
  /** Bind address; 127.0.0.1 by default so tests never listen on the network. */
  host?: string;
  /** JetStream store dir; a temp dir (removed on stop) by default. A given dir is left in place. */
  storeDir?: string;
  /** Pass -js (default true). Turn off for a config whose jetstream block says otherwise. */
  jetstream?: boolean;
  /** nats-server config text, written to a temp file and passed with -c (clusters, accounts, auth). */
  configText?: string;
  /** Extra command-line arguments, appended last so they win over the defaults. */
  args?: string[];
  /** Extra environment for the server process, on top of this one's: values for `$VAR`s in a config file. */
  env?: Record<string, string | undefined>;
  /** How long to wait for the port and /healthz (default 20 s). */
  startTimeoutMs?: number;
  /** Copy the server's log to this process's stderr (default: only when NATS_TESTING_LOG is set). */
  log?: boolean;
}

export interface NatsServer {
  /** nats://host:port for clients. */
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  /** Path of the written config file, when configText was given. */
  readonly configFile: string | undefined;
  /** The running process id (changes after restart). */
  readonly pid: number | undefined;
  /** The last lines the server logged, for failure messages. */
  logTail(): string;
  /** Stops the server gracefully, kills it if it hangs, removes the temp dirs it created. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same ports and store dir: JetStream data survives. */
  restart(): Promise<void>;
}

const LOG_TAIL_LINES = 200;
const STOP_GRACE_MS = 5_000;

/**
 * Starts a real `nats-server -js` with a temporary store, and cleans up on stop or exit. Ports not given are
 * random (`-p -1 -m -1`): the server binds them itself and names them in its ports file (`--ports_file_dir`),
 * so no other process can take a port between picking and binding it. A restart reuses the same ports.
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? requireNatsServer();
  const host = options.host ?? "127.0.0.1";
  const tempDirs: string[] = [];
  const storeDir = options.storeDir ?? mkTemp("speakers-nats-store-", tempDirs);
  const portsDir = mkTemp("speakers-nats-ports-", tempDirs);
  let configFile: string | undefined;
  if (options.configText !== undefined) {
    configFile = join(mkTemp("speakers-nats-conf-", tempDirs), "nats-server.conf");
    writeFileSync(configFile, options.configText);
  }
  const removeTemp = () => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  };

  // -1: a random port, bound by the server (0 would mean the default 4222).
  let port = options.port ?? -1;
  let monitorPort = options.monitorPort ?? -1;
  let child: ChildProcess | undefined;
  let stopped = false;
  const tail: string[] = [];
  const echo = options.log ?? Boolean(process.env.NATS_TESTING_LOG);
  const unregister = onProcessExit(() => {
    child?.kill("SIGKILL");
    removeTemp();
  });

  const argv = () => {
    const args: string[] = [];
    if (configFile) args.push("-c", configFile);
    if (options.jetstream ?? true) args.push("-js");
    args.push("-sd", storeDir, "-a", host, "-p", String(port), "-m", String(monitorPort));
    args.push("--ports_file_dir", portsDir);
    return args.concat(options.args ?? []);
  };

  const spawnOnce = async (): Promise<void> => {
    const proc = spawn(binary, argv(), {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
    child = proc;
    let exitReason: string | undefined;
    let spawnError: Error | undefined;
    proc.once("error", (err) => {
      spawnError = err;
      exitReason = `could not run ${binary}: ${err.message}`;
    });
    proc.once("exit", (code, signal) => {
      exitReason ??= `nats-server exited (code ${code}, signal ${signal})`;
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
      }
      if (echo) process.stderr.write(chunk);
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    try {
      const timeoutMs = options.startTimeoutMs ?? 20_000;
      const abandoned = () => exitReason;
      if (port === -1 || monitorPort === -1) {
        const bound = await readPortsFile(portsDir, proc, timeoutMs, abandoned);
        port = bound.port;
        monitorPort = bound.monitorPort;
      }
      await waitReady({
        host: host === "0.0.0.0" ? "127.0.0.1" : host,
        port,
        monitorPort,
        timeoutMs,
        abandoned,
      });
    } catch (err) {
      await stopProcess(proc, STOP_GRACE_MS);
      throw new NatsTestingError(
        "NATS_SERVER_START_FAILED",
        `${(err as Error).message}\n--- nats-server log tail ---\n${tail.slice(-30).join("\n")}`,
        { cause: spawnError ?? err },
      );
    }
  };

  try {
    await spawnOnce();
  } catch (err) {
    unregister();
    removeTemp();
    throw err;
  }

  const server: NatsServer = {
    get url() {
      return `nats://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    },
    get port() {
      return port;
    },
    get monitorPort() {
      return monitorPort;
    },
    storeDir,
    configFile,
    get pid() {
      return child?.pid;
    },
    logTail: () => tail.join("\n"),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) await stopProcess(child, STOP_GRACE_MS);
      child = undefined;
      unregister();
      removeTemp();
    },
    async restart() {
      if (stopped) throw new NatsTestingError("NATS_SERVER_STOPPED", "restart() after stop()");
      if (child) await stopProcess(child, STOP_GRACE_MS);
      await spawnOnce();
    },
  };
  return server;
}

function mkTemp(prefix: string, created: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** The ports the server bound, from the `<binary>_<pid>.ports` file it writes once it listens. */
async function readPortsFile(
  dir: string,
  proc: ChildProcess,
  timeoutMs: number,
  abandoned: () => string | undefined,
): Promise<{ port: number; monitorPort: number }> {
  const deadline = Date.now() + timeoutMs;
  const file = `_${proc.pid}.ports`;
  while (Date.now() < deadline) {
    const reason = abandoned();
    if (reason) throw new Error(reason);
    const name = readdirSync(dir).find((f) => f.endsWith(file));
    if (name !== undefined) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, name), "utf8")) as {
          nats?: string[];
          monitoring?: string[];
        };
        const client = ports.nats?.[0];
        const monitor = ports.monitoring?.[0];
        if (client && monitor)
          return { port: Number(new URL(client).port), monitorPort: Number(new URL(monitor).port) };
      } catch {
        // written but not complete yet: read it again
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ports file in ${dir} after ${timeoutMs} ms`);
}

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsTestingError } from "./errors.js";
import { onProcessExit } from "./exit-cleanup.js";
import { requireNatsServer } from "./find-nats-server.js";
import { freePort } from "./free-port.js";
import { waitReady } from "./wait-ready.js";

export interface StartNatsServerOptions {
  /** Binary to run; defaults to $NATS_SERVER_BIN, ~/.local/share/speakers/bin/nats-server, then PATH. */
  binary?: string;
  /** Client port; a free one by default. */
  port?: number;
  /** Monitoring port (serves /healthz); a free one by default. */
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

/** Starts a real `nats-server -js` on free ports with a temporary store, and cleans up on stop or exit. */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? requireNatsServer();
  const host = options.host ?? "127.0.0.1";
  const tempDirs: string[] = [];
  const storeDir = options.storeDir ?? mkTemp("speakers-nats-store-", tempDirs);
  let configFile: string | undefined;
  if (options.configText !== undefined) {
    configFile = join(mkTemp("speakers-nats-conf-", tempDirs), "nats-server.conf");
    writeFileSync(configFile, options.configText);
  }
  const removeTemp = () => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  };

  let port = options.port ?? 0;
  let monitorPort = options.monitorPort ?? 0;
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
      await waitReady({
        host: host === "0.0.0.0" ? "127.0.0.1" : host,
        port,
        monitorPort,
        timeoutMs: options.startTimeoutMs ?? 20_000,
        abandoned: () => exitReason,
      });
    } catch (err) {
      await killProcess(proc);
      throw new NatsTestingError(
        "NATS_SERVER_START_FAILED",
        `${(err as Error).message}\n--- nats-server log tail ---\n${tail.slice(-30).join("\n")}`,
        { cause: spawnError ?? err },
      );
    }
  };

  const pickPortsAndStart = async (): Promise<void> => {
    // Another process can grab a "free" port before the server binds it; only auto-picked ports are retried.
    const autoPick = options.port === undefined || options.monitorPort === undefined;
    for (let attempt = 1; ; attempt++) {
      if (options.port === undefined) port = await freePort(host);
      if (options.monitorPort === undefined) monitorPort = await freePort(host);
      try {
        await spawnOnce();
        return;
      } catch (err) {
        const portClash = tail.some((l) => l.includes("address already in use"));
        if (!autoPick || !portClash || attempt >= 3) throw err;
      }
    }
  };

  try {
    await pickPortsAndStart();
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
      if (child) await killProcess(child);
      child = undefined;
      unregister();
      removeTemp();
    },
    async restart() {
      if (stopped) throw new NatsTestingError("NATS_SERVER_STOPPED", "restart() after stop()");
      if (child) await killProcess(child);
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

/** SIGTERM lets JetStream flush its files; SIGKILL only if the server hangs. */
async function killProcess(proc: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed, there is nothing to stop.
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, "exit");
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

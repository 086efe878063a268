/**
 * What the soak benchmark samples each minute: the resident memory of every process of a running stack
 * (found through /proc under the stack's pid), nats-server's own view (/varz, /jsz on its loopback monitor
 * port) and the size of every stream, consumer, KV bucket and object store.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Bus } from "@speakers/bus";

export interface StackProcess {
  pid: number;
  /** "stack" (the node process of `pnpm start`), "nats-server", "worker", or the command name. */
  role: string;
}

/** The stack's pid and every descendant, each with its role (Linux /proc). */
export function stackProcesses(rootPid: number): StackProcess[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), pid]);
  }
  const out: StackProcess[] = [{ pid: rootPid, role: "stack" }];
  const queue = [...(parents.get(rootPid) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    queue.push(...(parents.get(pid) ?? []));
    const role = roleOf(pid);
    if (role !== undefined) out.push({ pid, role });
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the fields after the last ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** Only the processes that matter: a shell wrapper or uv launcher in between is skipped. */
function roleOf(pid: number): string | undefined {
  const cmd = cmdline(pid);
  if (cmd.length === 0) return undefined;
  const exe = cmd[0]?.split("/").at(-1) ?? "";
  if (exe === "nats-server") return "nats-server";
  if (cmd.some((a) => a.includes("speaker_worker"))) return /python/.test(exe) ? "worker" : undefined;
  if (exe !== "node") return undefined;
  // A plugin by its name (plugins/<name>/dist/main.js), whatever V8 flags precede the script.
  const plugin = cmd.map((a) => /\/plugins\/([^/]+)\/dist\/main\.js$/.exec(a)?.[1]).find(Boolean);
  if (plugin !== undefined) return `plugin ${plugin}`;
  return `node ${cmd.slice(1).join(" ").slice(0, 40)}`;
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Resident set size in bytes; undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** nats-server's monitor port, from its `-m <port>` argument. */
export function monitorPortOf(pid: number): number | undefined {
  const args = cmdline(pid);
  const i = args.findIndex((a) => a === "-m" || a === "--http_port");
  const port = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isInteger(port) ? port : undefined;
}

export interface ServerView {
  /** /varz mem: what the server itself reports as resident. */
  mem: number;
  connections: number;
  subscriptions: number;
  /** /jsz: bytes stored, streams, consumers. */
  storeBytes: number;
  memoryStoreBytes: number;
  streams: number;
  consumers: number;
}

export async function serverView(monitorPort: number): Promise<ServerView | undefined> {
  try {
    const get = async (path: string) =>
      (await (await fetch(`http://127.0.0.1:${monitorPort}${path}`)).json()) as Record<string, number>;
    const [varz, jsz] = await Promise.all([get("/varz"), get("/jsz")]);
    return {
      mem: varz.mem ?? 0,
      connections: varz.connections ?? 0,
      subscriptions: varz.subscriptions ?? 0,
      storeBytes: jsz.storage ?? 0,
      memoryStoreBytes: jsz.memory ?? 0,
      streams: jsz.streams ?? 0,
      consumers: jsz.consumers ?? 0,
    };
  } catch {
    return undefined;
  }
}

export interface StreamSize {
  name: string;
  messages: number;
  bytes: number;
  /** Subjects with at least one message (a KV's keys, an object store's chunks and metas). */
  subjects: number;
  consumers: number;
}

/** Every stream with its size: AUDIO and the other event streams, KV_* buckets, OBJ_* object stores. */
export async function streamSizes(bus: Bus): Promise<StreamSize[]> {
  const out: StreamSize[] = [];
  for await (const info of bus.jsm.streams.list()) {
    out.push({
      name: info.config.name,
      messages: info.state.messages,
      bytes: info.state.bytes,
      subjects: info.state.num_subjects ?? 0,
      consumers: info.state.consumer_count,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Growth from `from` to `to` as a fraction (0.05 = 5 %). */
export function growth(from: number, to: number): number {
  return from > 0 ? (to - from) / from : 0;
}

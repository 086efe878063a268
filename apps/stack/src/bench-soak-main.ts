/**
 * `pnpm bench:soak --minutes N --rate R [--warmup M] [--json] [--audio <dir>]`
 * Starts the real stack (`node apps/stack/dist/main.js`, as `pnpm start` does) in a temp data folder on
 * free loopback ports, enrolls every speaker folder from 3 files, then POSTs the other recordings through
 * HTTP capture at R clips/s for N minutes. Every minute it prints the RSS of each process of the stack
 * (nats-server, the node stack process, the worker), nats-server's own memory and JetStream totals, and the
 * size of every stream, KV bucket and object store. At the end: each process's growth from the end of the
 * warm-up (first M minutes, default 2) to the end, and how many clips were lost or identified twice.
 * `--json` ends stdout with one JSON object (progress goes to stderr).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Bus, closeBus, connectBus, createLogger } from "@speakers/bus";
import { STREAMS } from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import { readCredentials, stopProcess, urlAs } from "@speakers/runtime";
import { defaultAudioDir, speakerFolders } from "./audio-folders.js";
import { LEAN_NODE_FLAGS } from "./plugin-process.js";
import { mediaTypeOf, postClip } from "./post-clip.js";
import {
  growth,
  monitorPortOf,
  rssBytes,
  type ServerView,
  type StackProcess,
  type StreamSize,
  serverView,
  stackProcesses,
  streamSizes,
} from "./soak.js";
import { reportFailure } from "./throwaway.js";

const REPO = resolve(import.meta.dirname, "../../..");
const ENROLL = 3;
const MAX_IN_FLIGHT = 32;
const STALL_MS = 120_000;
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
    audio: { type: "string" },
  },
});
const positive = (name: "minutes" | "rate" | "warmup", allowZero = false) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
  return n;
};
const minutes = positive("minutes");
const rate = positive("rate");
const warmup = positive("warmup", true);
if (warmup >= minutes) {
  process.stderr.write("--warmup must be shorter than --minutes\n");
  process.exit(2);
}
const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
const MB = 1024 * 1024;
const mb = (bytes: number | undefined) => (bytes === undefined ? "-" : (bytes / MB).toFixed(1));

const audioDir = resolve(values.audio ?? defaultAudioDir());
const folders = speakerFolders(audioDir);
const clips = folders.flatMap((f) =>
  f.files
    .slice(ENROLL)
    .map((file) => ({ bytes: new Uint8Array(readFileSync(file)), type: mediaTypeOf(file) })),
);
if (clips.length === 0) {
  process.stderr.write(
    `no clips in ${audioDir} (expected <dir>/<speaker>/*.flac, more than ${ENROLL} each)\n`,
  );
  process.exit(2);
}

interface Sample {
  minute: number;
  rss: Map<string, number | undefined>;
  server: ServerView | undefined;
  streams: StreamSize[];
}

const dataDir = mkdtempSync(join(tmpdir(), "speakers-soak-"));
const [natsPort, httpPort] = [await freePort(), await freePort()];
const logger = createLogger("bench-soak", { level: "warn" });
let child: ChildProcess | undefined;
let bus: Bus | undefined;
let code = 0;
try {
  child = spawn(process.execPath, [...LEAN_NODE_FLAGS, join(REPO, "apps/stack/dist/main.js")], {
    env: {
      ...process.env,
      SPEAKERS_DATA_DIR: dataDir,
      NATS_PORT: String(natsPort),
      CAPTURE_HTTP_PORT: String(httpPort),
      NATS_URL: "",
      MQTT_URL: "",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const stackPid = child.pid as number;
  const captureUrl = `http://127.0.0.1:${httpPort}`;
  await until(async () => (await fetch(`${captureUrl}/readyz`).catch(() => undefined))?.ok === true, 300_000);
  // The embedded stack runs with per-service users: the bench reads and enrolls as the admin, like `speakers`.
  const servers = urlAs(`nats://127.0.0.1:${natsPort}`, "admin", readCredentials(dataDir));
  bus = await connectBus({ servers, name: "bench-soak", logger });
  say(`stack up (pid ${stackPid}, capture ${captureUrl}); enrolling ${folders.length} speakers ...`);
  const registry = registryClient(bus);
  for (const f of folders) await registry.enrollFiles(f.speaker, f.files.slice(0, ENROLL));

  const processes = stackProcesses(stackPid);
  const natsPid = processes.find((p) => p.role === "nats-server")?.pid;
  const monitor = natsPid === undefined ? undefined : monitorPortOf(natsPid);
  say(
    `processes: ${processes.map((p) => `${p.role} (${p.pid})`).join(", ")}; nats monitor :${monitor ?? "?"}`,
  );

  const identified = new Map<string, number>();
  const sub = bus.nc.subscribe("speaker.identified");
  void (async () => {
    for await (const m of sub) {
      const id = (m.json() as { sourceEventId?: string }).sourceEventId;
      if (id) identified.set(id, (identified.get(id) ?? 0) + 1);
    }
  })();

  const samples: Sample[] = [];
  const sample = async (minute: number) => {
    const s: Sample = {
      minute,
      rss: new Map(processes.map((p) => [label(p), rssBytes(p.pid)])),
      server: monitor === undefined ? undefined : await serverView(monitor),
      streams: await streamSizes(bus as Bus),
    };
    samples.push(s);
    printSample(s);
  };

  const posted: string[] = [];
  let refused = 0;
  let inFlight = 0;
  const started = Date.now();
  const endAt = started + minutes * 60_000;
  await sample(0);
  let nextSample = 1;
  for (let i = 0; Date.now() < endAt; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    if ((Date.now() - started) / 60_000 >= nextSample) await sample(nextSample++);
    if (inFlight >= MAX_IN_FLIGHT) {
      refused++;
      continue;
    }
    const clip = clips[i % clips.length] as (typeof clips)[number];
    inFlight++;
    postClip(captureUrl, clip.bytes, { device: `soak-${i % 4}`, room: "soak", contentType: clip.type })
      .then(
        (p) => posted.push(p.id),
        () => refused++,
      )
      .finally(() => inFlight--);
  }
  await until(() => inFlight === 0, 60_000);
  if (nextSample <= minutes) await sample(minutes);
  say(`sent ${posted.length} clips (${refused} refused); waiting for every identification ...`);
  // A worker slower than the rate (a loaded machine) leaves a backlog: wait while it drains, and call the rest
  // lost only once no identification has arrived for STALL_MS.
  const drainStarted = Date.now();
  let seen = -1;
  let lastProgress = Date.now();
  await until(() => {
    const done = posted.filter((id) => identified.has(id)).length;
    if (done !== seen) [seen, lastProgress] = [done, Date.now()];
    return done === posted.length || Date.now() - lastProgress > STALL_MS;
  }, Number.POSITIVE_INFINITY);
  const drainSeconds = Math.round((Date.now() - drainStarted) / 1000);
  say(`backlog drained in ${drainSeconds} s`);
  sub.unsubscribe();
  const stored = await identificationsStored(bus, new Set(posted));
  const lost = posted.filter((id) => !stored.has(id)).length;
  const duplicates = [...stored.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);

  const warm = samples.find((s) => s.minute >= warmup) ?? samples[0];
  const last = samples.at(-1) as Sample;
  const report = {
    minutes,
    rate,
    warmupMinutes: warmup,
    clipsSent: posted.length,
    refused,
    drainSeconds,
    lost,
    duplicates,
    processes: processes.map((p) => {
      const from = warm?.rss.get(label(p));
      const to = last.rss.get(label(p));
      return {
        role: p.role,
        pid: p.pid,
        rssStartMB: round(samples[0]?.rss.get(label(p))),
        rssAfterWarmupMB: round(from),
        rssEndMB: round(to),
        rssGrowth: from === undefined || to === undefined ? null : Number(growth(from, to).toFixed(4)),
      };
    }),
    natsServer: last.server ?? null,
    streams: last.streams,
  };
  say("");
  say(`after warm-up (minute ${warm?.minute}) -> end (minute ${last.minute}):`);
  for (const p of report.processes) {
    const pct = p.rssGrowth === null ? "-" : `${(p.rssGrowth * 100).toFixed(1)} %`;
    say(
      `  ${p.role.padEnd(28)} ${String(p.rssAfterWarmupMB).padStart(8)} MB -> ${String(p.rssEndMB).padStart(8)} MB  ${pct}`,
    );
  }
  say(`  clips ${posted.length}, refused ${refused}, lost ${lost}, duplicates ${duplicates}`);
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (err) {
  code = reportFailure("soak", err);
} finally {
  if (bus) await closeBus(bus).catch(() => {});
  if (child) await stopProcess(child, 30_000);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);

function label(p: StackProcess): string {
  return `${p.role}#${p.pid}`;
}

function printSample(s: Sample): void {
  const rss = [...s.rss].map(([k, v]) => `${k.split("#")[0]} ${mb(v)}`).join(", ");
  const server = s.server
    ? ` | varz mem ${mb(s.server.mem)} MB, js store ${mb(s.server.storeBytes)} MB, ${s.server.consumers} consumers, ${s.server.subscriptions} subs`
    : "";
  say(`[min ${String(s.minute).padStart(2)}] RSS MB: ${rss}${server}`);
  say(
    `         ${s.streams.map((x) => `${x.name} ${x.messages}m/${mb(x.bytes)}MB/${x.consumers}c`).join("  ")}`,
  );
}

/** Identifications stored in SPEAKERS per source clip (what a consumer would read back). */
async function identificationsStored(b: Bus, wanted: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const c = await b.js.consumers.get(STREAMS.SPEAKERS.name, { filter_subjects: "speaker.identified" });
  let pending = (await c.info(true)).num_pending;
  while (pending > 0) {
    let got = 0;
    for await (const m of await c.fetch({ max_messages: Math.min(pending, 1000), expires: 5_000 })) {
      got++;
      const id = (m.json() as { sourceEventId?: string }).sourceEventId;
      if (id && wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
      pending = m.info.pending;
      if (pending === 0) break;
    }
    if (got === 0) break;
  }
  await c.delete().catch(() => {});
  return counts;
}

function round(bytes: number | undefined): number | null {
  return bytes === undefined ? null : Math.round((bytes / MB) * 10) / 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(250);
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/**
 * `pnpm bench:wyoming [--json] [--audio <dir>] [--count 16] [--seconds 3]`
 * What the Wyoming bridge costs Home Assistant. A throwaway stack (worker, registry) with every speaker
 * enrolled from 3 files, a real Wyoming ASR upstream (PocketSphinx), and the official `wyoming` library as
 * Home Assistant sending real speech in real time. The same utterances go once to the upstream alone and
 * once through the bridge; it prints audio-stop -> transcript for both, what the bridge adds, and
 * audio-stop -> speaker.identified.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { availableParallelism, cpus } from "node:os";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { registryClient } from "@speakers/registry-client";
import {
  bridgeConfigFromEnv,
  createWyomingBridge,
  DEFAULTS,
  type UtteranceTimings,
} from "@speakers/wyoming-bridge";
import { defaultAudioDir, speakerFolders } from "./audio-folders.js";
import { createStackLogger } from "./logging.js";
import { percentiles, round } from "./stats.js";
import { reportFailure, throwawayStack } from "./throwaway.js";

const REPO = resolve(import.meta.dirname, "../../..");
const PY_DIR = resolve(REPO, "services/wyoming-bridge/py");
const ENROLL = 3;
const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    audio: { type: "string" },
    count: { type: "string", default: "16" },
    seconds: { type: "string", default: "3" },
  },
});
const count = Number(values.count);
const seconds = Number(values.seconds);
if (!(count > 0 && seconds > 0)) {
  process.stderr.write("--count and --seconds must be positive numbers\n");
  process.exit(2);
}
const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

const folders = speakerFolders(resolve(values.audio ?? defaultAudioDir()));
// Round-robin over speakers, so the utterances are many voices rather than one speaker's files.
const files: string[] = [];
for (let i = 0; files.length < count && i < 100; i++) {
  for (const f of folders) {
    const file = f.files[ENROLL + i];
    if (file && files.length < count) files.push(file);
  }
}

const py = (module: string, args: string[]): ChildProcess =>
  spawn("uv", ["run", "--frozen", "python", "-m", `speakers_wyoming_py.${module}`, ...args], {
    cwd: PY_DIR,
    stdio: ["ignore", "pipe", "inherit"],
    // Its own process group: uv does not pass a SIGTERM on to the Python it started.
    detached: true,
  });
const stopPy = (child: ChildProcess | undefined) => {
  if (child?.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
};

async function lines(child: ChildProcess, until?: (l: Record<string, unknown>) => boolean) {
  const out: Array<Record<string, unknown>> = [];
  for await (const text of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const line = JSON.parse(text) as Record<string, unknown>;
    out.push(line);
    if (until?.(line)) break;
  }
  return out;
}

/** Home Assistant speaking every file, one after another, paced like a microphone. */
async function speakAll(uri: string): Promise<number[]> {
  const child = py("client", [
    "--uri",
    uri,
    "transcribe",
    ...files,
    "--max-seconds",
    String(seconds),
    "--realtime",
  ]);
  const out = await lines(child, (l) => {
    say(
      `  ${String(l.file)}: ${typeof l.stop_to_transcript_ms === "number" ? `${l.stop_to_transcript_ms.toFixed(0)} ms` : JSON.stringify(l)}`,
    );
    return false;
  });
  const failed = out.filter((l) => typeof l.stop_to_transcript_ms !== "number");
  if (failed.length > 0) throw new Error(`utterances without a transcript: ${JSON.stringify(failed)}`);
  return out.map((l) => l.stop_to_transcript_ms as number);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  return typeof address === "object" && address ? address.port : 0;
}

const pct = (values: number[]) => {
  const p = percentiles(values);
  return { p50: round(p.p50, 1), p99: round(p.p99, 1) };
};

const logger = createStackLogger("bench-wyoming", { level: "warn" });
const { stack, dispose } = throwawayStack(logger);
let upstream: ChildProcess | undefined;
let code = 0;
try {
  await stack.start();
  say(`stack up; enrolling ${folders.length} speakers from ${ENROLL} files each ...`);
  const registry = registryClient(stack.bus);
  for (const f of folders) await registry.enrollFiles(f.speaker, f.files.slice(0, ENROLL));

  const upstreamUri = `tcp://127.0.0.1:${await freePort()}`;
  upstream = py("upstream", ["--uri", upstreamUri]);
  await lines(upstream, (l) => l.event === "ready");
  const timings: UtteranceTimings[] = [];
  const bridge = createWyomingBridge({
    bus: stack.bus,
    config: bridgeConfigFromEnv({
      SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
      SPEAKERS_WYOMING_UPSTREAM: upstreamUri,
    }),
    logger,
    onUtterance: (t) => timings.push(t),
  });
  await bridge.start();
  try {
    say(`${files.length} utterances of ${seconds} s, in real time: upstream alone ...`);
    const alone = await speakAll(upstreamUri);
    say("... and through the bridge ...");
    const through = await speakAll(bridge.listeners[0]?.uri ?? "");
    const identified = timings.flatMap((t) => (t.identifiedMs === undefined ? [] : [t.identifiedMs]));
    const report = {
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? "?", node: process.version },
      utterances: files.length,
      secondsEach: seconds,
      waitMs: DEFAULTS.waitMs,
      upstreamAloneMs: pct(alone),
      throughBridgeMs: pct(through),
      /** Per utterance, bridge minus upstream alone, as Home Assistant sees it (noisy: two decodes). */
      addedAsSeenByClientMs: pct(through.map((t, i) => t - (alone[i] ?? t))),
      /** Per utterance, inside the bridge: its transcript out minus the upstream's transcript in. */
      addedInsideBridgeMs: pct(timings.map((t) => t.transcriptMs - t.upstreamMs)),
      stopToIdentifiedMs: pct(identified),
      identifiedInTime: `${identified.length}/${timings.length}`,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const row = (name: string, x: { p50: number | null; p99: number | null }) =>
        say(`${name.padEnd(52)}${String(x.p50).padStart(9)}${String(x.p99).padStart(9)}`);
      say("");
      say(`${report.machine.cpus} CPUs (${report.machine.cpu}), node ${report.machine.node}`);
      say(`${"ms".padEnd(52)}${"p50".padStart(9)}${"p99".padStart(9)}`);
      row("audio-stop -> transcript, upstream alone", report.upstreamAloneMs);
      row("audio-stop -> transcript, through the bridge", report.throughBridgeMs);
      row("added by the bridge, as the client sees it", report.addedAsSeenByClientMs);
      row("added by the bridge, upstream transcript -> ours", report.addedInsideBridgeMs);
      row(`audio-stop -> speaker.identified (${report.identifiedInTime} in time)`, report.stopToIdentifiedMs);
    }
  } finally {
    await bridge.stop();
  }
} catch (err) {
  code = reportFailure("bench", err);
} finally {
  stopPy(upstream);
  await dispose();
}
process.exit(code);

/**
 * `pnpm start` and `pnpm demo` as a user runs them: built, then `node dist/...`, as real processes. The stack
 * is started in its own process group and stopped with SIGINT to the group, exactly what Ctrl-C in a terminal
 * does, and every helper process it started must be gone afterwards.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { DEV_AUDIO } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoSummary } from "../src/demo.js";
import { LEAN_NODE_FLAGS, speakerFolders } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");
const pkg = resolve(import.meta.dirname, "..");

beforeAll(async () => {
  // The stack and the CLI it runs beside (`pnpm speakers` joining it) are both run from dist/.
  await promisify(execFile)("pnpm", ["exec", "tsc", "-b", pkg, join(root, "apps/cli")], { cwd: root });
}, 300_000);

function run(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NATS_URL;
  delete childEnv.MQTT_URL;
  const child = spawn("node", [join(pkg, "dist", script), ...args], {
    cwd: root,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    exited,
    output: () => out,
    async until(text: string, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no "${text}" from ${script}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill() {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
    },
  };
}

/** `pnpm speakers ...` as a user runs it from the repository, without NATS_URL. */
async function speakers(args: string[], env: NodeJS.ProcessEnv) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NATS_URL;
  return await promisify(execFile)("node", [join(root, "apps/cli/dist/main.js"), ...args], {
    cwd: root,
    env: childEnv,
    timeout: 120_000,
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("pnpm start", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stack-main-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("starts the embedded stack, prints how to enroll and send audio, and stops everything on Ctrl-C", async () => {
    const main = run("main.js", [], {
      SPEAKERS_DATA_DIR: dataDir,
      NATS_PORT: "0",
      PORT: "0",
      SPEAKERS_CONSOLE_URI: "http://127.0.0.1:0",
      // the Wyoming bridge pnpm start runs, on a free port rather than 10350
      SPEAKERS_WYOMING_URI: "tcp://127.0.0.1:0",
      SPEAKERS_LOG_FORMAT: "json",
      LOG_LEVEL: "info",
    });
    try {
      await main.until("Ctrl-C stops everything", 180_000);
      const out = main.output();
      expect(out).toContain("pnpm speakers enroll <name> <files…>");
      expect(out).toContain("Wyoming bridge listening");
      // The CLI finds this stack by itself; the banner no longer asks for NATS_URL.
      expect(out).not.toContain("NATS_URL=");
      expect(out).toContain("curl --data-binary @clip.flac -H 'Content-Type: audio/flac'");
      const capture = /Capture {4}(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
      const natsUrl = /NATS {7}(nats:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
      // The banner names the web console, and it serves its page.
      const consoleUrl = /Console {4}(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
      expect((await fetch(consoleUrl)).headers.get("content-type")).toContain("text/html");
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const pidOf = (msg: string) => lines.find((l) => l.msg === msg)?.childPid as number;
      const natsPid = pidOf("embedded nats-server started");
      const workerPid = pidOf("embedding worker started");
      expect(natsPid).toBeGreaterThan(0);
      expect(workerPid).toBeGreaterThan(0);
      expect(alive(natsPid) && alive(workerPid)).toBe(true);
      expect((await fetch(`${capture}/readyz`)).status).toBe(200);

      // A clip goes through the whole chain; with nobody enrolled it is an unknown voice, logged live.
      const clip = speakerFolders(DEV_AUDIO)[0]?.files[0] as string;
      const res = await fetch(`${capture}/v1/audio?device=kitchen`, {
        method: "POST",
        headers: { "Content-Type": "audio/flac" },
        body: readFileSync(clip),
      });
      expect(res.status).toBe(202);
      await main.until("unknown voice at kitchen", 60_000);

      // `pnpm speakers` without NATS_URL joins this stack (its stack.json) instead of starting its own server.
      const announced = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as { url: string };
      expect(announced).toEqual({ url: natsUrl, pid: main.child.pid });
      const speaker = speakerFolders(DEV_AUDIO)[1] as { speaker: string; files: string[] };
      const enroll = await speakers(["enroll", "joiner", ...speaker.files.slice(0, 3)], {
        SPEAKERS_DATA_DIR: dataDir,
        LOG_LEVEL: "info",
      });
      expect(enroll.stdout).toMatch(/^joiner \(/m);
      // Its one connection went to this stack's server (an embedded one of its own would listen elsewhere).
      // (Logs go to stderr: stdout is the command's output.)
      const connected = enroll.stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { msg?: string; server?: string })
        .filter((l) => l.msg === "connected to NATS");
      expect(connected.map((l) => l.server)).toEqual([natsUrl.slice("nats://".length)]);
      const listed = await speakers(["list", "--json"], { SPEAKERS_DATA_DIR: dataDir });
      const names = (JSON.parse(listed.stdout) as { speakers: { name: string }[] }).speakers.map(
        (s) => s.name,
      );
      expect(names).toEqual(["joiner"]);
      // The stack's own registry holds the voice: a clip of that speaker sent to its capture is named.
      const again = await fetch(`${capture}/v1/audio?device=hall`, {
        method: "POST",
        headers: { "Content-Type": "audio/flac" },
        body: readFileSync(speaker.files[4] as string),
      });
      expect(again.status).toBe(202);
      await main.until("joiner at hall", 60_000);

      process.kill(-(main.child.pid as number), "SIGINT");
      expect(await main.exited).toBe(0);
      expect(main.output()).toContain("stack stopped");
      expect(main.output()).not.toContain("stop step failed");
      expect(alive(natsPid)).toBe(false);
      expect(alive(workerPid)).toBe(false);
      // The embedded server kept its store in the data folder, for the next start.
      expect(existsSync(join(dataDir, "nats", "jetstream"))).toBe(true);
      // A stopped stack is no longer announced, so the next command starts its own.
      expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
    } finally {
      main.kill();
    }
  }, 300_000);
});

describe("pnpm start's command line", () => {
  it("runs the stack with the same V8 memory flags as its plugins", () => {
    const scripts = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.start).toContain(`node ${LEAN_NODE_FLAGS.join(" ")} apps/stack/dist/main.js`);
  });
});

describe("pnpm demo", () => {
  it("enrolls three speakers, streams their other files and summarises real identifications", async () => {
    const speakers = speakerFolders(DEV_AUDIO).slice(0, 3);
    const demo = run(
      "demo-main.js",
      ["--audio", DEV_AUDIO, "--speakers", "3", "--enroll", "3", "--json"],
      {},
    );
    try {
      expect(await demo.exited).toBe(0);
    } finally {
      demo.kill();
    }
    const lines = demo.output().trim().split("\n");
    const summary = JSON.parse(lines.at(-1) as string) as DemoSummary;
    const rows = lines.filter((l) => / (ok|MISS)$/.test(l));
    const expected = speakers.reduce((n, s) => n + Math.max(0, s.files.length - 3), 0);

    expect(summary.enrolled).toBe(3);
    // One printed row per streamed file, and the summary counts exactly those rows.
    expect(rows).toHaveLength(expected);
    expect(summary.clips).toBe(expected);
    expect(summary.correct).toBe(rows.filter((l) => l.endsWith(" ok")).length);
    expect(summary.correct + summary.wrong + summary.unknown + summary.failed).toBeGreaterThanOrEqual(
      summary.clips,
    );
    expect(summary.failed).toBe(0);
    // GE2E on three well-separated LibriSpeech voices: a working chain gets nearly all right.
    expect(summary.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(summary.latencyMs.count).toBe(expected);
    expect(summary.computeMs.count).toBe(expected);
    // Each clip's end-to-end latency includes the model's time for it, so it cannot be below it.
    for (const row of rows) {
      const [latency, model] = [...row.matchAll(/([\d.]+) ms/g)].map((m) => Number(m[1]));
      expect(latency).toBeGreaterThanOrEqual(model as number);
      expect(model).toBeGreaterThan(0);
    }
    for (const s of speakers) expect(demo.output()).toContain(`${s.speaker.padEnd(12)} enrolled`);
  }, 300_000);
});

describe("pnpm bench:e2e", () => {
  it("measures every phase on real identifications and reports them as JSON (no speed asserted)", async () => {
    const bench = run(
      "bench-e2e-main.js",
      ["--json", "--steady-count", "6", "--ramp", "1,2", "--step-seconds", "4", "--saturation-count", "8"],
      {},
    );
    try {
      expect(await bench.exited).toBe(0);
    } finally {
      bench.kill();
    }
    const out = bench.output();
    const report = JSON.parse(out.slice(out.indexOf("{\n"))) as {
      phases: Array<{
        name: string;
        clips: number;
        lost: number;
        totalMs: { p50: number; p99: number };
        modelMs: { p50: number };
        overheadMs: { p50: number };
      }>;
      sustainedEventsPerSecond: number | null;
      saturationEventsPerSecond: number | null;
      model: string | null;
    };
    // The ramp stops at its first rate that does not keep up, so it may have one step or two.
    const names = report.phases.map((p) => p.name);
    expect(names[0]).toBe("steady 2/s");
    expect(names[1]).toBe("ramp 1/s");
    expect(report.phases.at(-1)?.name).toBe("saturation");
    for (const p of report.phases) {
      expect(p.lost).toBe(0);
      // The split is real: the worker reported model time, and the end-to-end time covers it.
      expect(p.modelMs.p50).toBeGreaterThan(0);
      expect(p.totalMs.p50).toBeGreaterThanOrEqual(p.modelMs.p50);
      expect(p.totalMs.p99).toBeGreaterThanOrEqual(p.totalMs.p50);
    }
    expect(report.saturationEventsPerSecond).toBeGreaterThan(0);
    expect(report.model).toMatch(/^resemblyzer\/ge2e@|^speechbrain\//);
  }, 300_000);
});

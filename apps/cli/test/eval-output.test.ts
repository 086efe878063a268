/**
 * Issue 9 item 11: `speakers eval DIR --json` prints only the report's JSON on stdout (every log line, the
 * worker's included, goes to stderr), and a dataset whose speaker folders are symlinks is read through their
 * real paths instead of being refused with AUDIO_PATH_FORBIDDEN. Small datasets of real dev speech in temp
 * folders; the real GE2E worker.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { devClips } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvalReport, runEval } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");
const SPEAKERS = 3;
const FILES = 4;

/** Each of the first dev speakers' first files, by speaker. */
function someClips(): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const clip of devClips()) {
    const files = by.get(clip.speaker) ?? [];
    if (files.length < FILES) by.set(clip.speaker, [...files, clip.path]);
  }
  return new Map([...by].slice(0, SPEAKERS));
}

describe("speakers eval: output and folders", () => {
  let temp: string;
  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), "eval-output-"));
    await promisify(execFile)("pnpm", ["exec", "tsc", "-b", resolve(root, "apps/cli")], { cwd: root });
  }, 300_000);
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("reads speaker folders that are symlinks to elsewhere", { timeout: 600_000 }, async () => {
    // The speakers' real folders live outside the dataset folder the user names.
    const elsewhere = join(temp, "elsewhere");
    const dataset = join(temp, "linked");
    mkdirSync(dataset, { recursive: true });
    for (const [speaker, files] of someClips()) {
      const real = join(elsewhere, `voice-${speaker}`);
      mkdirSync(real, { recursive: true });
      for (const file of files) copyFileSync(file, join(real, basename(file)));
      symlinkSync(real, join(dataset, speaker));
    }
    const report = await runEval({ dir: dataset, enroll: 2, model: "ge2e" });
    expect(report).toMatchObject({ speakers: SPEAKERS, files: SPEAKERS * FILES, speakers_not_enrolled: [] });
    expect(report.test_files).toBe(SPEAKERS * (FILES - 2));
  });

  it("--json writes the report alone on stdout, logs on stderr", { timeout: 600_000 }, async () => {
    const dataset = join(temp, "plain");
    for (const [speaker, files] of someClips()) {
      mkdirSync(join(dataset, speaker), { recursive: true });
      for (const file of files) copyFileSync(file, join(dataset, speaker, basename(file)));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, SPEAKERS_MODEL: "ge2e", LOG_LEVEL: "info" };
    delete env.NATS_URL;
    const { stdout, stderr } = await promisify(execFile)(
      "node",
      [join(root, "apps/cli/dist/main.js"), "eval", dataset, "--enroll", "2", "--json"],
      { cwd: root, env, timeout: 540_000 },
    );
    // At info level the worker and the CLI's own connection do log: all of it on stderr.
    expect(stderr).toContain("connected to NATS");
    expect(stderr).toMatch(/speaker_worker/);
    const report = JSON.parse(stdout) as EvalReport;
    expect(report).toMatchObject({ speakers: SPEAKERS, files: SPEAKERS * FILES });
  });
});

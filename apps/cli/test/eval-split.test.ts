/**
 * `speakers eval --enroll-glob` and `--manifest` choose the enrollment files per speaker folder; on the
 * household-dev folder (3 `a-enroll-*` recordings per speaker and a manifest with a role column) all three
 * ways agree. One small eval runs end to end with a manifest.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readVectors } from "../src/commands/household-sources.js";
import { readDataset } from "../src/eval/dataset.js";
import { globMatcher, splitDataset } from "../src/eval/split.js";
import { runEval } from "../src/index.js";

const HOUSEHOLD =
  process.env.SPEAKERS_HOUSEHOLD_AUDIO ??
  resolve(import.meta.dirname, "../../../../shared/audio/household-dev");
const temp = mkdtempSync(join(tmpdir(), "eval-split-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const names = (files: readonly string[]) => files.map((f) => basename(f));

describe("eval enrollment selection", () => {
  const dataset = readDataset(HOUSEHOLD);

  it("a glob and the manifest choose the same enrollment files as the folder names say", () => {
    const byGlob = splitDataset(dataset, { by: "glob", glob: "a-enroll-*" });
    const byManifest = splitDataset(dataset, { by: "manifest", file: join(HOUSEHOLD, "manifest.csv") });
    expect(byGlob.map((s) => s.enroll.length)).toEqual(dataset.map(() => 3));
    for (const s of byGlob) for (const f of names(s.enroll)) expect(f).toMatch(/^a-enroll-/);
    for (const s of byGlob) for (const f of names(s.test)) expect(f).not.toMatch(/^a-enroll-/);
    expect(byManifest).toEqual(byGlob);
    expect(byManifest.reduce((n, s) => n + s.test.length, 0)).toBe(162);
  });

  it("first-N stays as before, and a glob that matches nothing enrolls nobody from that folder", () => {
    const first = splitDataset(dataset, { by: "first", count: 2 });
    expect(first.map((s) => s.enroll)).toEqual(dataset.map((s) => s.files.slice(0, 2)));
    const none = splitDataset(dataset, { by: "glob", glob: "no-such-*" });
    expect(none.every((s) => s.enroll.length === 0)).toBe(true);
  });

  it("matches file names with *, ? and classes only", () => {
    const m = globMatcher("a-enroll-*-000[0-1].flac");
    expect(m("a-enroll-1688-142285-0000.flac")).toBe(true);
    expect(m("a-enroll-1688-142285-0002.flac")).toBe(false);
    expect(globMatcher("b-test-?.flac")("b-test-1.flac")).toBe(true);
    expect(globMatcher("a.flac")("aXflac")).toBe(false);
    expect(() => globMatcher("dir/*.flac")).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });

  it("refuses a manifest without a role column", () => {
    const bad = join(temp, "bad.csv");
    writeFileSync(bad, "path,speaker\n1688/x.flac,1688\n");
    expect(() => splitDataset(dataset, { by: "manifest", file: bad })).toThrow(
      expect.objectContaining({ code: "INVALID_REQUEST" }),
    );
  });

  it("runs an eval that enrolls and identifies what a manifest names", { timeout: 600_000 }, async () => {
    // Three speakers: 2 enrollment recordings and 3 test clips each, by a `split` column; the other files
    // of their folders take no part.
    const dir = join(temp, "dataset");
    mkdirSync(dir);
    const chosen = dataset.slice(0, 3);
    const rows = ["path,split"];
    for (const s of chosen) {
      symlinkSync(join(HOUSEHOLD, s.speaker), join(dir, s.speaker));
      const enroll = s.files.filter((f) => basename(f).startsWith("a-enroll-")).slice(0, 2);
      const test = s.files.filter((f) => basename(f).startsWith("b-test-")).slice(0, 3);
      for (const f of enroll) rows.push(`${s.speaker}/${basename(f)},enroll`);
      for (const f of test) rows.push(`"${s.speaker}/${basename(f)}",test`);
    }
    writeFileSync(join(dir, "manifest.csv"), `${rows.join("\n")}\n`);
    const report = await runEval({ dir, manifest: join(dir, "manifest.csv"), model: "ge2e" });
    expect(report).toMatchObject({
      speakers: 3,
      enrolled_files: 6,
      test_files: 9,
      enroll_by: "manifest",
      enroll_per_speaker: 2,
      speakers_not_enrolled: [],
    });
  });
});

describe("cohort bank files", () => {
  it("reads a JSON array, a {vectors} object and a float32 .npy alike", async () => {
    const vectors = [
      [0.5, -0.25, 1],
      [0, 2, -1.5],
    ];
    writeFileSync(join(temp, "a.json"), JSON.stringify(vectors));
    writeFileSync(join(temp, "b.json"), JSON.stringify({ vectors }));
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const padded = `${header.padEnd(118, " ")}\n`;
    const head = Buffer.alloc(10);
    head.write("\x93NUMPY", 0, "latin1");
    head[6] = 1;
    head[7] = 0;
    head.writeUInt16LE(padded.length, 8);
    const data = Buffer.from(new Float32Array(vectors.flat()).buffer);
    writeFileSync(join(temp, "c.npy"), Buffer.concat([head, Buffer.from(padded, "latin1"), data]));
    expect(await readVectors(join(temp, "a.json"))).toEqual(vectors);
    expect(await readVectors(join(temp, "b.json"))).toEqual(vectors);
    expect(await readVectors(join(temp, "c.npy"))).toEqual(vectors);
    writeFileSync(join(temp, "d.json"), JSON.stringify([[1, 2], [3]]));
    await expect(readVectors(join(temp, "d.json"))).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });
});

/**
 * `speakers adaptation on|off|show` and `speakers cohort import|show|clear` against the embedded stack (a
 * real nats-server, the real GE2E worker, the registry in-process), as a user runs them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createEmbeddingClient } from "@speakers/embedding-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbeddedStack } from "../src/index.js";
import { speakersOn } from "./support/run-speakers.js";

const DEV_AUDIO =
  process.env.SPEAKERS_DEV_AUDIO ?? resolve(import.meta.dirname, "../../../../shared/audio/dev");
const speaker = readdirSync(DEV_AUDIO).sort()[0] as string;
const clips = readdirSync(join(DEV_AUDIO, speaker))
  .filter((f) => f.endsWith(".flac"))
  .sort()
  .slice(0, 5)
  .map((f) => join(DEV_AUDIO, speaker, f));

let dataDir: string;
let stack: EmbeddedStack;

const speakers = speakersOn(() => stack);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "speakers-sources-"));
  stack = await startEmbeddedStack({ dataDir, model: "ge2e", env: { ...process.env, NATS_URL: "" } });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("speakers adaptation and cohort", () => {
  it("switches adaptation per model and says where the setting comes from", async () => {
    const before = JSON.parse((await speakers("adaptation", "show", "--json")).out);
    expect(before).toMatchObject({ enabled: false, source: "environment", adaptedSamples: 0 });
    const on = await speakers("adaptation", "on");
    expect(on.code).toBe(0);
    expect(on.out).toMatch(/^Adaptation for resemblyzer\/ge2e@[^:]+: on \(this model's setting\)/);
    const off = JSON.parse((await speakers("adaptation", "off", "--json")).out);
    expect(off).toMatchObject({ enabled: false, source: "setting" });
  });

  it(
    "imports a bank of real embeddings in chunks, shows it and clears it",
    { timeout: 300_000 },
    async () => {
      const embedder = createEmbeddingClient(stack.bus);
      const real: number[][] = [];
      for (const f of clips) real.push((await embedder.extract(new Uint8Array(readFileSync(f)))).vector);
      // 70 vectors: more than one request's chunk of 64.
      const bank = Array.from({ length: 70 }, (_, i) => real[i % real.length] as number[]);
      const file = join(dataDir, "bank.json");
      writeFileSync(file, JSON.stringify(bank));
      const imported = JSON.parse((await speakers("cohort", "import", file, "--json")).out);
      expect(imported).toMatchObject({ imported: 70, label: "bank.json", unknown: 0 });
      expect((await speakers("cohort", "show")).out).toMatch(/70 imported vector\(s\) from bank\.json/);
      // Importing again replaces the bank.
      writeFileSync(file, JSON.stringify(real));
      expect(JSON.parse((await speakers("cohort", "import", file, "--json")).out).imported).toBe(5);
      expect(JSON.parse((await speakers("cohort", "clear", "--json")).out).imported).toBe(0);
    },
  );

  it("refuses a bank of another dimension with a code and a hint", async () => {
    const file = join(dataDir, "small.json");
    writeFileSync(file, JSON.stringify([[0.6, 0.8]]));
    const result = await speakers("cohort", "import", file);
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("EMBEDDING_DIM_MISMATCH");
  });
});

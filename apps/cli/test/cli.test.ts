/**
 * The `speakers` commands against the embedded stack (a real nats-server with a data folder, the real GE2E
 * worker, the registry in-process), as a user runs them: output text and exit codes.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_AUDIO } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbeddedStack } from "../src/index.js";
import { speakersOn } from "./support/run-speakers.js";

const files = (speaker: string) =>
  readdirSync(join(DEV_AUDIO, speaker))
    .filter((f) => f.endsWith(".flac"))
    .sort()
    .map((f) => join(DEV_AUDIO, speaker, f));

let dataDir: string;
let stack: EmbeddedStack;
const A = files("1688");
const B = files("2414");

const speakers = speakersOn(() => stack);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "speakers-cli-"));
  stack = await startEmbeddedStack({ dataDir, model: "ge2e", env: { ...process.env, NATS_URL: "" } });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("speakers CLI", () => {
  it("keeps the embedded server's store in the data folder", () => {
    expect(stack.embedded).toBe(true);
    expect(readdirSync(join(dataDir, "nats"))).toContain("jetstream");
  });

  it("enrolls, lists, identifies and verifies", async () => {
    const enrolled = await speakers("enroll", "Ada", ...A.slice(0, 3));
    expect(enrolled.code).toBe(0);
    expect(enrolled.out).toMatch(/^Ada \(spk_[0-9a-f]+\): 3 of 3 samples accepted/);
    expect((await speakers("enroll", "Ben", ...B.slice(0, 3))).code).toBe(0);

    const list = await speakers("list");
    expect(list.out).toMatch(/Ada\s+spk_/);
    expect(list.out).toMatch(/Ben\s+spk_/);

    const who = await speakers("identify", A[5] as string);
    expect(who.out).toMatch(/^Ada \(spk_/);
    const json = JSON.parse((await speakers("identify", B[6] as string, "--json")).out);
    expect(json).toMatchObject({ decision: "known", speaker: { name: "Ben" } });

    expect((await speakers("verify", "ada", A[6] as string)).code).toBe(0);
    const no = await speakers("verify", "Ada", B[7] as string);
    expect(no).toMatchObject({ code: 3 });
    expect(no.out).toMatch(/^no match/);
  });

  it("publishes files as captured audio that the worker and registry then identify", async () => {
    const heard: { sourceEventId: string; decision: string; speaker?: { name: string } }[] = [];
    const sub = stack.bus.nc.subscribe("speaker.identified");
    void (async () => {
      for await (const m of sub) heard.push(JSON.parse(new TextDecoder().decode(m.data)));
    })();
    const bad = join(dataDir, "notes.wav");
    writeFileSync(bad, "not audio at all");
    const published = await speakers("publish", A[7] as string, bad, "--room", "hall", "--json");
    expect(published.code).toBe(1);
    const rows = JSON.parse(published.out) as { ok: boolean; id?: string; error?: { code: string } }[];
    expect(rows[1]).toMatchObject({ ok: false, error: { code: "AUDIO_CORRUPT" } });
    const id = rows[0]?.id as string;
    expect(rows[0]?.ok).toBe(true);
    const deadline = Date.now() + 60_000;
    while (!heard.some((e) => e.sourceEventId === id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    sub.unsubscribe();
    expect(heard.find((e) => e.sourceEventId === id)).toMatchObject({
      decision: "known",
      speaker: { name: "Ada" },
    });
  });

  it("renames and erases by name", async () => {
    expect((await speakers("rename", "Ben", "Benjamin")).out).toMatch(/Renamed Ben to Benjamin/);
    const gone = await speakers("delete", "Benjamin");
    expect(gone.out).toMatch(/Erased Benjamin .* 3 sample\(s\), 1 voiceprint\(s\), 3 audio clip\(s\)/);
    expect((await speakers("list")).out).not.toMatch(/Benjamin/);
    expect((await speakers("identify", B[6] as string, "--json")).out).toMatch(/"decision": "unknown"/);
  });

  it("answers bad input with a code and a hint, not a stack trace", async () => {
    const missing = await speakers("identify", "/no/such/file.flac");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(
      /^error AUDIO_PATH_NOT_FOUND: Cannot read the audio file \/no\/such\/file.flac/,
    );
    expect(missing.err).toMatch(/hint: /);

    const nobody = await speakers("verify", "Zed", A[1] as string);
    expect(nobody.err).toMatch(/^error SPEAKER_NOT_FOUND: No speaker is named "Zed"/);

    const exists = await speakers("enroll", "Ada", "--new", A[4] as string);
    expect(exists.err).toMatch(/^error SPEAKER_EXISTS/);

    const usage = await speakers("enroll", "OnlyName");
    expect(usage.code).not.toBe(0);
    expect(usage.err).toMatch(/missing required argument 'files'/);

    expect((await speakers("eval", DEV_AUDIO, "--enroll", "0")).err).toMatch(/must be a whole number/);
  });
});

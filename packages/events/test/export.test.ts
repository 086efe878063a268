import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CATALOG, findDrift, renderContract, SCHEMA_DIR, writeContract } from "@speakers/events";
import { afterEach, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");
const temps: string[] = [];

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "speakers-contract-"));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("exported contract", () => {
  it("matches the committed files byte for byte (run `pnpm schemas` when this fails)", () => {
    const root = tempRoot();
    const written = writeContract(root);
    expect(written.length).toBe(CATALOG.length * 2 + 4);
    for (const path of written) {
      expect(readFileSync(join(repoRoot, path), "utf8"), path).toBe(readFileSync(join(root, path), "utf8"));
    }
    expect(findDrift(repoRoot)).toEqual([]);
  });

  it("gives every schema its type id and JSON Schema draft", () => {
    const files = renderContract();
    for (const entry of CATALOG) {
      const schema = JSON.parse(files.get(`${SCHEMA_DIR}/${entry.name}.schema.json`) ?? "{}");
      expect(schema.$id).toBe(entry.typeId);
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    }
  });

  it("reports a changed, a missing and a stale file", () => {
    const root = tempRoot();
    writeContract(root);
    expect(findDrift(root)).toEqual([]);
    const changed = `${SCHEMA_DIR}/AudioCaptured.schema.json`;
    writeFileSync(
      join(root, changed),
      readFileSync(join(root, changed), "utf8").replace("sampleRate", "rate"),
    );
    const missing = `${SCHEMA_DIR}/fixtures/SpeakerDeleted.json`;
    rmSync(join(root, missing));
    const stale = `${SCHEMA_DIR}/Retired.schema.json`;
    writeFileSync(join(root, stale), "{}\n");
    expect(findDrift(root)).toEqual([
      { path: changed, reason: "changed" },
      { path: missing, reason: "missing" },
      { path: stale, reason: "stale" },
    ]);
  });
});

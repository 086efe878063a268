/** Enrollment needs a voice: loud noise of any colour is refused with ENROLL_NO_SPEECH, real speech enrolls. */
import { REGISTRY_ENDPOINTS } from "@speakers/events";
import { devFiles, devSpeakers, readClip as read } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noiseWav } from "./support/noise.js";
import { enrollFiles, listSpeakers } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";

const ep = REGISTRY_ENDPOINTS;
let stack: Stack;
const [A, B] = devSpeakers();

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function enrollWavs(name: string, clips: Uint8Array[], formats: ("wav" | "flac")[]) {
  const body = Buffer.concat(clips);
  const items = clips.map((c, i) => ({ length: c.length, format: formats[i] ?? "wav" }));
  return stack.ask(ep.enroll, { name, items }, new Uint8Array(body));
}

describe("enrollment quality: no voice", () => {
  for (const kind of ["white", "pink"] as const) {
    it(`refuses 5 s of ${kind} noise with ENROLL_NO_SPEECH and a hint`, async () => {
      const name = `${kind} noise`;
      const clips = [1, 2, 3].map((seed) => noiseWav(kind, 5, seed));
      const err = await enrollWavs(name, clips, ["wav", "wav", "wav"]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "ENROLL_NO_SPEECH" });
      expect((err as { hint?: string }).hint ?? "").toMatch(/speaking/);
      expect((await listSpeakers(stack, name)).total).toBe(0);
    });
  }

  it("still enrolls real speech, and drops the one noise sample among it", async () => {
    const files = devFiles(A as string).slice(0, 3);
    const clean = await enrollFiles(stack, "Speech", files);
    expect(clean.result.outcome).toBe("enrolled");
    expect(clean.quality.every((q) => q.accepted)).toBe(true);

    const mixed = await enrollWavs(
      "Mixed",
      [
        ...devFiles(B as string)
          .slice(0, 3)
          .map(read),
        noiseWav("pink", 5, 9),
      ],
      ["flac", "flac", "flac", "wav"],
    );
    expect(mixed.result.outcome).toBe("enrolled");
    expect(mixed.quality.map((q) => q.code ?? "ok")).toEqual(["ok", "ok", "ok", "ENROLL_NO_SPEECH"]);
  });
});

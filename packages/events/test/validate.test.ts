import {
  AudioCaptured,
  BatchResult,
  CentroidReply,
  decodeJson,
  decodeMeta,
  EmbeddingComputed,
  EmbeddingResult,
  encodeJson,
  encodeMeta,
  isValid,
  RenameRequest,
  SpeakersError,
  validate,
  validationIssues,
} from "@speakers/events";
import { describe, expect, it } from "vitest";

function thrown(action: () => unknown): SpeakersError {
  try {
    action();
  } catch (error) {
    if (error instanceof SpeakersError) return error;
    throw error;
  }
  throw new Error("expected a SpeakersError");
}

describe("validate", () => {
  it("returns a valid payload unchanged", () => {
    expect(validate(AudioCaptured, AudioCaptured.fixture)).toBe(AudioCaptured.fixture);
  });

  it("throws INVALID_EVENT for an event, naming the JSON pointer", () => {
    const error = thrown(() =>
      validate(AudioCaptured, {
        ...AudioCaptured.fixture,
        format: { encoding: "amr", sampleRate: 16000, channels: 1 },
      }),
    );
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.status).toBe(400);
    expect(error.message).toContain("/format/encoding");
    expect(error.details).toMatchObject({ typeId: "speakers.audio.captured.v1" });
  });

  it("throws INVALID_REQUEST for a service payload", () => {
    expect(thrown(() => validate(RenameRequest, { speakerId: "spk_1" })).code).toBe("INVALID_REQUEST");
  });

  it("rejects unknown properties", () => {
    expect(validationIssues(RenameRequest, { speakerId: "a", name: "b", extra: 1 })).not.toEqual([]);
  });

  it("rejects a transcript above the header-safe maximum", () => {
    expect(isValid(AudioCaptured, { ...AudioCaptured.fixture, transcript: "a".repeat(16_384) })).toBe(true);
    expect(isValid(AudioCaptured, { ...AudioCaptured.fixture, transcript: "a".repeat(16_385) })).toBe(false);
  });

  it("rejects a timestamp that is not RFC 3339", () => {
    expect(isValid(AudioCaptured, { ...AudioCaptured.fixture, capturedAt: "23.11.2026 18:04" })).toBe(false);
    expect(
      isValid(AudioCaptured, { ...AudioCaptured.fixture, capturedAt: "2026-11-23T18:04:05+01:00" }),
    ).toBe(true);
  });
});

describe("vector length equals the model dimension", () => {
  it("holds for embedding.computed", () => {
    const { fixture } = EmbeddingComputed;
    expect(validationIssues(EmbeddingComputed, fixture)).toEqual([]);
    expect(
      validationIssues(EmbeddingComputed, { ...fixture, model: { ...fixture.model, dim: 192 } }),
    ).toEqual([{ path: "/vector", message: "Expected 192 numbers (/model/dim), got 256" }]);
  });

  it("holds inside a batch item, found through the union", () => {
    const { fixture } = BatchResult;
    const embedding = { ...EmbeddingResult.fixture, vector: [0.1, 0.2] };
    const items = [{ index: 0, ok: true as const, embedding }, ...fixture.items.slice(1)];
    expect(validationIssues(BatchResult, { ...fixture, items })).toEqual([
      { path: "/items/0/embedding/vector", message: "Expected 192 numbers (/model/dim), got 2" },
    ]);
  });

  it("holds for a centroid and its declared dim", () => {
    expect(validationIssues(CentroidReply, { centroid: [1, 0], dim: 3, count: 1 })).toHaveLength(1);
  });
});

describe("encoding", () => {
  it("round-trips JSON bodies", () => {
    const bytes = encodeJson(EmbeddingComputed, EmbeddingComputed.fixture);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decodeJson(EmbeddingComputed, bytes)).toEqual(EmbeddingComputed.fixture);
  });

  it("refuses to encode an invalid payload", () => {
    const invalid = { ...EmbeddingComputed.fixture, vector: [] };
    expect(thrown(() => encodeJson(EmbeddingComputed, invalid)).code).toBe("INVALID_EVENT");
  });

  it("reports a body that is not JSON or not UTF-8", () => {
    expect(thrown(() => decodeJson(EmbeddingComputed, "{oops")).message).toMatch(/Not JSON/);
    expect(thrown(() => decodeJson(EmbeddingComputed, new Uint8Array([0xff, 0xfe]))).message).toMatch(
      /UTF-8/,
    );
  });

  it("writes Speakers-Meta as ASCII and reads it back with the transcript intact", () => {
    const transcript = "Grüße aus der Küche 👋, wer spricht?\nZeile zwei";
    const event = { ...AudioCaptured.fixture, transcript };
    const header = encodeMeta(AudioCaptured, event);
    expect(header).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeMeta(AudioCaptured, header).transcript).toBe(transcript);
  });

  it("reports a missing Speakers-Meta header", () => {
    expect(thrown(() => decodeMeta(AudioCaptured, undefined)).message).toMatch(/Missing Speakers-Meta/);
  });
});

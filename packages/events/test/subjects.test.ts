import {
  AudioCaptured,
  audioContentType,
  clipTranscript,
  deadLetterSubject,
  EmbeddingComputed,
  EmbeddingFailed,
  embeddingEventId,
  identifiedEventId,
  MODELS,
  modelKey,
  modelToken,
  SpeakersError,
  subjectMatches,
  subjectToken,
} from "@speakers/events";
import { describe, expect, it } from "vitest";

describe("subjects", () => {
  it("makes subject tokens per ADR 0001", () => {
    expect(subjectToken("Kitchen Satellite #2")).toBe("kitchen_satellite__2");
    expect(subjectToken("a.b*c>d")).toBe("a_b_c_d");
    expect(() => subjectToken("")).toThrow(SpeakersError);
  });

  it("keys and tokens models", () => {
    expect(modelKey(MODELS.ge2e)).toBe("resemblyzer/ge2e@0.1.4");
    expect(modelToken(MODELS.ge2e)).toBe("resemblyzer_ge2e_0_1_4");
    expect(EmbeddingComputed.subject(MODELS.ge2e)).toBe("embedding.computed.resemblyzer_ge2e_0_1_4");
    expect(EmbeddingFailed.subject(MODELS.ge2e)).toBe("embedding.failed.resemblyzer_ge2e_0_1_4");
  });

  it("puts captured audio under its device", () => {
    expect(AudioCaptured.subject("Living Room")).toBe("audio.captured.living_room");
    expect(AudioCaptured.subjectFor(AudioCaptured.fixture)).toBe("audio.captured.kitchen-satellite");
    expect(deadLetterSubject("audio.captured.x")).toBe("deadletter.audio.captured.x");
  });

  it("matches NATS wildcards", () => {
    expect(subjectMatches("audio.captured.>", "audio.captured.a")).toBe(true);
    expect(subjectMatches("audio.captured.>", "audio.captured")).toBe(false);
    expect(subjectMatches("speaker.*", "speaker.identified")).toBe(true);
    expect(subjectMatches("speaker.*", "speaker.enrollment.progress")).toBe(false);
    expect(subjectMatches("speaker.identified", "speaker.identified")).toBe(true);
  });
});

describe("deterministic ids (ADR rule 4)", () => {
  it("hashes sourceEventId|modelKey and the embedding id", () => {
    // Expected values from `printf %s 'evt-1|resemblyzer/ge2e@0.1.4' | sha1sum`, and likewise for 'emb-abc'.
    expect(embeddingEventId("evt-1", MODELS.ge2e)).toBe("emb-95144e646901d755a01a5c3f611afad37975f8a5");
    expect(identifiedEventId("emb-abc")).toBe("sid-7136c70dcdd608b399bb2bf1b6989a52c4d2f164");
  });
});

describe("audio helpers", () => {
  it("names the content type of each encoding", () => {
    expect(audioContentType({ encoding: "wav", sampleRate: 16000, channels: 1 })).toBe("audio/wav");
    expect(audioContentType({ encoding: "pcm_s16le", sampleRate: 16000, channels: 1 })).toBe(
      "audio/L16;rate=16000;channels=1",
    );
  });

  it("clips a long transcript without splitting a surrogate pair", () => {
    expect(clipTranscript("short")).toEqual({ transcript: "short" });
    const clipped = clipTranscript(`${"a".repeat(16_383)}👋tail`);
    expect(clipped).toEqual({ transcript: "a".repeat(16_383), transcriptTruncated: true });
  });
});

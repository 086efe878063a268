import {
  ERROR_CODES,
  ERRORS,
  ErrorPayloadMessage,
  fromErrorPayload,
  isValid,
  SpeakersError,
  serviceErrorHeader,
  toErrorPayload,
} from "@speakers/events";
import { describe, expect, it } from "vitest";

describe("error catalogue", () => {
  it("gives every code an HTTP-like status, a message and a hint", () => {
    for (const code of ERROR_CODES) {
      const entry = ERRORS[code];
      expect([400, 401, 403, 404, 409, 413, 422, 500, 503, 504]).toContain(entry.status);
      expect(entry.message.length).toBeGreaterThan(5);
      expect(entry.hint.length).toBeGreaterThan(5);
    }
  });

  it("keeps the codes the other services rely on", () => {
    expect(ERRORS.INVALID_EVENT.status).toBe(400);
    expect(ERRORS.AUDIO_TOO_LONG.status).toBe(413);
    expect(ERRORS.WORKER_UNAVAILABLE.status).toBe(503);
    expect(ERRORS.TIMEOUT.status).toBe(504);
  });

  it("lets ErrorPayload carry exactly the catalogue codes", () => {
    for (const code of ERROR_CODES) expect(isValid(ErrorPayloadMessage, { code, message: "m" })).toBe(true);
    expect(isValid(ErrorPayloadMessage, { code: "NOT_A_CODE", message: "m" })).toBe(false);
  });
});

describe("SpeakersError", () => {
  it("takes status and hint from the catalogue", () => {
    const error = new SpeakersError("SPEAKER_NOT_FOUND", "No speaker spk_9.");
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(404);
    expect(error.hint).toBe(ERRORS.SPEAKER_NOT_FOUND.hint);
    expect(new SpeakersError("TIMEOUT").message).toBe(ERRORS.TIMEOUT.message);
  });

  it("survives the wire as a valid ErrorPayload", () => {
    const error = new SpeakersError("AUDIO_TOO_SHORT", "0.4 s", { details: { durationMs: 400 } });
    const payload = error.toErrorPayload();
    expect(isValid(ErrorPayloadMessage, payload)).toBe(true);
    const back = fromErrorPayload(JSON.parse(JSON.stringify(payload)));
    expect([back.code, back.message, back.hint, back.details]).toEqual([
      "AUDIO_TOO_SHORT",
      "0.4 s",
      ERRORS.AUDIO_TOO_SHORT.hint,
      { durationMs: 400 },
    ]);
  });

  it("turns a foreign error into INTERNAL and keeps an unknown code in details", () => {
    expect(toErrorPayload(new TypeError("boom"))).toMatchObject({ code: "INTERNAL", message: "boom" });
    const back = fromErrorPayload({ code: "FROM_THE_FUTURE", message: "new" });
    expect(back.code).toBe("INTERNAL");
    expect(back.details).toEqual({ unknownCode: "FROM_THE_FUTURE" });
  });

  it("formats the Nats-Service-Error header on one line", () => {
    expect(serviceErrorHeader({ code: "TIMEOUT", message: "slow\r\nworker" })).toBe("TIMEOUT: slow worker");
  });
});

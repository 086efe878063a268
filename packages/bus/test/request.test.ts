import { headers as natsHeaders } from "@nats-io/nats-core";
import type { Service } from "@nats-io/services";
import { addService, call, request, serveEndpoint } from "@speakers/bus";
import {
  HEADERS,
  IdentifyMeta,
  IdentifyReply,
  SpeakerIdRequest,
  SpeakerSummary,
  SpeakersError,
} from "@speakers/events";
import { useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("request and serveEndpoint", () => {
  const t = useTestBus("request-test");
  let service: Service;

  beforeAll(async () => {
    service = await addService(t.bus, { name: "testreg", version: "0.1.0", queue: "testreg" });
    const group = service.addGroup("test.registry");
    serveEndpoint(t.bus, group, "get", {
      request: SpeakerIdRequest,
      reply: SpeakerSummary,
      handler: ({ data }) => {
        if (data.speakerId === "missing") throw new SpeakersError("SPEAKER_NOT_FOUND", "no speaker missing");
        if (data.speakerId === "crash") throw new Error("database exploded");
        if (data.speakerId === "bad-reply") return { nonsense: true } as never;
        return { ...SpeakerSummary.fixture, id: data.speakerId };
      },
    });
    serveEndpoint(t.bus, group, "identify", {
      request: IdentifyMeta,
      reply: IdentifyReply,
      handler: ({ data, body }) => ({
        ...IdentifyReply.fixture,
        // Echo what arrived so the test sees the audio body and the Speakers-Meta payload.
        durationMs: body.length,
        candidates: IdentifyReply.fixture.candidates.slice(0, data.topK ?? 5),
      }),
    });
    serveEndpoint(t.bus, group, "slow", {
      handler: async () => {
        await new Promise((r) => setTimeout(r, 1_000));
        return { late: true };
      },
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("answers a valid typed request", async () => {
    const reply = await call(t.bus, "test.registry.get", {
      request: SpeakerIdRequest,
      payload: { speakerId: "spk_9" },
      reply: SpeakerSummary,
    });
    expect(reply).toEqual({ ...SpeakerSummary.fixture, id: "spk_9" });
  });

  it("carries audio as the body and the request in Speakers-Meta", async () => {
    const reply = await call(t.bus, "test.registry.identify", {
      request: IdentifyMeta,
      payload: { format: "wav", topK: 1 },
      body: new Uint8Array(1234),
      reply: IdentifyReply,
    });
    expect(reply.durationMs).toBe(1234);
    expect(reply.candidates).toHaveLength(1);
  });

  it("maps a thrown SpeakersError to ADR service-error headers and back", async () => {
    const raw = await t.bus.nc.request("test.registry.get", JSON.stringify({ speakerId: "missing" }));
    expect(raw.headers?.get(HEADERS.serviceErrorCode)).toBe("404");
    expect(raw.headers?.get(HEADERS.serviceError)).toBe("SPEAKER_NOT_FOUND: no speaker missing");
    expect(raw.json()).toMatchObject({ code: "SPEAKER_NOT_FOUND", message: "no speaker missing" });

    const err = await request(t.bus, "test.registry.get", JSON.stringify({ speakerId: "missing" })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpeakersError);
    expect(err).toMatchObject({ code: "SPEAKER_NOT_FOUND", status: 404, message: "no speaker missing" });
  });

  it("answers an invalid request with INVALID_REQUEST naming the field, and keeps serving", async () => {
    const err = await request(t.bus, "test.registry.get", JSON.stringify({ speakerId: 42 })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: "INVALID_REQUEST",
      status: 400,
      message: expect.stringContaining("/speakerId"),
    });
    const notJson = await request(t.bus, "test.registry.get", "{{{").catch((e: unknown) => e);
    expect(notJson).toMatchObject({ code: "INVALID_REQUEST" });
    const missingMeta = await request(t.bus, "test.registry.identify", new Uint8Array(10)).catch(
      (e: unknown) => e,
    );
    expect(missingMeta).toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringContaining("Speakers-Meta"),
    });
    const ok = await call(t.bus, "test.registry.get", {
      request: SpeakerIdRequest,
      payload: { speakerId: "still-up" },
      reply: SpeakerSummary,
    });
    expect(ok.id).toBe("still-up");
  });

  it("turns an unexpected error or an invalid reply into INTERNAL", async () => {
    const crash = await request(t.bus, "test.registry.get", JSON.stringify({ speakerId: "crash" })).catch(
      (e: unknown) => e,
    );
    expect(crash).toMatchObject({ code: "INTERNAL", status: 500, message: "database exploded" });
    const badReply = await request(
      t.bus,
      "test.registry.get",
      JSON.stringify({ speakerId: "bad-reply" }),
    ).catch((e: unknown) => e);
    expect(badReply).toMatchObject({ code: "INTERNAL" });
  });

  it("reports no responders as the caller's unavailable code, and a slow reply as TIMEOUT", async () => {
    await expect(request(t.bus, "test.nobody.home", "x")).rejects.toMatchObject({
      code: "WORKER_UNAVAILABLE",
    });
    await expect(
      request(t.bus, "test.nobody.home", "x", { unavailableCode: "BUS_UNAVAILABLE" }),
    ).rejects.toMatchObject({ code: "BUS_UNAVAILABLE" });
    await expect(request(t.bus, "test.registry.slow", "x", { timeoutMs: 200 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
  });

  it("maps an error reply without an ErrorPayload body from its headers", async () => {
    // A responder that was not written against ADR 0001: error headers, but no ErrorPayload body.
    const foreign = t.bus.nc.subscribe("test.foreign", {
      callback: (_err, msg) => {
        const h = natsHeaders();
        h.set(HEADERS.serviceErrorCode, "409");
        h.set(HEADERS.serviceError, "CONFLICT: someone else won");
        msg.respond("not an error payload", { headers: h });
      },
    });
    await expect(request(t.bus, "test.foreign", "x")).rejects.toMatchObject({
      code: "CONFLICT",
      message: "someone else won",
    });
    foreign.unsubscribe();
  });
});

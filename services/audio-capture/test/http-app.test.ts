import { readFileSync } from "node:fs";
import {
  busReadiness,
  createHttpApp,
  DEFAULT_LIMITS,
  type HttpDeps,
  watchBusHealth,
} from "@speakers/audio-capture";
import { devClips, useTestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Routing, query validation and limits of the fastify app, through inject(): no socket needed. */
/** POSTs a FLAC body to the capture endpoint. */
const postFlac = (app: ReturnType<typeof createHttpApp>, url: string, payload: Buffer) =>
  app.inject({ method: "POST", url, payload, headers: { "content-type": "audio/flac" } });

describe("capture HTTP app", () => {
  const t = useTestBus("capture-http-app-test");
  let deps: HttpDeps;
  const flac = readFileSync(devClips()[0]?.path ?? "");

  beforeAll(async () => {
    const health = watchBusHealth(t.bus.nc);
    deps = {
      bus: t.bus,
      health,
      readiness: busReadiness(health),
      limits: { ...DEFAULT_LIMITS, maxBytes: flac.length + 10 },
      logger: t.bus.logger,
      retryAfterS: 7,
      maxInFlight: 2,
    };
  });
  afterAll(async () => {
    deps?.health.stop();
  });

  it("answers unknown routes and wrong methods with typed JSON errors", async () => {
    const app = createHttpApp(deps);
    const missing = await app.inject({ method: "GET", url: "/v2/nothing?x=1" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringContaining("/v2/nothing"),
    });
    const wrong = await app.inject({ method: "GET", url: "/v1/audio?device=a" });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe("POST");
    expect(wrong.json().code).toBe("INVALID_REQUEST");
    await app.close();
  });

  it("validates the query string against its schema before publishing", async () => {
    const app = createHttpApp(deps);
    const res = await postFlac(app, `/v1/audio?device=${"d".repeat(201)}`, flac);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "INVALID_REQUEST", hint: expect.stringContaining("device=") });
    await app.close();
  });

  it("refuses a body over the byte limit with AUDIO_TOO_LONG and a hint that does not blame the worker", async () => {
    const app = createHttpApp(deps);
    const res = await postFlac(app, "/v1/audio?device=big", Buffer.concat([flac, Buffer.alloc(11)]));
    expect(res.statusCode).toBe(413);
    const body = res.json() as { code: string; hint: string };
    expect(body.code).toBe("AUDIO_TOO_LONG");
    expect(body.hint).not.toMatch(/worker/i);
    await app.close();
  });

  it("publishes a clip and reports ready while the bus is up", async () => {
    const app = createHttpApp(deps);
    const res = await postFlac(app, "/v1/audio?device=inject&room=lab", flac);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ subject: "audio.captured.inject", format: { encoding: "flac" } });
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: "ok", bus: "up" });
    await app.close();
  });
});

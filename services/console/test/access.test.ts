import { connectTestBus, startNatsServer, type TestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleConfigFromEnv, createConsole } from "../src/index.js";

/**
 * Who may use the console and what it accepts, through fastify's inject() against a console on a real
 * nats-server (no worker: these requests are refused before anything reaches one).
 */
let t: TestBus;
const TOKEN = "correct-horse-battery-staple";

beforeAll(async () => {
  t = await connectTestBus(await startNatsServer(), "console-access-test");
});
afterAll(async () => {
  await t?.stop();
});

const consoleWith = (env: Record<string, string>) =>
  createConsole({
    bus: t.bus,
    config: consoleConfigFromEnv({ SPEAKERS_CONSOLE_URI: "http://127.0.0.1:0", ...env }),
  });

describe("console configuration", () => {
  it("refuses to listen beyond loopback without a token", () => {
    expect(() => consoleConfigFromEnv({ SPEAKERS_CONSOLE_URI: "http://0.0.0.0:8760" })).toThrow(
      /SPEAKERS_CONSOLE_TOKEN/,
    );
    expect(
      consoleConfigFromEnv({ SPEAKERS_CONSOLE_URI: "http://0.0.0.0:8760", SPEAKERS_CONSOLE_TOKEN: TOKEN }),
    ).toMatchObject({
      host: "0.0.0.0",
      port: 8760,
    });
    expect(consoleConfigFromEnv({})).toMatchObject({ host: "127.0.0.1", port: 8760, token: undefined });
  });
});

describe("loopback console without a token", () => {
  const c = () => consoleWith({});

  it("answers for a loopback host name and refuses another (DNS rebinding)", async () => {
    const { app } = c();
    const ok = await app.inject({ url: "/api/session", headers: { host: "127.0.0.1:8760" } });
    expect(ok.json()).toEqual({ tokenRequired: false, signedIn: true });
    const evil = await app.inject({ url: "/api/session", headers: { host: "attacker.example:8760" } });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error.code).toBe("CONSOLE_REQUEST_FORBIDDEN");
    await app.close();
  });

  it("refuses a state change without the console header or from another origin", async () => {
    const { app } = c();
    const headers = { host: "127.0.0.1:8760", "content-type": "application/json" };
    const bare = await app.inject({ method: "DELETE", url: "/api/speakers/spk_x", headers });
    expect(bare.statusCode).toBe(403);
    expect(bare.json().error.code).toBe("CONSOLE_REQUEST_FORBIDDEN");
    const foreign = await app.inject({
      method: "DELETE",
      url: "/api/speakers/spk_x",
      headers: { ...headers, "x-speakers-console": "1", origin: "http://attacker.example" },
    });
    expect(foreign.statusCode).toBe(403);
    const crossSite = await app.inject({
      method: "DELETE",
      url: "/api/speakers/spk_x",
      headers: { ...headers, "x-speakers-console": "1", "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.statusCode).toBe(403);
    await app.close();
  });

  it("refuses uploads of other types and above the size limit with catalogue codes", async () => {
    const { app } = consoleWith({ SPEAKERS_CONSOLE_MAX_UPLOAD_BYTES: "4096" });
    const headers = { host: "127.0.0.1:8760", "x-speakers-console": "1", origin: "http://127.0.0.1:8760" };
    const upload = (contentType: string, payload: Buffer) =>
      app.inject({
        method: "POST",
        url: "/api/enroll?name=Alice",
        headers: { ...headers, "content-type": contentType },
        payload,
      });
    const pdf = await upload("application/pdf", Buffer.from("%PDF-1.4 not audio"));
    expect(pdf.statusCode).toBe(422);
    expect(pdf.json().error.code).toBe("AUDIO_UNSUPPORTED_FORMAT");
    const big = await upload("audio/wav", Buffer.alloc(8192));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("AUDIO_TOO_LONG");
    const empty = await upload("audio/wav", Buffer.alloc(0));
    expect(empty.json().error.code).toBe("AUDIO_EMPTY");
    await app.close();
  });
});

describe("console with a token", () => {
  it("needs the session cookie the login sets, and the cookie is HttpOnly", async () => {
    const { app } = consoleWith({ SPEAKERS_CONSOLE_TOKEN: TOKEN });
    const host = { host: "192.168.1.20:8760" };
    const before = await app.inject({ url: "/api/speakers", headers: host });
    expect(before.statusCode).toBe(401);
    expect(before.json().error.code).toBe("CONSOLE_LOGIN_REQUIRED");
    expect((await app.inject({ url: "/api/session", headers: host })).json()).toEqual({
      tokenRequired: true,
      signedIn: false,
    });

    const change = { ...host, "x-speakers-console": "1", "content-type": "application/json" };
    const wrong = await app.inject({
      method: "POST",
      url: "/api/login",
      headers: change,
      payload: { token: "nope" },
    });
    expect(wrong.statusCode).toBe(401);
    const login = await app.inject({
      method: "POST",
      url: "/api/login",
      headers: change,
      payload: { token: TOKEN },
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((k) => k.name === "speakers_console_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie?.value).not.toContain(TOKEN);

    const session = await app.inject({
      url: "/api/session",
      headers: host,
      cookies: { speakers_console_session: cookie?.value ?? "" },
    });
    expect(session.json()).toEqual({ tokenRequired: true, signedIn: true });
    // The page itself loads without a session (it holds no data) so that it can show the login form.
    expect((await app.inject({ url: "/", headers: host })).statusCode).toBe(200);
    await app.close();
  });
});

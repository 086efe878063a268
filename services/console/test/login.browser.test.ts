import { connectTestBus, freePort, startNatsServer, type TestBus } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Console, createConsole } from "../src/index.js";
import { openBrowser } from "./support/browser.js";

/**
 * The login page in a real Chromium: the token is traded for a session cookie the page's scripts cannot read.
 * Only a nats-server runs: signing in needs nothing else.
 */
const TOKEN = "a-long-household-console-token";
let t: TestBus;
let web: Console;
let url: string;

beforeAll(async () => {
  t = await connectTestBus(await startNatsServer(), "console-login-test");
  const config = { host: "127.0.0.1", port: await freePort(), token: TOKEN, maxUploadBytes: 1024 * 1024 };
  web = createConsole({ bus: t.bus, config });
  url = await web.listen();
});
afterAll(async () => {
  await web?.close();
  await t?.stop();
});

describe("console login", () => {
  it("asks for the token, refuses a wrong one, and signs in with an HttpOnly cookie", async () => {
    const b = await openBrowser(url, { width: 360 });
    try {
      const { page } = b;
      await page.getByLabel("Console token").waitFor();
      await b.shot("login-360");
      await page.getByLabel("Console token").fill("not the token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator(".error code").filter({ hasText: "CONSOLE_LOGIN_REQUIRED" }).waitFor();
      await page.getByLabel("Console token").fill(TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Pages" }).waitFor();
      await page.locator("main h2").filter({ hasText: "Speakers" }).waitFor();
      // The session cookie exists but scripts cannot see it.
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === "speakers_console_session")).toMatchObject({
        httpOnly: true,
        sameSite: "Strict",
      });
      await expect(page.evaluate<string>("document.cookie")).resolves.toBe("");
      // Reloading keeps the session.
      await page.reload();
      await page.getByRole("navigation", { name: "Pages" }).waitFor();
      // No registry runs here: the page says so with the catalogue's code instead of breaking.
      await page.locator(".error code").filter({ hasText: "WORKER_UNAVAILABLE" }).waitFor();
      await expect(page.locator(".error strong").first().textContent()).resolves.toContain(
        "The registry service is not running",
      );
      // The browser logs the refused token (401) and the registry's absence (503), and nothing else.
      expect(b.errors.filter((e) => !/status of (401|503)/.test(e))).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});

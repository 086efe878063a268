import { basename } from "node:path";
import { publishFiles } from "@speakers/audio-capture";
import { eventually, sleep } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowser, type TestBrowser } from "./support/browser.js";
import { type ConsoleStack, startConsoleStack } from "./support/console-stack.js";
import { whatRemainsOf } from "./support/remains.js";
import { speakers, wavOf } from "./support/speech.js";

/**
 * The console in a real Chromium against the real system on real speech: enroll by microphone (Chromium's fake
 * capture plays dev recordings), watch Live, name an unknown voice, erase a speaker, use it at 360 px.
 */
const voices = [...speakers().values()];
const alice = voices[0] ?? [];
const bob = voices[1] ?? [];
const RECORD_MS = 7_000;

let stack: ConsoleStack;
let b: TestBrowser;

beforeAll(async () => {
  stack = await startConsoleStack();
  b = await openBrowser(stack.url, { wav: wavOf(alice.slice(0, 3)) });
}, 240_000);

afterAll(async () => {
  await b?.close();
  await stack?.stop();
});

const publish = async (file: string, room: string) => {
  const [result] = await publishFiles(stack.bus, [file], { deviceId: `${room}-mic`, room });
  if (!result?.ok) throw new Error(`publish failed: ${JSON.stringify(result)}`);
  return result.id;
};

/** Opens a page of the console (the default browser's tab unless another is given) and returns that tab. */
const visit = async (route: string, page = b.page) => {
  await page.goto(`${stack.url}/#/${route}`);
  return page;
};

describe("the household console", () => {
  it("enrolls a speaker through the Enroll page's microphone, with quality feedback per sample", async () => {
    const page = await visit("enroll");
    await page.getByLabel("Name").fill("Alice");
    for (let i = 1; i <= 3; i++) {
      await page.getByRole("button", { name: `Record phrase ${i}` }).click();
      await sleep(RECORD_MS);
      await page.getByRole("button", { name: `Stop phrase ${i}` }).click();
      await page
        .locator(".feedback li")
        .nth(i - 1)
        .waitFor({ timeout: 120_000 });
    }
    const verdicts = await page
      .locator(".feedback li")
      .evaluateAll((els) =>
        els.map((e) => ({ cls: e.className, code: e.getAttribute("data-code"), text: e.textContent })),
      );
    expect(verdicts, JSON.stringify(verdicts)).toHaveLength(3);
    for (const v of verdicts) {
      expect(v.cls).toContain("accepted");
      expect(v.text).toMatch(/\d\.\d s long/);
    }
    await expect(page.locator(".progress").textContent()).resolves.toContain("enrollment complete");
    await b.shot("enroll-desktop");

    await visit("speakers", page);
    const card = page.locator('.card[data-speaker="Alice"]');
    await card.waitFor();
    await expect(card.locator(".samples").textContent()).resolves.toMatch(/^3/);
    await b.shot("speakers-desktop");
    expect(b.errors).toEqual([]);
  }, 300_000);

  it("shows a clip of that speaker in Live as it is identified, and resumes after a reconnect without repeats", async () => {
    const page = await visit("live");
    await page.locator('.status[data-state="live"]').waitFor();
    const sent = Date.now();
    const id = await publish(alice[4] as string, "kitchen");
    const item = page.locator(`.feed li[data-source="${id}"]`);
    await item.waitFor({ timeout: 60_000 });
    // Reported, not asserted: on a loaded machine wall-clock figures are noise (see the README's figures).
    console.info(`publish -> shown in Live: ${Date.now() - sent} ms`);
    await expect(item.locator(".who").textContent()).resolves.toBe("Alice");
    await expect(item.locator(".where").textContent()).resolves.toContain("kitchen");
    await b.shot("live-desktop");

    await stack.restartConsole();
    const id2 = await publish(alice[5] as string, "hall");
    await page.locator(`.feed li[data-source="${id2}"]`).waitFor({ timeout: 60_000 });
    const seqs = await page
      .locator(".feed li")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-seq")));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toHaveLength(2);
    expect(b.errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource/.test(e))).toEqual([]);
    b.errors.length = 0;
  }, 180_000);

  let bobId = "";
  const bobClips: string[] = [];

  it("keeps an unknown voice, lets it be named, and then identifies that voice", async () => {
    const { page } = b;
    const unknown = await publish(bob[3] as string, "hall");
    bobClips.push(unknown);
    await visit("unknown", page);
    const card = page.locator(`.clip[data-source="${unknown}"]`);
    await eventually(async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      return (await card.count()) > 0 ? true : undefined;
    }, 90_000);
    await b.shot("unknown-desktop");
    // The clip's player loads the kept audio itself.
    const played = await card.locator("audio").evaluate(async (el) => {
      const res = await fetch((el as unknown as { src: string }).src);
      return { type: res.headers.get("content-type"), bytes: (await res.arrayBuffer()).byteLength };
    });
    expect(played.type).toBe("audio/flac");
    expect(played.bytes).toBeGreaterThan(10_000);
    await card.getByLabel("Who is this?").selectOption({ label: "A new speaker…" });
    await card.getByLabel("Name").fill("Bob");
    await card.getByRole("button", { name: "Assign" }).click();
    await page.locator(".notice").filter({ hasText: "Bob" }).waitFor({ timeout: 120_000 });
    await card.waitFor({ state: "detached", timeout: 30_000 });

    await visit("live", page);
    await page.locator('.status[data-state="live"]').waitFor();
    const next = await publish(bob[4] as string, "hall");
    bobClips.push(next);
    const item = page.locator(`.feed li[data-source="${next}"]`);
    await item.waitFor({ timeout: 60_000 });
    await expect(item.locator(".who").textContent()).resolves.toBe("Bob");
    bobId = (await item.getAttribute("data-speaker")) ?? "";
    expect(bobId).not.toBe("");
    expect(b.errors).toEqual([]);
  }, 240_000);

  it("adds an uploaded file as a sample and renames the speaker", async () => {
    const page = await visit("speakers");
    await page.locator('.card[data-speaker="Bob"]').getByRole("link", { name: "Add samples" }).click();
    await expect(page.getByLabel("Name").isDisabled()).resolves.toBe(true);
    // The file goes to the registry as picked (FLAC here), one verdict per file.
    await page.getByLabel(/Choose audio files/).setInputFiles(bob[0] as string);
    const verdict = page.locator(".feedback li").first();
    await verdict.waitFor({ timeout: 120_000 });
    await expect(verdict.getAttribute("class")).resolves.toContain("accepted");
    await expect(verdict.textContent()).resolves.toContain(basename(bob[0] as string));

    await visit("speakers", page);
    const card = page.locator('.card[data-speaker="Bob"]');
    await expect(card.locator(".samples").textContent()).resolves.toMatch(/^2/);
    await card.getByRole("button", { name: "Rename" }).click();
    await card.getByLabel("New name").fill("Robert");
    await card.getByRole("button", { name: "Save" }).click();
    await page.locator('.card[data-speaker="Robert"]').waitFor();
    expect(b.errors).toEqual([]);
  }, 180_000);

  it("erases a speaker from the Speakers page, and nothing of them remains in NATS", async () => {
    const page = await visit("speakers");
    const card = page.locator('.card[data-speaker="Robert"]');
    await card.getByRole("button", { name: "Erase" }).click();
    const dialog = card.locator("dialog");
    await expect(dialog.locator(".erase-summary").textContent()).resolves.toMatch(
      /2 enrollment samples, 1 voiceprint and 2 stored recordings/,
    );
    await b.shot("erase-confirm-desktop");
    await dialog.getByRole("button", { name: "Erase everything" }).click();
    await page.locator(".notice").filter({ hasText: "Erased Robert" }).waitFor({ timeout: 120_000 });
    await card.waitFor({ state: "detached", timeout: 30_000 });
    expect(await whatRemainsOf(stack.bus, bobId, bobClips)).toEqual([]);
    expect(b.errors).toEqual([]);
  }, 180_000);

  it("shows the live model's threshold and margin on Calibration, and the worker on System", async () => {
    const page = await visit("calibration");
    const model = page.locator('.model[data-model="resemblyzer/ge2e@0.1.4"]');
    await model.waitFor({ timeout: 30_000 });
    // GE2E's policy in the registry (model-policy.ts): the values the registry decides with, read from its STATS.
    await expect(model.locator("dd.threshold").textContent()).resolves.toBe("0.840");
    await expect(model.locator("dd.margin").textContent()).resolves.toBe("0.030");
    await b.shot("calibration-desktop");
    await visit("system", page);
    await page.locator(".summary .model").waitFor();
    await expect(page.locator(".summary .model").textContent()).resolves.toBe("resemblyzer/ge2e@0.1.4");
    await expect(page.locator(".summary .workers").textContent()).resolves.toBe("1");
    await page.locator('.stream[data-stream="AUDIO"]').waitFor();
    await b.shot("system-desktop");
    expect(b.errors).toEqual([]);
  }, 60_000);

  it("is usable at 360 px and by keyboard on every page", async () => {
    const small = await openBrowser(stack.url, { width: 360 });
    try {
      for (const name of ["speakers", "enroll", "live", "unknown", "calibration", "system"]) {
        await small.page.goto(`${stack.url}/#/${name}`);
        await small.page.locator("main h2").waitFor();
        // Each page has loaded once nothing says "Loading…" any more.
        await small.page.locator(".loading").waitFor({ state: "detached", timeout: 30_000 });
        const overflow = await small.page.evaluate<number>(
          "document.documentElement.scrollWidth - window.innerWidth",
        );
        expect(overflow, name).toBeLessThanOrEqual(0);
        await small.shot(`${name}-360`);
      }
      // Keyboard: Tab reaches the page links in order and Enter follows one.
      await small.page.goto(`${stack.url}/#/speakers`);
      await small.page.locator("main h2").waitFor();
      let focused = "";
      for (let i = 0; i < 10 && focused !== "Live"; i++) {
        await small.page.keyboard.press("Tab");
        focused = await small.page.evaluate<string>('document.activeElement?.textContent ?? ""');
      }
      expect(focused).toBe("Live");
      await small.page.keyboard.press("Enter");
      // The route follows the hashchange event, which fires after Enter returns: wait for the new page's heading
      // rather than read the old one.
      await small.page
        .locator("main h2")
        .filter({ hasText: /^Live$/ })
        .waitFor({ timeout: 30_000 });
      expect(small.errors).toEqual([]);
    } finally {
      await small.close();
    }
  }, 120_000);
});

import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's chromium (scripts/setup.sh installs it); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Screenshots land outside the repo: $SPEAKERS_ARTIFACTS_DIR, else <tmp>/speakers-console-artifacts. */
export const ARTIFACTS = process.env.SPEAKERS_ARTIFACTS_DIR ?? join(tmpdir(), "speakers-console-artifacts");

export interface TestBrowser {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium whose microphone plays `wav` (Chromium's fake capture), as root with --no-sandbox. */
export async function openBrowser(
  url: string,
  options: { wav?: string; width?: number } = {},
): Promise<TestBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const args = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"];
  if (options.wav) args.push(`--use-file-for-fake-audio-capture=${options.wav}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    permissions: ["microphone"],
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  await page.goto(url);
  return {
    browser,
    page,
    errors,
    async shot(name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => browser.close(),
  };
}

/**
 * `pnpm demo [--audio <dir>] [--enroll N] [--speakers K] [--strangers S] [--json]`: a throwaway stack (embedded nats-server in a temp
 * folder, free ports), each folder's speaker enrolled from its first N files, the rest streamed through HTTP
 * capture, every identification printed as it arrives, then a summary. Nothing touches ./data.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultAudioDir, speakerFolders } from "./audio-folders.js";
import { type DemoResult, type DemoSummary, runDemo } from "./demo.js";
import { createStackLogger } from "./logging.js";
import { ms } from "./stats.js";
import { reportFailure, throwawayStack } from "./throwaway.js";

const { values } = parseArgs({
  options: {
    audio: { type: "string" },
    enroll: { type: "string", default: "3" },
    speakers: { type: "string" },
    strangers: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const audioDir = resolve(values.audio ?? defaultAudioDir());
const enroll = positive(values.enroll, "--enroll");
const limit = values.speakers === undefined ? undefined : positive(values.speakers, "--speakers");
const strangers = values.strangers === "0" ? 0 : positive(values.strangers, "--strangers");
const folders = speakerFolders(audioDir).slice(0, limit);
if (folders.length === 0) {
  process.stderr.write(`no speaker folders with audio in ${audioDir} (expected <dir>/<speaker>/*.flac)\n`);
  process.exit(2);
}

const out = (line = "") => process.stdout.write(`${line}\n`);
// The demo's own output is the point; the services only speak up when something is wrong.
const logger = createStackLogger("demo", { level: "warn" });
const { stack, dataDir, dispose } = throwawayStack(logger);
let code = 0;
try {
  out(`Starting a throwaway stack (data in ${dataDir}) ...`);
  const urls = await stack.start();
  out(
    `Enrolling ${folders.length - strangers} speakers from ${audioDir}, ${enroll} files each${
      strangers ? ` (${strangers} more never enrolled: their clips should come back unknown)` : ""
    }:`,
  );
  const summary = await runDemo({
    bus: stack.bus,
    captureUrl: urls.capture,
    speakers: folders,
    enroll,
    strangers,
    onEnrolled: (e) =>
      out(
        `  ${e.speaker.padEnd(12)} ${e.enrolled ? "enrolled" : "NOT enrolled"} (${e.accepted} accepted, ${e.rejected} rejected)${
          e.error ? `  ${e.error}` : ""
        }`,
      ),
    onResult: (() => {
      let first = true;
      return (r: DemoResult) => {
        if (first) {
          first = false;
          out(`\nStreaming the other files through ${urls.capture}/v1/audio:`);
          out(
            `  ${"file".padEnd(26)}${"truth".padEnd(10)}${"decision".padEnd(10)}${"speaker".padEnd(10)}${"score".padStart(7)}${"latency".padStart(10)}${"model".padStart(9)}`,
          );
        }
        out(
          `  ${r.file.padEnd(26)}${r.truth.padEnd(10)}${r.decision.padEnd(10)}${(r.speaker ?? "-").padEnd(10)}${(r.score?.toFixed(3) ?? "-").padStart(7)}${`${ms(r.latencyMs)} ms`.padStart(10)}${`${ms(r.computeMs)} ms`.padStart(9)}  ${r.correct ? "ok" : "MISS"}`,
        );
      };
    })(),
  });
  printSummary(summary);
  if (values.json) out(JSON.stringify(summary));
} catch (err) {
  code = reportFailure("demo", err);
} finally {
  await dispose();
}
process.exit(code);

function printSummary(s: DemoSummary): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  out("\nSummary");
  out(`  speakers enrolled   ${s.enrolled}`);
  out(`  clips identified    ${s.clips}  (in ${(s.wallMs / 1000).toFixed(1)} s, enrollment included)`);
  out(
    `  accuracy            ${pct(s.accuracy)}  (${s.correct} right, ${s.wrong} wrong name, ${s.unknown} unknown, ${s.failed} failed)`,
  );
  out(`  unknown rate        ${pct(s.unknownRate)}`);
  out(
    `  latency             p50 ${ms(s.latencyMs.p50)} ms  p95 ${ms(s.latencyMs.p95)} ms  p99 ${ms(s.latencyMs.p99)} ms  (upload sent -> speaker.identified)`,
  );
  out(
    `  model time          p50 ${ms(s.computeMs.p50)} ms  p95 ${ms(s.computeMs.p95)} ms  p99 ${ms(s.computeMs.p99)} ms  (worker computeMs)`,
  );
}

function positive(text: string | undefined, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${flag} must be a positive integer (got ${text})\n`);
    process.exit(2);
  }
  return n;
}

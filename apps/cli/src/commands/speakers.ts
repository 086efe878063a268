/** identify, verify, list, rename, delete: one request each, printed for people or as JSON. */

import { registryClient } from "@speakers/registry-client";
import type { EmbeddedStack } from "../embedded-stack.js";
import type { Output } from "../output.js";

interface JsonOption {
  json?: boolean;
}

/** The reply as indented JSON with --json, else as `text` words it. */
function printReply<R>(out: Output, o: JsonOption, reply: R, text: (reply: R) => string): void {
  out.out(o.json ? JSON.stringify(reply, null, 2) : text(reply));
}

/** The registry client and the speaker a command names (SPEAKER_NOT_FOUND when nobody has that name). */
async function named(stack: EmbeddedStack, name: string) {
  const client = registryClient(stack.bus);
  return { client, speaker: await client.byName(name) };
}

export async function identifyCommand(stack: EmbeddedStack, out: Output, file: string, o: JsonOption) {
  const r = await registryClient(stack.bus).identifyFile(file);
  if (o.json) return out.out(JSON.stringify(r, null, 2));
  const who =
    r.decision === "known"
      ? `${r.speaker?.name} (${r.speaker?.id})`
      : `unknown${r.reason ? ` (${r.reason})` : ""}`;
  out.out(
    `${who}: score ${r.score.toFixed(3)}, margin ${r.margin.toFixed(3)} (threshold ${r.threshold}, margin ${r.marginThreshold})`,
  );
  for (const c of r.candidates) out.out(`  ${c.score.toFixed(3)}  ${c.name}`);
}

export async function verifyCommand(
  stack: EmbeddedStack,
  out: Output,
  name: string,
  file: string,
  o: JsonOption,
) {
  const { client, speaker } = await named(stack, name);
  const r = await client.verifyFile(speaker.id, file);
  if (o.json) return out.out(JSON.stringify(r, null, 2));
  out.out(
    `${r.match ? "match" : "no match"}: ${r.name}, score ${r.score.toFixed(3)} (threshold ${r.threshold})`,
  );
  process.exitCode = r.match ? 0 : 3;
}

export async function listCommand(stack: EmbeddedStack, out: Output, o: JsonOption) {
  const r = await registryClient(stack.bus).list();
  if (o.json) return out.out(JSON.stringify(r, null, 2));
  if (r.speakers.length === 0)
    return out.out("No speakers enrolled yet. Enroll one with: speakers enroll <name> <files...>");
  for (const s of r.speakers) {
    out.out(
      `${s.name.padEnd(24)} ${s.id}  ${s.samples} sample(s)${s.complete ? "" : "  (needs more speech)"}`,
    );
  }
}

export async function renameCommand(
  stack: EmbeddedStack,
  out: Output,
  name: string,
  newName: string,
  o: JsonOption,
) {
  const { client, speaker } = await named(stack, name);
  printReply(
    out,
    o,
    await client.rename(speaker.id, newName),
    (r) => `Renamed ${speaker.name} to ${r.name} (${r.id}).`,
  );
}

export async function deleteCommand(stack: EmbeddedStack, out: Output, name: string, o: JsonOption) {
  const { client, speaker } = await named(stack, name);
  printReply(
    out,
    o,
    await client.remove(speaker.id),
    (r) =>
      `Erased ${r.name} (${r.speakerId}): ${r.erased.samples} sample(s), ${r.erased.voiceprints} voiceprint(s), ${r.erased.clips} audio clip(s).`,
  );
}

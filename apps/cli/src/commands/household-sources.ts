/**
 * `speakers adaptation on|off|show` (opt-in voiceprint adaptation, per model) and `speakers cohort
 * import|show|clear` (the AS-norm cohort's imported bank and unknown voices), ADR 0003.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  type AdaptationReply,
  type CohortReply,
  type ModelRef,
  modelKey,
  resolveModel,
  SpeakersError,
} from "@speakers/events";
import { registryClient } from "@speakers/registry-client";
import type { Command } from "commander";
import type { EmbeddedStack } from "../embedded-stack.js";
import type { Output } from "../output.js";
import type { WithStack } from "./replay.js";

/** Vectors per request: a chunk stays far below the NATS max payload. */
const CHUNK = 64;

export function formatAdaptation(r: AdaptationReply): string {
  return `Adaptation for ${modelKey(r.model)}: ${r.enabled ? "on" : "off"} (${r.source === "setting" ? "this model's setting" : "SPEAKERS_ADAPTATION, no setting stored"}); ${r.adaptedSamples} adapted sample(s), at most ${r.capPerSpeaker} per speaker.`;
}

export function formatCohort(r: CohortReply): string {
  const bank =
    r.imported === 0
      ? "no imported bank"
      : `${r.imported} imported vector(s)${r.label ? ` from ${r.label}` : ""} (${r.importedAt})`;
  return `Cohort of ${modelKey(r.model)} beside the enrolled samples: ${bank}; ${r.unknown} of at most ${r.unknownCap} unknown voice(s).`;
}

const modelOf = (o: { model?: string }): ModelRef | undefined =>
  o.model === undefined ? undefined : { ...resolveModel(o.model) };

export function registerHouseholdSourceCommands(program: Command, out: Output, withStack: WithStack): void {
  /** A subcommand of `parent` about one model (`--model`, default the live one) printing the reply `ask` gets. */
  function perModel<R>(
    parent: Command,
    name: string,
    text: string,
    ask: (stack: EmbeddedStack, model: ModelRef | undefined) => Promise<R>,
    format: (reply: R) => string,
  ): void {
    parent
      .command(name)
      .description(text)
      .option("--model <model>", "ecapa, ge2e or a model key (default: the live model)")
      .option("--json", "print the reply as JSON")
      .action(
        withStack(async (stack, o: { model?: string; json?: boolean }) => {
          const reply = await ask(stack, modelOf(o));
          out.out(o.json ? JSON.stringify(reply) : format(reply));
        }),
      );
  }

  const adaptation = program
    .command("adaptation")
    .description(
      "opt-in voiceprint adaptation: identifications well above the calibrated threshold become samples",
    );
  for (const [name, enabled, text] of [
    ["on", true, "switch adaptation on for a model"],
    ["off", false, "switch adaptation off for a model (adapted samples stay until the speaker is erased)"],
    ["show", undefined, "print whether a model adapts and how many samples it adapted"],
  ] as const) {
    perModel(
      adaptation,
      name,
      text,
      (stack, model) =>
        registryClient(stack.bus).adaptation({
          ...(model === undefined ? {} : { model }),
          ...(enabled === undefined ? {} : { enabled }),
        }),
      formatAdaptation,
    );
  }

  const cohort = program.command("cohort").description("the AS-norm cohort beside the enrolled speakers");
  cohort
    .command("import")
    .description("import a cohort bank: a JSON array of vectors (or {vectors: [...]}) or a float32/64 .npy")
    .argument("<file>")
    .option("--model <model>", "the model the vectors come from (default: the live model)")
    .option("--json", "print the reply as JSON")
    .action(
      withStack(async (stack, file: string, o: { model?: string; json?: boolean }) => {
        const vectors = await readVectors(file);
        const client = registryClient(stack.bus);
        const model = modelOf(o);
        let reply: CohortReply | undefined;
        for (let i = 0; i < vectors.length; i += CHUNK) {
          reply = await client.cohortImport({
            ...(model === undefined ? {} : { model }),
            vectors: vectors.slice(i, i + CHUNK),
            replace: i === 0,
            label: basename(file),
          });
        }
        const done = reply as CohortReply;
        out.out(o.json ? JSON.stringify(done) : formatCohort(done));
      }),
    );
  for (const [name, text] of [
    ["show", "print what the cohort holds beside the enrolled samples"],
    ["clear", "forget the imported bank and the unknown voices kept for the cohort"],
  ] as const) {
    perModel(
      cohort,
      name,
      text,
      (stack, model) =>
        name === "clear"
          ? registryClient(stack.bus).cohortClear(model)
          : registryClient(stack.bus).cohort(model),
      formatCohort,
    );
  }
}

/** A JSON array of vectors, `{ "vectors": [...] }`, or a 2-D little-endian float32/float64 .npy. */
export async function readVectors(file: string): Promise<number[][]> {
  const bytes = await readFile(file);
  const vectors = file.toLowerCase().endsWith(".npy") ? parseNpy(bytes) : parseJson(bytes.toString("utf8"));
  if (vectors.length === 0) throw bad(file, "it holds no vectors");
  const dim = vectors[0]?.length ?? 0;
  if (!vectors.every((v) => v.length === dim && v.every(Number.isFinite))) {
    throw bad(file, "every vector must have the same length and only finite numbers");
  }
  return vectors;
}

function bad(file: string, why: string): SpeakersError {
  return new SpeakersError("INVALID_REQUEST", `${file} is not a cohort bank: ${why}.`, {
    hint: "Give a JSON array of equal-length number arrays, or a 2-D float32/float64 .npy file.",
  });
}

function parseJson(text: string): number[][] {
  const data: unknown = JSON.parse(text);
  const list = Array.isArray(data) ? data : (data as { vectors?: unknown } | null)?.vectors;
  if (!Array.isArray(list) || !list.every((v) => Array.isArray(v) && v.every((x) => typeof x === "number"))) {
    throw bad("the file", "expected an array of number arrays");
  }
  return list as number[][];
}

/** NPY format 1.0-3.0: magic, version, header length, a Python dict header, then the data. */
function parseNpy(bytes: Buffer): number[][] {
  if (bytes.subarray(0, 6).toString("latin1") !== "\x93NUMPY") throw bad("the file", "no NPY magic");
  const major = bytes[6] ?? 1;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLength).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
  if (/'fortran_order':\s*True/.test(header)) throw bad("the file", "Fortran order is not supported");
  if (shape === null || (descr !== "<f4" && descr !== "<f8")) {
    throw bad("the file", "expected a 2-D little-endian float32 or float64 array");
  }
  const rows = Number(shape[1]);
  const cols = Number(shape[2]);
  const data = bytes.subarray(start + headerLength);
  const width = descr === "<f4" ? 4 : 8;
  if (data.length < rows * cols * width) throw bad("the file", "the data is shorter than its shape");
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const at = (r * cols + c) * width;
      row.push(width === 4 ? data.readFloatLE(at) : data.readDoubleLE(at));
    }
    out.push(row);
  }
  return out;
}

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AudioEncodingSchema, TRANSCRIPT_MAX_LENGTH } from "./audio.js";
import { CATALOG } from "./catalog.js";
import type { ContractDefinition } from "./define.js";
import { ERRORS } from "./errors.js";
import { HEADERS } from "./headers.js";
import { AUDIO_LIMITS } from "./limits.js";
import { MODELS } from "./model.js";
import {
  CONSUMERS,
  INLINE_AUDIO_LIMIT_BYTES,
  KV_BUCKETS,
  OBJECT_STORES,
  SERVICES,
  STREAMS,
} from "./topology.js";

/** Where the exported contract lives, relative to the repository root. */
export const SCHEMA_DIR = "packages/events/schemas";
export const FIXTURE_DIR = `${SCHEMA_DIR}/fixtures`;
export const ERRORS_DOC = "docs/errors.md";
export const EVENTS_DOC = "docs/events.md";

const JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema";
const GENERATED =
  "<!-- Generated from packages/events by `pnpm schemas`; edit the source, not this file. -->";

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function schemaDocument(entry: ContractDefinition): Record<string, unknown> {
  const meta =
    entry.kind === "event"
      ? { kind: entry.kind, body: entry.body, stream: entry.stream, filter: entry.filter }
      : { kind: entry.kind, body: entry.body };
  return {
    $schema: JSON_SCHEMA_DRAFT,
    $id: entry.typeId,
    title: entry.name,
    description: entry.description,
    "x-speakers": meta,
    ...entry.schema,
  };
}

function topology(entries: readonly ContractDefinition[]): Record<string, unknown> {
  return {
    streams: STREAMS,
    consumers: CONSUMERS,
    kvBuckets: KV_BUCKETS,
    objectStores: OBJECT_STORES,
    inlineAudioLimitBytes: INLINE_AUDIO_LIMIT_BYTES,
    audioLimits: { ...AUDIO_LIMITS, formats: AudioEncodingSchema.anyOf.map((literal) => literal.const) },
    transcriptMaxLength: TRANSCRIPT_MAX_LENGTH,
    headers: HEADERS,
    services: SERVICES,
    models: MODELS,
    definitions: Object.fromEntries(
      entries.map((entry) => [
        entry.name,
        entry.kind === "event"
          ? {
              kind: entry.kind,
              typeId: entry.typeId,
              body: entry.body,
              stream: entry.stream,
              filter: entry.filter,
            }
          : { kind: entry.kind, typeId: entry.typeId, body: entry.body },
      ]),
    ),
  };
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function errorsDoc(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, entry]) => `| \`${code}\` | ${entry.status} | ${cell(entry.message)} | ${cell(entry.hint)} |`,
  );
  return [
    GENERATED,
    "",
    "# Error codes",
    "",
    "Every error carries one of these stable codes: in `ErrorPayload.code`, in `embedding.failed`, and in",
    "service error replies (`Nats-Service-Error: <CODE>: <message>`, `Nats-Service-Error-Code: <status>`).",
    "Codes are never renamed or reused.",
    "",
    "| Code | Status | Meaning | What to do |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

function eventsDoc(entries: readonly ContractDefinition[]): string {
  const events = entries.flatMap((entry) =>
    entry.kind === "event"
      ? [
          `| ${entry.name} | \`${entry.typeId}\` | \`${entry.filter}\` | ${entry.stream} | ${entry.body} | ${cell(entry.description)} |`,
        ]
      : [],
  );
  const messages = entries.flatMap((entry) =>
    entry.kind === "message"
      ? [`| ${entry.name} | \`${entry.typeId}\` | ${entry.body} | ${cell(entry.description)} |`]
      : [],
  );
  return [
    GENERATED,
    "",
    "# Events and messages",
    "",
    "Schemas: `packages/events/schemas/<Name>.schema.json`; examples: `packages/events/schemas/fixtures/<Name>.json`.",
    "Body `audio` means the audio is the message body and the payload rides in the `Speakers-Meta` header.",
    "",
    "## Stream events",
    "",
    "| Name | Type id | Subject | Stream | Body | What it says |",
    "| --- | --- | --- | --- | --- | --- |",
    ...events,
    "",
    "## Request/reply payloads",
    "",
    "| Name | Type id | Body | What it is |",
    "| --- | --- | --- | --- |",
    ...messages,
    "",
  ].join("\n");
}

/** Every generated file, keyed by its path relative to the repository root. */
export function renderContract(entries: readonly ContractDefinition[] = CATALOG): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of entries) {
    files.set(`${SCHEMA_DIR}/${entry.name}.schema.json`, json(schemaDocument(entry)));
    files.set(`${FIXTURE_DIR}/${entry.name}.json`, json(entry.fixture));
  }
  files.set(`${SCHEMA_DIR}/error-codes.json`, json(ERRORS));
  files.set(`${SCHEMA_DIR}/topology.json`, json(topology(entries)));
  files.set(ERRORS_DOC, errorsDoc());
  files.set(EVENTS_DOC, eventsDoc(entries));
  return files;
}

/** Writes the generated files under `root`; returns the paths written. */
export function writeContract(root: string, entries: readonly ContractDefinition[] = CATALOG): string[] {
  const files = renderContract(entries);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return [...files.keys()];
}

export interface Drift {
  readonly path: string;
  /** changed: differs from the source; missing: not generated yet; stale: generated for a definition that is gone. */
  readonly reason: "changed" | "missing" | "stale";
}

function generatedFilesOnDisk(root: string): string[] {
  const found: string[] = [];
  for (const dir of [SCHEMA_DIR, FIXTURE_DIR]) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir))) {
      if (name.endsWith(".json")) found.push(`${dir}/${name}`);
    }
  }
  return found;
}

/** How the files under `root` differ from what the TypeBox source generates; empty when in sync. */
export function findDrift(root: string, entries: readonly ContractDefinition[] = CATALOG): Drift[] {
  const files = renderContract(entries);
  const drift: Drift[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    if (!existsSync(full)) drift.push({ path, reason: "missing" });
    else if (readFileSync(full, "utf8") !== content) drift.push({ path, reason: "changed" });
  }
  for (const path of generatedFilesOnDisk(root)) {
    if (!files.has(path)) drift.push({ path, reason: "stale" });
  }
  return drift;
}

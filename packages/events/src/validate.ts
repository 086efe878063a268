import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { VECTOR_DIM_KEYWORD } from "./common.js";
import type { ContractDefinition, PayloadOf } from "./define.js";
import { SpeakersError } from "./errors.js";

export interface ValidationIssue {
  /** JSON pointer to the offending value, "" for the root. */
  readonly path: string;
  readonly message: string;
}

const MAX_ISSUES = 10;
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pointerGet(root: unknown, pointer: string): unknown {
  let current = root;
  for (const token of pointer.split("/").slice(1)) {
    if (!isRecord(current)) return undefined;
    current = current[token.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return current;
}

/** Enforces VECTOR_DIM_KEYWORD wherever it annotates a schema, on a value that already matches the schema. */
function vectorDimIssues(schema: TSchema, value: unknown, path: string, out: ValidationIssue[]): void {
  const rule = (schema as Record<string, unknown>)[VECTOR_DIM_KEYWORD] as
    | { vector: string; dim: string }
    | undefined;
  if (rule !== undefined) {
    const vector = pointerGet(value, rule.vector);
    const dim = pointerGet(value, rule.dim);
    if (Array.isArray(vector) && typeof dim === "number" && vector.length !== dim) {
      out.push({
        path: `${path}${rule.vector}`,
        message: `Expected ${dim} numbers (${rule.dim}), got ${vector.length}`,
      });
    }
  }
  if (Array.isArray(schema.anyOf)) {
    const branch = (schema.anyOf as TSchema[]).find((candidate) => checkerFor(candidate).Check(value));
    if (branch !== undefined) vectorDimIssues(branch, value, path, out);
  }
  if (isRecord(schema.properties) && isRecord(value)) {
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      if (key in value) vectorDimIssues(child, value[key], `${path}/${key}`, out);
    }
  }
  if (isRecord(schema.items) && Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      vectorDimIssues(schema.items as TSchema, item, `${path}/${index}`, out);
    }
  }
}

/** Every way `value` breaks the definition's contract (at most a few), or an empty list. */
export function validationIssues(definition: ContractDefinition, value: unknown): ValidationIssue[] {
  const check = checkerFor(definition.schema);
  const issues: ValidationIssue[] = [];
  if (!check.Check(value)) {
    const seen = new Set<string>();
    for (const error of check.Errors(value)) {
      // TypeBox reports a missing property both as missing and as the wrong type; the first says enough.
      if (seen.has(error.path)) continue;
      seen.add(error.path);
      issues.push({ path: error.path, message: error.message });
      if (issues.length >= MAX_ISSUES) break;
    }
    return issues;
  }
  vectorDimIssues(definition.schema, value, "", issues);
  return issues;
}

function invalid(
  definition: ContractDefinition,
  issues: readonly ValidationIssue[],
  cause?: unknown,
): SpeakersError {
  const code = definition.kind === "event" ? "INVALID_EVENT" : "INVALID_REQUEST";
  const where = issues.map((issue) => `${issue.path || "/"}: ${issue.message}`).join("; ");
  return new SpeakersError(code, `${definition.name} is invalid: ${where}`, {
    details: { typeId: definition.typeId, issues: issues.map((issue) => ({ ...issue })) },
    cause,
  });
}

/** `value` typed as the definition's payload; throws INVALID_EVENT (events) or INVALID_REQUEST with the paths. */
export function validate<D extends ContractDefinition>(definition: D, value: unknown): PayloadOf<D> {
  const issues = validationIssues(definition, value);
  if (issues.length > 0) throw invalid(definition, issues);
  return value as PayloadOf<D>;
}

export function isValid<D extends ContractDefinition>(definition: D, value: unknown): value is PayloadOf<D> {
  return validationIssues(definition, value).length === 0;
}

function parse(definition: ContractDefinition, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(definition, [{ path: "", message: `Not JSON: ${(error as Error).message}` }], error);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The message body of a JSON payload, validated first so nothing invalid is ever published. */
export function encodeJson<D extends ContractDefinition>(definition: D, payload: PayloadOf<D>): Uint8Array {
  return encoder.encode(JSON.stringify(validate(definition, payload)));
}

export function decodeJson<D extends ContractDefinition>(
  definition: D,
  body: Uint8Array | string,
): PayloadOf<D> {
  let text: string;
  try {
    text = typeof body === "string" ? body : decoder.decode(body);
  } catch (error) {
    throw invalid(definition, [{ path: "", message: "Body is not UTF-8" }], error);
  }
  return validate(definition, parse(definition, text));
}

/**
 * The `Speakers-Meta` header value of an audio message: JSON with every non-ASCII character escaped,
 * so transcripts in any language survive header transports that only promise ASCII.
 */
export function encodeMeta<D extends ContractDefinition>(definition: D, payload: PayloadOf<D>): string {
  return JSON.stringify(validate(definition, payload)).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function decodeMeta<D extends ContractDefinition>(
  definition: D,
  header: string | undefined,
): PayloadOf<D> {
  if (header === undefined || header === "") {
    throw invalid(definition, [{ path: "", message: "Missing Speakers-Meta header" }]);
  }
  return validate(definition, parse(definition, header));
}

/**
 * Which files of each speaker folder `speakers eval` enrolls and which it identifies: the first N by name
 * (default), the files whose name matches `--enroll-glob` (the rest are tests), or the roles a
 * `--manifest` CSV gives them (a `role` or `split` column saying enroll or test; files it does not name, or
 * gives another role, take no part).
 */
import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { SpeakersError } from "@speakers/events";
import type { SpeakerFiles } from "./dataset.js";

export interface SplitSpeaker {
  speaker: string;
  enroll: string[];
  test: string[];
}

export type EnrollSelection =
  | { by: "first"; count: number }
  | { by: "glob"; glob: string }
  | { by: "manifest"; file: string };

export function splitDataset(dataset: readonly SpeakerFiles[], selection: EnrollSelection): SplitSpeaker[] {
  switch (selection.by) {
    case "first":
      return dataset.map((s) => ({
        speaker: s.speaker,
        enroll: s.files.slice(0, selection.count),
        test: s.files.slice(selection.count),
      }));
    case "glob": {
      const match = globMatcher(selection.glob);
      return dataset.map((s) => ({
        speaker: s.speaker,
        enroll: s.files.filter((f) => match(basename(f))),
        test: s.files.filter((f) => !match(basename(f))),
      }));
    }
    case "manifest": {
      const roles = readManifest(selection.file);
      return dataset.map((s) => ({
        speaker: s.speaker,
        enroll: s.files.filter((f) => roles.get(real(f)) === "enroll"),
        test: s.files.filter((f) => roles.get(real(f)) === "test"),
      }));
    }
  }
}

/**
 * A file-name pattern: `*` any run of characters, `?` one, `[abc]` / `[a-z]` / `[!abc]` a class; everything
 * else literal. Names only (no `/`), which is all a per-folder selection needs.
 */
export function globMatcher(glob: string): (name: string) => boolean {
  if (glob === "" || glob.includes("/")) {
    throw new SpeakersError("INVALID_REQUEST", `--enroll-glob "${glob}" must be a file-name pattern.`, {
      hint: 'Match names inside each speaker folder, e.g. --enroll-glob "a-enroll-*".',
    });
  }
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) source += "\\[";
      else {
        const body = glob.slice(i + 1, end);
        const negated = body.startsWith("!");
        const chars = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&");
        source += `[${negated ? "^" : ""}${chars}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

/** Absolute path -> role, from a CSV with a `path` column (relative to the manifest's folder) and a role. */
export function readManifest(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new SpeakersError("AUDIO_PATH_NOT_FOUND", `The manifest ${file} cannot be read.`, { cause });
  }
  const rows = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .map(csvFields);
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  const pathAt = header.indexOf("path");
  const roleAt = ["role", "split"].map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  if (pathAt < 0 || roleAt < 0) {
    throw new SpeakersError("INVALID_REQUEST", `The manifest ${file} needs a "path" and a "role" column.`, {
      hint: "A CSV header like path,speaker,role with role enroll or test (a split column works too).",
      details: { columns: header },
    });
  }
  const root = dirname(resolve(file));
  const out = new Map<string, string>();
  for (const row of rows.slice(1)) {
    const path = row[pathAt]?.trim();
    const role = row[roleAt]?.trim().toLowerCase();
    if (path && role) out.set(real(resolve(root, path)), role === "train" ? "enroll" : role);
  }
  return out;
}

/** Files compare by real path: the dataset folder or the manifest may be reached through a symlink. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** One CSV line's fields (RFC 4180 quoting; a quoted field holds no newline here). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}

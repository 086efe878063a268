import { ERRORS, isErrorCode, isSpeakersError } from "@speakers/events";

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Any failure as two short lines: what went wrong (with its stable code) and what to do. */
export function describeError(err: unknown): string {
  if (isSpeakersError(err)) {
    const hint = err.hint || (isErrorCode(err.code) ? ERRORS[err.code].hint : "");
    return `error ${err.code}: ${err.message}${hint ? `\n  hint: ${hint}` : ""}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

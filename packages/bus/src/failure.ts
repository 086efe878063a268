import { type ErrorCode, isSpeakersError } from "@speakers/events";

/** Marks an error that retrying cannot fix (bad input, not a flaky dependency): it is dead-lettered at once. */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
  readonly permanent = true;
}

/** A SpeakersError with a 4xx status is about the input itself, so redelivering it would fail the same way. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentError) return true;
  if (isSpeakersError(err)) return err.status >= 400 && err.status < 500;
  return false;
}

export function errorCode(err: unknown): ErrorCode {
  return isSpeakersError(err) ? err.code : "INTERNAL";
}

/** Exponential backoff with ±20% jitter, so redeliveries of many failed messages do not arrive in step. */
export function backoffDelay(deliveryCount: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, deliveryCount - 1));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

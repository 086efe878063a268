import { SpeakersError } from "@speakers/events";

export const DEFAULT_CONSOLE_URI = "http://127.0.0.1:8760";

/** Upload limits: a few minutes of WAV per sample is plenty for enrollment; the registry caps samples too. */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export interface ConsoleConfig {
  /** Where to listen (`http://host:port`; port 0 picks a free one). */
  host: string;
  port: number;
  /** Required unless the console listens on loopback only; the login page trades it for a session cookie. */
  token: string | undefined;
  maxUploadBytes: number;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * SPEAKERS_CONSOLE_URI (default http://127.0.0.1:8760), SPEAKERS_CONSOLE_TOKEN, SPEAKERS_CONSOLE_MAX_UPLOAD_BYTES.
 * A console reachable from other machines without a token would let anyone on the network erase the family's
 * voices, so that combination refuses to start.
 */
export function consoleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const raw = env.SPEAKERS_CONSOLE_URI || DEFAULT_CONSOLE_URI;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new SpeakersError("INVALID_REQUEST", `SPEAKERS_CONSOLE_URI=${raw} is not a URL.`, { cause });
  }
  if (url.protocol !== "http:") {
    throw new SpeakersError("INVALID_REQUEST", `SPEAKERS_CONSOLE_URI must be http://host:port, not ${raw}.`, {
      hint: "Put a TLS-terminating proxy in front of the console for HTTPS.",
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? 80 : Number(url.port);
  const token = env.SPEAKERS_CONSOLE_TOKEN || undefined;
  if (!isLoopbackHost(host) && token === undefined) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      `The console would listen on ${host}, reachable from other machines, without SPEAKERS_CONSOLE_TOKEN.`,
      { hint: "Set SPEAKERS_CONSOLE_TOKEN to a long random secret, or bind the console to 127.0.0.1." },
    );
  }
  if (token !== undefined && token.length < 16) {
    throw new SpeakersError("INVALID_REQUEST", "SPEAKERS_CONSOLE_TOKEN must be at least 16 characters.");
  }
  const maxRaw = env.SPEAKERS_CONSOLE_MAX_UPLOAD_BYTES;
  const maxUploadBytes = maxRaw ? Number(maxRaw) : DEFAULT_MAX_UPLOAD_BYTES;
  if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1024) {
    throw new SpeakersError(
      "INVALID_REQUEST",
      "SPEAKERS_CONSOLE_MAX_UPLOAD_BYTES must be an integer >= 1024.",
    );
  }
  return { host, port, token, maxUploadBytes };
}

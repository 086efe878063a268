import { SpeakersError } from "@speakers/events";

export type TagMode = "none" | "prefix" | "suffix";

/** One address the bridge listens on, and where the audio it hears comes from. */
export interface Listener {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Home Assistant's STT client does not say which satellite spoke, so the address does. */
  room?: string;
  deviceId: string;
}

export interface BridgeConfig {
  listeners: Listener[];
  /** `tcp://host:port` of the real speech-to-text service; null: speaker-only, empty transcripts. */
  upstream: { host: string; port: number } | null;
  /** Languages `info` lists when there is no upstream to ask. */
  languages: string[];
  /** How long, after audio-stop, the transcript may wait for the utterance's speaker.identified. */
  waitMs: number;
  tag: TagMode;
  /** Plugins whose durable consumer must have handled the identification before the transcript goes back. */
  awaitPlugins: string[];
  /** Speech after which an early, provisional identification is made; 0 disables it. */
  provisionalSpeechMs: number;
  zeroconf: boolean;
  /** The name Home Assistant shows for the discovered service. */
  zeroconfName: string;
  maxSessions: number;
  maxUtteranceMs: number;
  /** A connection that sends nothing for this long is closed. */
  idleMs: number;
  upstreamTimeoutMs: number;
}

export const DEFAULT_URI = "tcp://127.0.0.1:10350";

export const DEFAULTS = {
  waitMs: 500,
  provisionalSpeechMs: 1_500,
  maxSessions: 64,
  maxUtteranceMs: 60_000,
  idleMs: 30_000,
  upstreamTimeoutMs: 30_000,
} as const;

/**
 * Reads the bridge's environment:
 * SPEAKERS_WYOMING_URI (tcp://127.0.0.1:10350; "off": only the room addresses), SPEAKERS_WYOMING_ROOMS
 * (`kitchen=tcp://127.0.0.1:10351,office=tcp://127.0.0.1:10352`), SPEAKERS_WYOMING_UPSTREAM (tcp://host:port),
 * SPEAKERS_WYOMING_LANGUAGES (en), SPEAKERS_WYOMING_WAIT_MS (500), SPEAKERS_WYOMING_TAG (none|prefix|suffix),
 * SPEAKERS_WYOMING_AWAIT_PLUGINS (home-assistant; comma list, empty for none),
 * SPEAKERS_WYOMING_PROVISIONAL_MS (1500; 0 disables), SPEAKERS_WYOMING_ZEROCONF (1 to advertise),
 * SPEAKERS_WYOMING_ZEROCONF_NAME (speakers), SPEAKERS_WYOMING_MAX_SESSIONS (64),
 * SPEAKERS_WYOMING_MAX_UTTERANCE_S (60), SPEAKERS_WYOMING_IDLE_S (30), SPEAKERS_WYOMING_UPSTREAM_TIMEOUT_S (30).
 */
export function bridgeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const listeners: Listener[] = [];
  const main = env.SPEAKERS_WYOMING_URI ?? DEFAULT_URI;
  if (main !== "off") listeners.push({ ...parseTcpUri(main, "SPEAKERS_WYOMING_URI"), deviceId: "wyoming" });
  listeners.push(...parseRooms(env.SPEAKERS_WYOMING_ROOMS ?? ""));
  if (listeners.length === 0) {
    throw configError(
      "SPEAKERS_WYOMING_URI is off and SPEAKERS_WYOMING_ROOMS names no room: nothing to listen on",
    );
  }
  const upstreamText = env.SPEAKERS_WYOMING_UPSTREAM?.trim();
  const tag = env.SPEAKERS_WYOMING_TAG ?? "none";
  if (tag !== "none" && tag !== "prefix" && tag !== "suffix") {
    throw configError(`SPEAKERS_WYOMING_TAG is ${JSON.stringify(tag)}; use none, prefix or suffix`);
  }
  return {
    listeners,
    upstream: upstreamText ? parseTcpUri(upstreamText, "SPEAKERS_WYOMING_UPSTREAM") : null,
    languages: list(env.SPEAKERS_WYOMING_LANGUAGES ?? "en"),
    waitMs: int(env, "SPEAKERS_WYOMING_WAIT_MS", DEFAULTS.waitMs, 0),
    tag,
    awaitPlugins: list(env.SPEAKERS_WYOMING_AWAIT_PLUGINS ?? "home-assistant"),
    provisionalSpeechMs: int(env, "SPEAKERS_WYOMING_PROVISIONAL_MS", DEFAULTS.provisionalSpeechMs, 0),
    zeroconf: env.SPEAKERS_WYOMING_ZEROCONF === "1" || env.SPEAKERS_WYOMING_ZEROCONF === "true",
    zeroconfName: env.SPEAKERS_WYOMING_ZEROCONF_NAME ?? "speakers",
    maxSessions: int(env, "SPEAKERS_WYOMING_MAX_SESSIONS", DEFAULTS.maxSessions, 1),
    maxUtteranceMs: int(env, "SPEAKERS_WYOMING_MAX_UTTERANCE_S", DEFAULTS.maxUtteranceMs / 1000, 1) * 1000,
    idleMs: int(env, "SPEAKERS_WYOMING_IDLE_S", DEFAULTS.idleMs / 1000, 1) * 1000,
    upstreamTimeoutMs:
      int(env, "SPEAKERS_WYOMING_UPSTREAM_TIMEOUT_S", DEFAULTS.upstreamTimeoutMs / 1000, 1) * 1000,
  };
}

/** `tcp://host:port`; an IPv6 host goes in brackets. */
export function parseTcpUri(uri: string, name: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw configError(`${name} is ${JSON.stringify(uri)}; expected tcp://host:port`);
  }
  const port = Number(url.port);
  if (url.protocol !== "tcp:" || url.hostname === "" || !Number.isInteger(port) || url.port === "") {
    throw configError(`${name} is ${JSON.stringify(uri)}; expected tcp://host:port`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/** `kitchen=tcp://127.0.0.1:10351,office=tcp://127.0.0.1:10352`: one listener per room. */
export function parseRooms(text: string): Listener[] {
  const rooms: Listener[] = [];
  for (const entry of list(text)) {
    const eq = entry.indexOf("=");
    const room = entry.slice(0, eq).trim();
    if (eq <= 0 || room === "") {
      throw configError(`SPEAKERS_WYOMING_ROOMS entry ${JSON.stringify(entry)} is not room=tcp://host:port`);
    }
    const address = parseTcpUri(entry.slice(eq + 1).trim(), `SPEAKERS_WYOMING_ROOMS (${room})`);
    const slug =
      room
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "") || "room";
    rooms.push({ ...address, room, deviceId: `wyoming-${slug}` });
  }
  return rooms;
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw configError(`${name} is ${JSON.stringify(text)}; expected a whole number >= ${min}`);
  }
  return value;
}

function configError(message: string): SpeakersError {
  return new SpeakersError("INVALID_REQUEST", message);
}

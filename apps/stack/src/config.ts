import { resolve } from "node:path";
import { type ConsoleConfig, consoleConfigFromEnv } from "@speakers/console";
import { audioRetentionFromEnv, SpeakersError } from "@speakers/events";
import { type BridgeConfig, bridgeConfigFromEnv } from "@speakers/wyoming-bridge";

export interface StackConfig {
  /** An existing NATS server; unset starts an embedded nats-server with its store under `dataDir`. */
  natsUrl: string | undefined;
  /** Embedded mode only: JetStream store is `<dataDir>/nats`. */
  dataDir: string;
  /** Embedded mode only: client port (0 picks a free one). */
  natsPort: number;
  /** The capture service's HTTP listener (loopback by default: microphones on this machine). */
  http: { host: string; port: number };
  /** Home Assistant over MQTT; the plugin runs only when this is set. */
  mqttUrl: string | undefined;
  /** SPEAKERS_MODEL for a worker the stack starts (unset: the worker's own default). */
  model: string | undefined;
  /** How much captured audio the AUDIO stream keeps (unset fields: ADR 0001's defaults). */
  audioRetention: ReturnType<typeof audioRetentionFromEnv>;
  /** The Wyoming bridge for Home Assistant Assist (SPEAKERS_WYOMING_*); unset or null: not started. */
  wyoming?: BridgeConfig | null;
  /** The web console (SPEAKERS_CONSOLE_URI, default http://127.0.0.1:8760); unset: none (demo, benchmark). */
  console?: ConsoleConfig;
}

export const DEFAULT_CAPTURE_PORT = 8750;
export const DEFAULT_NATS_PORT = 4222;

/**
 * NATS_URL (unset: embedded), SPEAKERS_DATA_DIR (./data), NATS_PORT (4222, embedded only),
 * CAPTURE_HTTP_HOST (127.0.0.1), PORT or CAPTURE_HTTP_PORT (8750), MQTT_URL (unset: no Home Assistant),
 * SPEAKERS_MODEL, SPEAKERS_AUDIO_MAX_AGE / SPEAKERS_AUDIO_MAX_BYTES (AUDIO retention), SPEAKERS_WYOMING_*
 * (the Wyoming bridge on tcp://127.0.0.1:10350; SPEAKERS_WYOMING_URI=off with no SPEAKERS_WYOMING_ROOMS: none).
 * SPEAKERS_MODEL, SPEAKERS_AUDIO_MAX_AGE / SPEAKERS_AUDIO_MAX_BYTES (AUDIO retention), SPEAKERS_CONSOLE_URI /
 * SPEAKERS_CONSOLE_TOKEN (the web console).
 */
export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): StackConfig {
  return {
    natsUrl: nonEmpty(env.NATS_URL),
    dataDir: resolve(cwd, nonEmpty(env.SPEAKERS_DATA_DIR) ?? "data"),
    natsPort: port(env, "NATS_PORT", DEFAULT_NATS_PORT),
    http: {
      host: nonEmpty(env.CAPTURE_HTTP_HOST) ?? "127.0.0.1",
      port: port(env, env.PORT ? "PORT" : "CAPTURE_HTTP_PORT", DEFAULT_CAPTURE_PORT),
    },
    mqttUrl: nonEmpty(env.MQTT_URL),
    model: nonEmpty(env.SPEAKERS_MODEL),
    audioRetention: audioRetentionFromEnv(env),
    wyoming:
      env.SPEAKERS_WYOMING_URI === "off" && !nonEmpty(env.SPEAKERS_WYOMING_ROOMS)
        ? null
        : bridgeConfigFromEnv(env),
    console: consoleConfigFromEnv(env),
  };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new SpeakersError("INVALID_REQUEST", `${name}=${text} is not a port number.`, {
      hint: `Set ${name} to an integer between 0 and 65535 (0 picks a free port).`,
    });
  }
  return value;
}

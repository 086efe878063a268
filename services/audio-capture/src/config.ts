import { SpeakersError } from "@speakers/events";
import { DEFAULT_TIMEOUTS, type HttpTimeouts } from "./http-app.js";
import { type CaptureLimits, DEFAULT_LIMITS } from "./publish-audio.js";
import type { ReadinessOptions } from "./readiness.js";

export interface CaptureConfig {
  http: {
    host: string;
    /** 0 picks a free port (tests). */
    port: number;
    retryAfterS: number;
    maxInFlight: number;
    /** Request, header, idle and keep-alive deadlines (DEFAULT_TIMEOUTS where unset). */
    timeouts?: Partial<HttpTimeouts>;
  } | null;
  watch: {
    dir: string;
    deviceId: string;
    room?: string;
    pollMs: number;
    stableMs: number;
  } | null;
  limits: CaptureLimits;
  /** What `/readyz` requires (default: the bus and a live embedding worker). */
  readiness?: ReadinessOptions;
}

export const DEFAULT_HTTP = { host: "127.0.0.1", port: 8787, retryAfterS: 5, maxInFlight: 32 } as const;

/**
 * Reads the service's environment:
 * CAPTURE_HTTP_HOST (127.0.0.1), CAPTURE_HTTP_PORT (8787; "off" disables HTTP), CAPTURE_RETRY_AFTER_S (5),
 * CAPTURE_MAX_IN_FLIGHT (32), CAPTURE_REQUEST_TIMEOUT_MS (120000), CAPTURE_HEADERS_TIMEOUT_MS (10000),
 * CAPTURE_IDLE_TIMEOUT_MS (30000), CAPTURE_KEEPALIVE_TIMEOUT_MS (5000), CAPTURE_WATCH_DIR (unset: no watcher), CAPTURE_WATCH_DEVICE (folder),
 * CAPTURE_WATCH_ROOM, CAPTURE_WATCH_POLL_MS (1000), CAPTURE_WATCH_STABLE_MS (1000),
 * CAPTURE_READY_WORKER (on; off: /readyz checks the bus only), CAPTURE_READY_CACHE_MS (2000),
 * CAPTURE_INLINE_LIMIT_BYTES (524288), CAPTURE_MAX_BYTES (64 MiB), CAPTURE_MAX_DURATION_S (60).
 */
export function captureConfigFromEnv(env: NodeJS.ProcessEnv = process.env): CaptureConfig {
  const portText = env.CAPTURE_HTTP_PORT ?? String(DEFAULT_HTTP.port);
  const watchDir = env.CAPTURE_WATCH_DIR;
  return {
    http:
      portText === "off"
        ? null
        : {
            host: env.CAPTURE_HTTP_HOST ?? DEFAULT_HTTP.host,
            port: int(env, "CAPTURE_HTTP_PORT", DEFAULT_HTTP.port, 0),
            retryAfterS: int(env, "CAPTURE_RETRY_AFTER_S", DEFAULT_HTTP.retryAfterS, 1),
            maxInFlight: int(env, "CAPTURE_MAX_IN_FLIGHT", DEFAULT_HTTP.maxInFlight, 1),
            timeouts: {
              requestTimeoutMs: int(
                env,
                "CAPTURE_REQUEST_TIMEOUT_MS",
                DEFAULT_TIMEOUTS.requestTimeoutMs,
                100,
              ),
              headersTimeoutMs: int(
                env,
                "CAPTURE_HEADERS_TIMEOUT_MS",
                DEFAULT_TIMEOUTS.headersTimeoutMs,
                100,
              ),
              idleTimeoutMs: int(env, "CAPTURE_IDLE_TIMEOUT_MS", DEFAULT_TIMEOUTS.idleTimeoutMs, 100),
              keepAliveTimeoutMs: int(
                env,
                "CAPTURE_KEEPALIVE_TIMEOUT_MS",
                DEFAULT_TIMEOUTS.keepAliveTimeoutMs,
                100,
              ),
            },
          },
    watch: watchDir
      ? {
          dir: watchDir,
          deviceId: env.CAPTURE_WATCH_DEVICE ?? "folder",
          ...(env.CAPTURE_WATCH_ROOM ? { room: env.CAPTURE_WATCH_ROOM } : {}),
          pollMs: int(env, "CAPTURE_WATCH_POLL_MS", 1_000, 50),
          stableMs: int(env, "CAPTURE_WATCH_STABLE_MS", 1_000, 0),
        }
      : null,
    readiness: {
      worker: flag(env, "CAPTURE_READY_WORKER", true),
      cacheMs: int(env, "CAPTURE_READY_CACHE_MS", 2_000, 0),
    },
    limits: {
      inlineLimitBytes: int(env, "CAPTURE_INLINE_LIMIT_BYTES", DEFAULT_LIMITS.inlineLimitBytes, 1),
      maxBytes: int(env, "CAPTURE_MAX_BYTES", DEFAULT_LIMITS.maxBytes, 1),
      maxDurationMs: int(env, "CAPTURE_MAX_DURATION_S", DEFAULT_LIMITS.maxDurationMs / 1000, 1) * 1000,
    },
  };
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]?.toLowerCase();
  if (text === undefined || text === "") return fallback;
  if (["on", "true", "1", "yes"].includes(text)) return true;
  if (["off", "false", "0", "no"].includes(text)) return false;
  throw new SpeakersError("INVALID_REQUEST", `${name}=${env[name]} must be on or off.`, {
    hint: `Fix ${name} in the service's environment.`,
  });
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new SpeakersError("INVALID_REQUEST", `${name}=${text} must be an integer >= ${min}.`, {
      hint: `Fix ${name} in the service's environment.`,
    });
  }
  return value;
}

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { type KV, Kvm } from "@nats-io/kv";
import type { Bus, Logger } from "@speakers/bus";
import { AUDIO_FILE_EXTENSIONS, encodingForFile, isSpeakersError, KV_BUCKETS } from "@speakers/events";
import type { BusHealth } from "./bus-health.js";
import { type CaptureLimits, DEFAULT_LIMITS, publishAudio } from "./publish-audio.js";
import { CONTAINER_MEDIA_TYPES } from "./sniff.js";

/** File extensions the watcher picks up (the contract's table), and the media type each declares. */
export const AUDIO_EXTENSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(AUDIO_FILE_EXTENSIONS).map(([ext, encoding]) => [ext, CONTAINER_MEDIA_TYPES[encoding]]),
);

/** The media type a file name declares (the bytes must agree); "" for a name that is not an audio file. */
export function mediaTypeForFile(path: string): string {
  const encoding = encodingForFile(path);
  return encoding === undefined || encoding === "pcm_s16le" ? "" : CONTAINER_MEDIA_TYPES[encoding];
}

export interface FolderWatcherOptions {
  dir: string;
  /** The device id every file of this folder is published under. */
  deviceId: string;
  room?: string;
  /** How often the folder is scanned (default 1 s). */
  pollMs?: number;
  /** A file must keep its size and mtime this long before it is read, so half-written files wait (default 1 s). */
  stableMs?: number;
  limits?: CaptureLimits;
  /** KV bucket of published files (default `ingest-seen`). */
  bucket?: string;
}

/** What `ingest-seen` holds per content hash: the file was published, or refused for good with a code. */
export interface SeenRecord {
  status: "published" | "rejected";
  path: string;
  at: string;
  eventId?: string;
  seq?: number;
  code?: string;
  message?: string;
}

export interface ScanReport {
  published: string[];
  rejected: string[];
  /** Files left for a later scan because the bus could not take them (backpressure). */
  waiting: string[];
}

export interface FolderWatcher {
  /** Starts polling; returns at once. */
  start(): Promise<void>;
  /** One pass over the folder (the poll loop calls this; tests call it directly). */
  scan(): Promise<ScanReport>;
  /** Stops polling and waits for the current scan. */
  stop(): Promise<void>;
}

/**
 * Publishes each audio file dropped into a folder exactly once, also across restarts: the content's SHA-256 is
 * the key in `ingest-seen` and the event id, so a crash between publishing and recording is stored once by
 * JetStream's duplicate window. While the bus is down or full, files simply wait in the folder.
 */
export function createFolderWatcher(
  deps: { bus: Bus; health?: BusHealth; logger?: Logger },
  options: FolderWatcherOptions,
): FolderWatcher {
  const logger = (deps.logger ?? deps.bus.logger).child({ component: "folder-watcher", dir: options.dir });
  const pollMs = options.pollMs ?? 1_000;
  const stableMs = options.stableMs ?? 1_000;
  const limits = options.limits ?? DEFAULT_LIMITS;
  /** path -> "size:mtime" already handled, so unchanged files are not hashed again every scan. */
  const handled = new Map<string, string>();
  /** path -> the signature first seen and when, until it has been stable for stableMs. */
  const settling = new Map<string, { sig: string; since: number }>();
  let kv: KV | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<ScanReport> | undefined;
  let stopped = false;
  let waitingLogged = false;

  const openSeen = async (): Promise<KV> => {
    kv ??= await new Kvm(deps.bus.js).create(options.bucket ?? KV_BUCKETS.ingestSeen.name, {
      history: KV_BUCKETS.ingestSeen.history,
    });
    return kv;
  };

  const scanOnce = async (): Promise<ScanReport> => {
    const report: ScanReport = { published: [], rejected: [], waiting: [] };
    if (deps.health && !deps.health.up) return report;
    const seen = await openSeen();
    const files = await candidates(options.dir);
    for (const [index, file] of files.entries()) {
      const sig = `${file.size}:${file.mtimeMs}`;
      if (handled.get(file.path) === sig) continue;
      const settled = settling.get(file.path);
      if (stableMs > 0 && (settled?.sig !== sig || Date.now() - settled.since < stableMs)) {
        if (settled?.sig !== sig) settling.set(file.path, { sig, since: Date.now() });
        continue;
      }
      settling.delete(file.path);
      const bytes = await readFile(file.path);
      const hash = createHash("sha256").update(bytes).digest("hex");
      if ((await seen.get(hash))?.operation === "PUT") {
        handled.set(file.path, sig);
        continue;
      }
      try {
        const published = await publishAudio(
          deps.bus,
          {
            bytes,
            contentType: mediaTypeForFile(file.path),
            deviceId: options.deviceId,
            ...(options.room === undefined ? {} : { room: options.room }),
            ...(await sidecarTranscript(file.path)),
            capturedAt: new Date(file.mtimeMs),
            id: fileEventId(hash),
            tags: { file: file.name },
          },
          { limits, ...(deps.health ? { health: deps.health } : {}) },
        );
        await record(seen, hash, {
          status: "published",
          path: file.path,
          at: new Date().toISOString(),
          eventId: published.id,
          seq: published.seq,
        });
        handled.set(file.path, sig);
        report.published.push(file.path);
        waitingLogged = false;
        logger.info(
          { file: file.path, eventId: published.id, duplicate: published.duplicate },
          "file published",
        );
      } catch (err) {
        if (isSpeakersError(err) && err.status < 500) {
          // The bytes will never become valid audio; remember that so it is not retried on every scan.
          await record(seen, hash, {
            status: "rejected",
            path: file.path,
            at: new Date().toISOString(),
            code: err.code,
            message: err.message,
          });
          handled.set(file.path, sig);
          report.rejected.push(file.path);
          logger.error({ file: file.path, code: err.code, reason: err.message }, "file rejected");
          continue;
        }
        // Bus down or full: leave this and the remaining files for a later scan, in order.
        report.waiting.push(...files.slice(index).map((f) => f.path));
        if (!waitingLogged)
          logger.warn({ err, waiting: report.waiting.length }, "bus not taking files; waiting");
        waitingLogged = true;
        break;
      }
    }
    return report;
  };

  const scan = (): Promise<ScanReport> => {
    // One scan at a time: a poll tick during a slow scan joins it instead of publishing the same file twice.
    current ??= scanOnce().finally(() => {
      current = undefined;
    });
    return current;
  };

  const tick = async () => {
    try {
      await scan();
    } catch (err) {
      logger.warn({ err }, "scan failed; will retry");
    }
    if (!stopped) timer = setTimeout(tick, pollMs);
  };

  return {
    async start() {
      await mkdir(options.dir, { recursive: true });
      stopped = false;
      void tick();
    },
    scan,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current?.catch(() => {});
    },
  };
}

/** Deterministic: the same bytes always become the same event id, so JetStream stores a retried publish once. */
export function fileEventId(sha256Hex: string): string {
  return `file-${sha256Hex}`;
}

interface Candidate {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/** Audio files directly in `dir`, oldest first; dotfiles and partial downloads are skipped. */
async function candidates(dir: string): Promise<Candidate[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: Candidate[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith(".")) continue;
    if (mediaTypeForFile(entry.name) === "") continue;
    const path = join(dir, entry.name);
    try {
      const s = await stat(path);
      out.push({ path, name: entry.name, size: s.size, mtimeMs: s.mtimeMs });
    } catch {
      // removed between readdir and stat
    }
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
}

/** `clip.flac` may come with `clip.txt` holding its transcript (what a wake-word satellite heard). */
async function sidecarTranscript(path: string): Promise<{ transcript?: string }> {
  try {
    const text = (await readFile(`${path.slice(0, -extname(path).length)}.txt`, "utf8")).trim();
    return text ? { transcript: text } : {};
  } catch {
    return {};
  }
}

async function record(kv: KV, key: string, value: SeenRecord): Promise<void> {
  await kv.put(key, JSON.stringify(value));
}

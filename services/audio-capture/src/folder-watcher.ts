import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { basename, extname, resolve as resolvePath } from "node:path";
import { type KV, Kvm } from "@nats-io/kv";
import type { Bus, Logger } from "@speakers/bus";
import { AUDIO_FILE_EXTENSIONS, encodingForFile, isSpeakersError, KV_BUCKETS } from "@speakers/events";
import { watch as chokidarWatch, type FSWatcher } from "chokidar";
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
  /** How often files the bus could not take are retried (default 1 s); new files come from chokidar events. */
  pollMs?: number;
  /** A file must keep its size this long before it is read (chokidar's awaitWriteFinish; default 1 s). */
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
  /** Starts watching (chokidar) and publishing; returns once the folder's current files are known. */
  start(): Promise<void>;
  /** One pass over the files chokidar has reported complete (events call this; tests call it directly). */
  scan(): Promise<ScanReport>;
  /** Stops watching and waits for the current pass. */
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
  const retryMs = options.pollMs ?? 1_000;
  const stableMs = options.stableMs ?? 1_000;
  const limits = options.limits ?? DEFAULT_LIMITS;
  /** Files chokidar reported complete (added or changed, then unchanged for stableMs) and not handled yet. */
  const pending = new Set<string>();
  /**
   * Files already there when watching began. chokidar applies awaitWriteFinish only to events after its
   * `ready` (chokidar/index.js: `awf && ... && this._readyEmitted`), so these get the same test here: their size
   * and mtime must hold for stableMs before they are read.
   */
  const initial = new Map<string, { size: number; mtimeMs: number; since: number }>();
  let kv: KV | undefined;
  let fsWatcher: FSWatcher | undefined;
  let watching: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let current: Promise<ScanReport> | undefined;
  let running = false;
  let waitingLogged = false;

  const openSeen = async (): Promise<KV> => {
    kv ??= await new Kvm(deps.bus.js).create(options.bucket ?? KV_BUCKETS.ingestSeen.name, {
      history: KV_BUCKETS.ingestSeen.history,
    });
    return kv;
  };

  /** chokidar reports each file once its writer is done (awaitWriteFinish), the ones already there included. */
  const watchFolder = (): Promise<void> => {
    watching ??= new Promise((resolve, reject) => {
      const root = resolvePath(options.dir);
      const watcher = chokidarWatch(root, {
        depth: 0,
        ignoreInitial: false,
        alwaysStat: true,
        awaitWriteFinish:
          stableMs > 0
            ? { stabilityThreshold: stableMs, pollInterval: Math.max(10, Math.min(100, stableMs / 4)) }
            : false,
        ignored: (path, stats) =>
          resolvePath(path) !== root &&
          (stats?.isDirectory() === true || basename(path).startsWith(".") || mediaTypeForFile(path) === ""),
      });
      fsWatcher = watcher;
      let ready = false;
      const found = (path: string, stats?: Stats) => {
        if (!ready && stableMs > 0) {
          initial.set(path, { size: stats?.size ?? -1, mtimeMs: stats?.mtimeMs ?? -1, since: Date.now() });
          return;
        }
        initial.delete(path);
        pending.add(path);
        kick();
      };
      watcher.on("add", found).on("change", found);
      watcher.on("unlink", (path) => {
        pending.delete(path);
        initial.delete(path);
      });
      watcher.on("error", (err) => logger.warn({ err }, "watching the folder failed"));
      watcher.once("ready", () => {
        ready = true;
        resolve();
      });
      watcher.once("error", reject);
    });
    return watching;
  };

  const scanOnce = async (): Promise<ScanReport> => {
    const report: ScanReport = { published: [], rejected: [], waiting: [] };
    await watchFolder();
    await settleInitial();
    if (deps.health && !deps.health.up) {
      report.waiting.push(...pending);
      return report;
    }
    const seen = await openSeen();
    /** Remembers what became of a file (it is not read again), stops waiting on it and reports it. */
    const settle = async (
      path: string,
      hash: string,
      status: SeenRecord["status"],
      outcome: Omit<SeenRecord, "status" | "path" | "at">,
    ) => {
      await record(seen, hash, { status, path, at: new Date().toISOString(), ...outcome });
      pending.delete(path);
      report[status].push(path);
    };
    const files = await oldestFirst([...pending]);
    for (const [index, file] of files.entries()) {
      let bytes: Buffer;
      try {
        bytes = await readFile(file.path);
      } catch {
        pending.delete(file.path); // removed since chokidar saw it
        continue;
      }
      const hash = createHash("sha256").update(bytes).digest("hex");
      if ((await seen.get(hash))?.operation === "PUT") {
        pending.delete(file.path);
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
            tags: { file: basename(file.path) },
          },
          { limits, ...(deps.health ? { health: deps.health } : {}) },
        );
        await settle(file.path, hash, "published", { eventId: published.id, seq: published.seq });
        waitingLogged = false;
        logger.info(
          { file: file.path, eventId: published.id, duplicate: published.duplicate },
          "file published",
        );
      } catch (err) {
        if (isSpeakersError(err) && err.status < 500) {
          // The bytes will never become valid audio; remember that so it is not retried.
          await settle(file.path, hash, "rejected", { code: err.code, message: err.message });
          logger.error({ file: file.path, code: err.code, reason: err.message }, "file rejected");
          continue;
        }
        // Bus down or full: leave this and the remaining files for a later pass, in order.
        report.waiting.push(...files.slice(index).map((f) => f.path));
        if (!waitingLogged)
          logger.warn({ err, waiting: report.waiting.length }, "bus not taking files; waiting");
        waitingLogged = true;
        break;
      }
    }
    return report;
  };

  /** Startup files whose size and mtime held for stableMs become pending; changed ones start over. */
  const settleInitial = async (): Promise<void> => {
    for (const [path, seen] of initial) {
      if (Date.now() - seen.since < stableMs) continue;
      try {
        const now = await stat(path);
        if (now.size === seen.size && now.mtimeMs === seen.mtimeMs) {
          initial.delete(path);
          pending.add(path);
        } else initial.set(path, { size: now.size, mtimeMs: now.mtimeMs, since: Date.now() });
      } catch {
        initial.delete(path);
      }
    }
  };

  const scan = (): Promise<ScanReport> => {
    // One pass at a time: an event during a slow pass joins it instead of publishing the same file twice.
    current ??= scanOnce().finally(() => {
      current = undefined;
    });
    return current;
  };

  /** While running: handle what chokidar reported; files the bus could not take are retried every retryMs. */
  function kick(): void {
    if (!running) return;
    void scan()
      .catch((err) => {
        logger.warn({ err }, "publishing files failed; will retry");
      })
      .then(() => {
        if (running && (pending.size > 0 || initial.size > 0) && retry === undefined) {
          retry = setTimeout(
            () => {
              retry = undefined;
              kick();
            },
            initial.size > 0 ? Math.min(stableMs, retryMs) : retryMs,
          );
        }
      });
  }

  return {
    async start() {
      await mkdir(options.dir, { recursive: true });
      running = true;
      await watchFolder();
      kick();
    },
    scan,
    async stop() {
      running = false;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await current?.catch(() => {});
      await fsWatcher?.close();
      fsWatcher = undefined;
      watching = undefined;
    },
  };
}

/** Deterministic: the same bytes always become the same event id, so JetStream stores a retried publish once. */
export function fileEventId(sha256Hex: string): string {
  return `file-${sha256Hex}`;
}

interface Candidate {
  path: string;
  mtimeMs: number;
}

/** The files still there, oldest first (the order they were recorded in). */
async function oldestFirst(paths: readonly string[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const path of paths) {
    try {
      out.push({ path, mtimeMs: (await stat(path)).mtimeMs });
    } catch {
      // removed since chokidar saw it
    }
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path));
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

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { defaultWorkerDir, ensureWorker } from "@speakers/embedding-client";
import { MODELS, type ModelRef, resolveModel } from "@speakers/events";

const SMALL_FILES =
  process.env.SPEAKERS_ECAPA_SMALL_FILES ??
  resolve(import.meta.dirname, "../../../../../shared/models/spkrec-ecapa-voxceleb");

/**
 * A replay worker of same-shape ECAPA (the real small files plus seeded weights from the worker's own
 * generator): a second model for the mechanics of a rebuild; its accuracy means nothing.
 */
export async function startSeededEcapa(
  nc: NatsConnection,
): Promise<{ model: ModelRef; stop(): Promise<void> }> {
  const tmp = mkdtempSync(join(tmpdir(), "seeded-ecapa-"));
  const folder = join(tmp, "ecapa");
  const dir = defaultWorkerDir();
  execFileSync(
    join(dir, ".venv/bin/python"),
    [
      "-c",
      "import sys; from pathlib import Path; from speaker_worker.models.seeded_ecapa import write_seeded_ecapa; " +
        "write_seeded_ecapa(Path(sys.argv[1]), Path(sys.argv[2]), seed=0)",
      folder,
      SMALL_FILES,
    ],
    { cwd: dir, stdio: "pipe" },
  );
  // The worker's key for unverified weights: sha256 over both weight files' digests (ADR 0005).
  const digests = ["embedding_model.ckpt", "classifier.ckpt"].map((f) =>
    createHash("sha256")
      .update(readFileSync(join(folder, f)))
      .digest("hex"),
  );
  const key = `${MODELS.ecapa.id}@local-${createHash("sha256").update(digests.join("")).digest("hex").slice(0, 12)}`;
  const handle = await ensureWorker({
    nc,
    model: key,
    role: "replay",
    env: { MODEL_SOURCE: folder, MODEL_CACHE_DIR: join(tmp, "cache"), LOG_LEVEL: "WARNING" },
    readyTimeoutMs: 170_000,
  });
  return {
    model: resolveModel(key),
    async stop() {
      await handle.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

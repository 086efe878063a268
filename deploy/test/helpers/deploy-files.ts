import { join, resolve } from "node:path";

/** The deploy folder and the repository root, wherever the tests run from. */
export const DEPLOY_DIR = resolve(import.meta.dirname, "../..");
export const REPO_ROOT = resolve(DEPLOY_DIR, "..");

/** The nats-server configs the containers use; the tests start these same files. */
export const NATS_CONFIGS = {
  single: join(DEPLOY_DIR, "nats/single.conf"),
  node: (n: 1 | 2 | 3) => join(DEPLOY_DIR, `nats/cluster/node-${n}.conf`),
} as const;

#!/usr/bin/env bash
# pnpm bench:worker [--quick] [--json] [...]: the embedding worker's throughput benchmark (prints figures).
set -euo pipefail
cd "$(dirname "$0")/../services/embedding-worker"
exec uv run --frozen python -m speaker_worker.bench "$@"

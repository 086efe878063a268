#!/usr/bin/env bash
# scripts/gpu-check.sh [--batches 1 32 128 256 512] [--seconds 3] [--json]: proves the worker's CUDA path in
# under 5 minutes (device choice, parity with CPU fp32, a JetStream round trip on the GPU) and prints GPU
# clips/s per clip length and batch. On a machine without CUDA it says so and exits 2.
set -euo pipefail
cd "$(dirname "$0")/../services/embedding-worker"
exec timeout 300 uv run --frozen python -m speaker_worker.gpu_check "$@"

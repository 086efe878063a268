#!/usr/bin/env bash
# The one test command (README, CI): lint, build + typecheck, contract drift, TS tests, Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."

summary=()
step() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  "$@"
  summary+=("$(printf '%-14s %5ds' "$name" $((SECONDS - start)))")
}

step lint pnpm -s lint
step setup-check bash scripts/check-setup.sh
step typecheck pnpm -s typecheck
step contract node packages/events/dist/export-main.js --check
step test:ts pnpm -s test:ts
step test:py pnpm -s test:py

echo "=== step timings"
printf '  %s\n' "${summary[@]}"

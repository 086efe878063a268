#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently. CI runs exactly this.
# Caches stay under $HOME (pnpm store, uv cache, Go build cache), never in the repo, so reruns are fast.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p 'require("./package.json").packageManager.split("@")[1]')
NATS_SERVER_VERSION=v2.12.15
UV_VERSION=0.9.30
BIN_DIR="${SPEAKERS_BIN_DIR:-$HOME/.local/share/speakers/bin}"
mkdir -p "$BIN_DIR"

timed() {
  local name=$1; shift
  local start=$SECONDS
  "$@"
  printf '[setup] %-28s %4ds\n' "$name" $((SECONDS - start))
}

install_pnpm() {
  if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    npm install -g --silent "pnpm@$PNPM_VERSION"
  fi
}

install_node_modules() {
  pnpm install --frozen-lockfile --reporter=silent
}

install_nats_server() {
  if [ "$("$BIN_DIR/nats-server" --version 2>/dev/null || true)" != "nats-server: $NATS_SERVER_VERSION" ]; then
    GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
  fi
}

# Debian packages the stack and its tests run against: Mosquitto (the Home Assistant plugin's broker),
# Chromium (the console's browser tests), ffmpeg (encodes test fixtures in the formats people have),
# and ShellCheck (lints these scripts). Root needs no sudo; anyone else does.
# SPEAKERS_APT_PACKAGES overrides the list and SPEAKERS_APT_SIMULATE=1 makes apt-get only simulate: the
# setup check in scripts/test.sh runs this step that way with a package that is surely missing.
read -r -a APT_PACKAGES <<<"${SPEAKERS_APT_PACKAGES:-mosquitto chromium ffmpeg shellcheck}"
install_debian_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo)
  local simulate=()
  [ "${SPEAKERS_APT_SIMULATE:-0}" = 1 ] && simulate=(--simulate)
  echo "[setup] installing Debian packages: ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${simulate[@]}" "${missing[@]}" >/dev/null
}

install_python_env() {
  if [ "$(uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  fi
  (cd services/embedding-worker && uv sync --frozen --quiet)
  # Home Assistant's side of the Wyoming bridge tests (the wyoming library, a PocketSphinx upstream); no torch.
  (cd services/wyoming-bridge/py && uv sync --frozen --quiet)
}

STEPS=(pnpm:install_pnpm node-modules:install_node_modules nats-server:install_nats_server
  debian-packages:install_debian_packages python-env:install_python_env)
# `setup.sh` runs every step; `setup.sh STEP…` runs only those (e.g. `setup.sh debian-packages`).
for entry in "${STEPS[@]}"; do
  name=${entry%%:*}
  if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then timed "$name" "${entry#*:}"; fi
done
[ $# -eq 0 ] && echo "[setup] done: nats-server at $BIN_DIR/nats-server, worker env at services/embedding-worker/.venv"
exit 0

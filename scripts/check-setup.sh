#!/usr/bin/env bash
# Checks that setup.sh can install a Debian package that is missing, as whoever runs it (root in CI, with no
# sudo): the step runs for real with apt-get in simulate mode, so it fails the way a fresh machine would.
set -euo pipefail
cd "$(dirname "$0")/.."
probe=${SPEAKERS_SETUP_PROBE_PACKAGE:-cowsay}
if dpkg-query -W -f='${Status}' "$probe" 2>/dev/null | grep -q 'install ok installed'; then
  echo "check-setup: $probe is installed here; set SPEAKERS_SETUP_PROBE_PACKAGE to a missing package" >&2
  exit 1
fi
out=$(SPEAKERS_APT_PACKAGES="mosquitto $probe" SPEAKERS_APT_SIMULATE=1 bash scripts/setup.sh debian-packages 2>&1) || {
  echo "$out" >&2
  echo "check-setup: setup.sh could not install a missing Debian package" >&2
  exit 1
}
grep -q "installing Debian packages: $probe" <<<"$out" || {
  echo "$out" >&2
  echo "check-setup: setup.sh did not try to install the missing $probe" >&2
  exit 1
}
echo "check-setup: setup.sh installs a missing Debian package as $(id -un)"

#!/usr/bin/env bash
# Installs the system packages the tests need when they are missing (Debian): Chromium for the browser
# tests, redis-server for the throwaway Redis servers, a Japanese font so that layouts are measured and
# screenshots drawn with real glyphs, nginx for the several-instances tests (run by the runner itself;
# the package's own service is not needed). As root with apt-get it installs them; otherwise it prints the one
# command to run and fails. Used by `make test` (browser-deps) and by .ci/run.
set -euo pipefail

PACKAGES=(chromium redis-server fonts-ipafont-gothic nginx)

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -n "$(fc-list :lang=ja 2>/dev/null || true)" ] || missing+=(fonts-ipafont-gothic)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages; needed by the tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
  exit 0
fi
echo "missing for the tests: ${missing[*]}. Run once: sudo apt-get install -y ${PACKAGES[*]}" >&2
exit 1

#!/usr/bin/env bash
# Installs the system packages the tests need when they are missing (Debian): Chromium for the browser
# tests, redis-server for the throwaway Redis servers, a Japanese font so that layouts are measured and
# screenshots drawn with real glyphs, nginx for the several-instances tests (run by the runner itself;
# the package's own service is not needed), npm (with Debian's nodejs) for axe-core and the socket.io
# client of the tests. As root with apt-get it installs the missing ones and checks again; otherwise it
# prints the one command to run and fails. Used by `make test` (browser-deps) and by .ci/run.
#
# MADOGUCHI_DEPS_DRY_RUN=1: decide as usual, but print each command instead of running it ("would run:
# ..."), exit 0 (tests/test_deploy.py). MADOGUCHI_DEPS_SBIN (default /usr/sbin): where Debian's nginx
# lives when it is not on PATH.
set -euo pipefail

dry_run="${MADOGUCHI_DEPS_DRY_RUN:-}"
sbin="${MADOGUCHI_DEPS_SBIN:-/usr/sbin}"

missing_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if ! command -v fc-list >/dev/null 2>&1; then
    missing+=(fontconfig fonts-ipafont-gothic)
  elif [ -z "$(fc-list :lang=ja 2>/dev/null || true)" ]; then
    missing+=(fonts-ipafont-gothic)
  fi
  command -v nginx >/dev/null 2>&1 || [ -x "$sbin/nginx" ] || missing+=(nginx)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  echo "${missing[*]}"
}

run() {
  if [ -n "$dry_run" ]; then
    echo "would run: $*"
  else
    "$@"
  fi
}

read -r -a missing <<<"$(missing_packages)"
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages; needed by the tests)"
  export DEBIAN_FRONTEND=noninteractive
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
  [ -n "$dry_run" ] && exit 0
  read -r -a still <<<"$(missing_packages)"
  if [ ${#still[@]} -ne 0 ]; then
    echo "still missing after apt-get install: ${still[*]}" >&2
    exit 1
  fi
  exit 0
fi
echo "missing for the tests: ${missing[*]}. Run once: sudo apt-get install -y ${missing[*]}" >&2
exit 1

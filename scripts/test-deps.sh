#!/usr/bin/env bash
# Installs the third-party programs the integration tests use (kcat,
# clickhouse-server), when they are
# missing and this machine can install them (Debian, as root or with sudo).
# Under CI=true the tests themselves fail when one is still missing.
set -euo pipefail
need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
# clickhouse-server: the analytics sink's integration tests start a throwaway
# server (Debian's package, 18.16) on free ports with a temp data dir.
command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "test-deps: missing ${need[*]}; install them (apt-get install ${need[*]})" >&2; exit 0; fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${need[*]} and no apt-get here; install them by hand" >&2; exit 0
fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
  $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }

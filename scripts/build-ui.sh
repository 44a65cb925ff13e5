#!/usr/bin/env bash
# Builds the web UI (ui/) into ui/dist, or into the folder given as $1.
# Installs the npm dependencies pinned by ui/package-lock.json (`npm ci`) when they are missing
# or the lockfile changed since the last install; the bundle then needs no network.
set -euo pipefail
cd "$(dirname "$0")/../ui"
out="${1:-dist}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build-ui: node and npm are needed (bash scripts/install-deps.sh installs them)" >&2
  exit 1
fi

# Concurrent builds (several build dirs) share ui/node_modules: one installs at a time.
exec 9>".npm-install.lock"
flock 9
stamp="node_modules/.plinth-lock-sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "build-ui: npm ci (ui/package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
flock -u 9

node build.mjs "$out"

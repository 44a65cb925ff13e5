#!/usr/bin/env bash
# Creates .venv-golden (repo root, gitignored) with the pinned reference implementations
# (scipy, numpy, pandas, Evidently; tests/golden/drift/requirements.txt) that
# tests/golden/drift/make_golden.py runs on. Only needed to regenerate the golden table: the C++
# tests read the committed table and need no Python. Idempotent: reinstalls only when the
# requirements file (or this script) changed, or the venv is missing or broken.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-golden
REQ=tests/golden/drift/requirements.txt
STAMP="$VENV/.plinth-requirements.sha256"
PY=${PYTHON:-python3}

hash_now=$(cat "$REQ" "$0" | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash_now" ] \
   && "$VENV/bin/python" -c 'import scipy, numpy, pandas, evidently' 2>/dev/null; then
  echo "setup-golden-venv: $VENV up to date"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-golden-venv: creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
echo "setup-golden-venv: installing $(grep -v '^#' "$REQ" | tr '\n' ' ')"
"$VENV/bin/python" -m pip install -q -r "$REQ"
"$VENV/bin/python" -c 'import scipy, numpy, pandas, evidently'
echo "$hash_now" > "$STAMP"
echo "setup-golden-venv: ready"

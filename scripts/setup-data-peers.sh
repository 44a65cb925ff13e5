#!/usr/bin/env bash
# Creates .venv-data (repo root, gitignored) with the peers of the data benchmark (bench/data):
# Evidently, Great Expectations 1.x, whylogs, DVC, and numpy/pandas/scipy/pyarrow, pinned in
# bench/data/requirements.txt (Evidently, scipy, numpy and pandas at the versions the drift
# golden table was written with). Idempotent: reinstalls only when the requirements file (or
# this script) changed, or the venv is missing or broken.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-data
REQ=bench/data/requirements.txt
STAMP="$VENV/.plinth-requirements.sha256"
PY=${PYTHON:-python3}
CHECK='import evidently, great_expectations, whylogs, dvc, pandas, numpy, scipy, pyarrow'

hash_now=$(cat "$REQ" "$0" | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash_now" ] \
   && "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  echo "setup-data-peers: $VENV up to date"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-data-peers: creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
echo "setup-data-peers: installing $(grep -v '^#' "$REQ" | tr '\n' ' ')"
"$VENV/bin/python" -m pip install -q -r "$REQ"
# telemetry off while importing: the machine has no internet, a phone-home would wait on DNS
GX_ANALYTICS_ENABLED=false DO_NOT_TRACK=true "$VENV/bin/python" -c "$CHECK"
echo "$hash_now" > "$STAMP"
echo "setup-data-peers: ready"

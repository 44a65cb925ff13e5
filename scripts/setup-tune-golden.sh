#!/usr/bin/env bash
# Creates .venv-tune (repo root, gitignored) with Optuna 5 + cmaes + numpy + scipy
# (tests/golden/tune/requirements.txt), used only to regenerate the tuning golden values:
#   .venv-tune/bin/python tests/golden/tune/make_golden.py
# The C++ tests read the committed JSON and need none of this. Idempotent: reinstalls only when
# the requirements file (or this script) changed or the venv is missing or broken.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-tune
REQ=tests/golden/tune/requirements.txt
STAMP="$VENV/.plinth-requirements.sha256"
PY=${PYTHON:-python3}

hash_now=$(cat "$REQ" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash_now" ] \
   && "$VENV/bin/python" -c 'import optuna, numpy, scipy, cmaes' 2>/dev/null; then
  echo "setup-tune-golden: $VENV up to date (optuna $("$VENV/bin/python" -c 'import optuna; print(optuna.__version__)'))"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-tune-golden: creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
echo "setup-tune-golden: installing $(grep -v '^#' "$REQ" | tr '\n' ' ')"
"$VENV/bin/python" -m pip install -q -r "$REQ"
"$VENV/bin/python" -c 'import optuna, numpy, scipy, cmaes'
echo "$hash_now" > "$STAMP"
echo "setup-tune-golden: ready (optuna $("$VENV/bin/python" -c 'import optuna; print(optuna.__version__)'))"

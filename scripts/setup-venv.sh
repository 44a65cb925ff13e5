#!/usr/bin/env bash
# Creates .venv (repo root, gitignored) holding the MLflow client side of the compatibility suite:
# the newest mlflow-skinny from PyPI plus pytest/requests/psutil (tests/compat/requirements.txt).
# Idempotent: reinstalls only when the requirements file (or this script) changed, or the venv is
# missing/broken. Set PLINTH_VENV_UPGRADE=1 to force a refresh to the newest versions.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
REQ=tests/compat/requirements.txt
STAMP="$VENV/.plinth-requirements.sha256"
PY=${PYTHON:-python3}

exec 9>"${TMPDIR:-/tmp}/plinth-setup-venv.lock"
flock 9

hash_now=$(cat "$REQ" "$0" | sha256sum | cut -d' ' -f1)

if [ "${PLINTH_VENV_UPGRADE:-0}" != "1" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash_now" ] \
   && "$VENV/bin/python" -c 'import mlflow, pytest, requests, psutil, boto3, moto' 2>/dev/null; then
  echo "setup-venv: $VENV up to date ($("$VENV/bin/python" -c 'import mlflow; print("mlflow-skinny", mlflow.__version__)'))"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-venv: creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q --upgrade -r "$REQ"
"$VENV/bin/python" -c 'import mlflow, pytest, requests, psutil, boto3, moto'
echo "$hash_now" > "$STAMP"
echo "setup-venv: ready ($("$VENV/bin/python" -c 'import mlflow; print("mlflow-skinny", mlflow.__version__)'))"

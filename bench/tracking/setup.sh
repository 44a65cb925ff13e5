#!/usr/bin/env bash
# Creates .venv-peers (MLflow 3 + FastTrackML) for the tracking benchmark.
# The project-wide scripts/setup-peers.sh owns that venv when it exists; this is only the
# fallback for checkouts without it (run.sh prefers scripts/setup-peers.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ -f scripts/setup-peers.sh ]; then
  exec bash scripts/setup-peers.sh
fi
VENV=.venv-peers
PY="${PYTHON:-python3}"
if [ -x "$VENV/bin/mlflow" ] && [ -x "$VENV/bin/fml" ]; then
  echo "setup: $VENV ready"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q --upgrade mlflow
# fml is a static Go binary; the wheel pins mlflow<3 only for its Python helpers.
"$VENV/bin/python" -m pip install -q --upgrade --no-deps fasttrackml
"$VENV/bin/mlflow" --version
[ -x "$VENV/bin/fml" ] || { echo "setup: fasttrackml did not install fml" >&2; exit 1; }

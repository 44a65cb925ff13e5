#!/usr/bin/env bash
# Runs the MLflow compatibility suite (tests/compat) with the real mlflow-skinny client from .venv.
#   target: PLINTH_COMPAT_TARGET=plinth (default; build/src/plinth or $PLINTH_BIN)
#           PLINTH_COMPAT_TARGET=mlflow (the reference `mlflow server` from .venv-peers)
#   knobs:  PLINTH_COMPAT_SKIP_LARGE=1 (skip the 200 MB artifact test),
#           PLINTH_CONCURRENCY_SECONDS (default 60), PLINTH_COMPAT_KEEP=1 (keep temp dirs).
# Extra arguments go to pytest (e.g. -k search -x). Exits with pytest's code, except that
# "no tests collected" (5) is turned into a failure message, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."

export PLINTH_COMPAT_TARGET="${PLINTH_COMPAT_TARGET:-plinth}"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true

bash scripts/setup-venv.sh || { echo "run-compat: setup-venv failed" >&2; exit 2; }
if [ "$PLINTH_COMPAT_TARGET" = "mlflow" ]; then
  bash scripts/setup-peers.sh || { echo "run-compat: setup-peers failed" >&2; exit 2; }
elif [ "$PLINTH_COMPAT_TARGET" = "plinth" ]; then
  bin="${PLINTH_BIN:-build/src/plinth}"
  if [ ! -x "$bin" ]; then
    echo "run-compat: plinth binary $bin missing; build it first (make build)" >&2
    exit 2
  fi
fi

.venv/bin/python -m pytest tests/compat -p no:cacheprovider -ra --timeout="${PLINTH_COMPAT_TIMEOUT:-900}" "$@"
rc=$?
case $rc in
  0) echo "run-compat: all compatibility tests passed against $PLINTH_COMPAT_TARGET" ;;
  5) echo "run-compat: pytest collected no tests (check the -k/-m selection)" >&2 ;;
  *) echo "run-compat: pytest exited with $rc against $PLINTH_COMPAT_TARGET" >&2 ;;
esac
exit $rc

#!/usr/bin/env bash
# Creates .venv-peers (repo root, gitignored) with the real servers Plinth is compared against:
# full `mlflow` (its `mlflow server`) and `fasttrackml` (`fml server`), plus `psycopg2-binary` so that
# `mlflow server --backend-store-uri postgresql://…` works, and `xgboost` (pinned) + `scikit-learn`,
# which the serving golden test (tests/golden/serving) compares our model runtimes with. Used to run
# the compatibility suite against the reference implementation (PLINTH_COMPAT_TARGET=mlflow), by
# benchmarks and by the serving golden test; CI does not need it. Idempotent: installs only when this script changed or the venv is broken; a change of
# this script installs what is missing but upgrades nothing (PLINTH_VENV_UPGRADE=1 upgrades all),
# so adding a package does not silently move the MLflow version the benchmarks compare against.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-peers
STAMP="$VENV/.plinth-peers.sha256"
PY=${PYTHON:-python3}
# fasttrackml 0.6 declares `mlflow<3` only for its optional Python helpers; the `fml` server is a
# self-contained Go binary. It is installed with --no-deps so the newest mlflow server stays.
PACKAGES=(mlflow psycopg2-binary fasttrackml xgboost==3.2.0 scikit-learn)

# Several scripts (compat suite, benchmarks) may set this venv up at once: serialise them.
exec 9>"${TMPDIR:-/tmp}/plinth-setup-peers.lock"
flock 9

hash_now=$(printf '%s\n' "${PACKAGES[@]}" | cat - "$0" | sha256sum | cut -d' ' -f1)

if [ "${PLINTH_VENV_UPGRADE:-0}" != "1" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash_now" ] \
   && [ -x "$VENV/bin/mlflow" ] && [ -x "$VENV/bin/fml" ] \
   && "$VENV/bin/python" -c 'import psycopg2, sklearn, xgboost' 2>/dev/null; then
  echo "setup-peers: $VENV up to date ($("$VENV/bin/mlflow" --version 2>/dev/null))"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-peers: creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
UPGRADE=()
[ "${PLINTH_VENV_UPGRADE:-0}" = "1" ] && UPGRADE=(--upgrade)
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "${UPGRADE[@]}" mlflow psycopg2-binary xgboost==3.2.0 scikit-learn
"$VENV/bin/python" -m pip install -q "${UPGRADE[@]}" --no-deps fasttrackml
"$VENV/bin/mlflow" --version
"$VENV/bin/python" -c 'import psycopg2; print("psycopg2", psycopg2.__version__)'
"$VENV/bin/python" -c 'import sklearn, xgboost; print("xgboost", xgboost.__version__, "scikit-learn", sklearn.__version__)'
[ -x "$VENV/bin/fml" ] || { echo "setup-peers: fasttrackml did not install the fml binary" >&2; exit 1; }
echo "$hash_now" > "$STAMP"
echo "setup-peers: ready"

#!/usr/bin/env bash
# make test: every test, in the order that fails fastest.
#   1. unit and in-process integration tests (GoogleTest via ctest), the store and API tests on
#      SQLite and on a PostgreSQL 15 server started here (scripts/pg-server.sh, loopback, temp dir)
#   2. the MLflow compatibility suite with the real mlflow-skinny client against `plinth server`
#      on SQLite + a local artifact folder, including the 32-client concurrency test, the kill -9
#      crash test and the 200 MB artifact
#   3. the same suite on PostgreSQL + S3-compatible artifacts (moto, scripts/s3-server.sh), through
#      the artifact proxy and with clients writing to S3 directly
#   4. the replica fault test: 3 replicas on one PostgreSQL, SIGKILL of a replica and a
#      PostgreSQL restart mid-run (tests/scale)
#   (and the Python SDK's in-process tests, python/tests, after ctest)
#   (and, after the SQLite compat run, tests/tune: 4 `plinth tune` workers on one study, one
#   killed with SIGKILL)
#   5. the web UI in headless Chromium against a seeded `plinth server` (ui/tests)
# Servers started here are stopped on exit, whatever happens.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"

failed=()
pg_dir=""
s3_dir=""
cleanup() {
  [ -n "$s3_dir" ] && bash scripts/s3-server.sh stop "$s3_dir" >/dev/null 2>&1
  [ -n "$pg_dir" ] && bash scripts/pg-server.sh stop "$pg_dir" >/dev/null 2>&1
}
trap cleanup EXIT

echo "== starting PostgreSQL for the store tests"
if pg_env="$(bash scripts/pg-server.sh start)"; then
  # shellcheck disable=SC1090
  set -a; . "$pg_env"; set +a
  pg_dir="$PLINTH_TEST_PG_DIR"
  echo "   $PLINTH_TEST_PG_DSN"
else
  failed+=("postgres-start")
fi

echo "== starting the S3-compatible test server (moto, loopback)"
s3_env=""
if s3_env="$(bash scripts/s3-server.sh start)"; then
  s3_dir="$(dirname "$s3_env")"
  # shellcheck disable=SC1090
  set -a; . "$s3_env"; set +a
else
  failed+=("s3-start")
  s3_env=""
fi

# The serving golden test (plinth_serving_test) compares our runtimes with XGBoost 3.2 and mlflow
# pyfunc on models this generates; it is skipped when the inputs are unchanged.
echo "== serving golden models (tests/golden/serving/make_golden.py into $BUILD_DIR/serving-golden)"
if ! { bash scripts/setup-peers.sh >/dev/null &&
  .venv-peers/bin/python tests/golden/serving/make_golden.py "$BUILD_DIR/serving-golden"; }; then
  failed+=("serving-golden")
fi

echo "== unit and integration tests (ctest; store and API tests also on PostgreSQL, S3 tests on moto)"
if ! (cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)"); then
  failed+=("ctest")
fi

echo "== Python SDK in process (python/tests; the native module built into $BUILD_DIR/python)"
if ! PYTHONPATH="$BUILD_DIR/python" .venv/bin/python -m pytest python/tests -p no:cacheprovider -ra -q; then
  failed+=("python-sdk")
fi

# The MLflow client suite must not inherit the S3 variables in its SQLite + folder run.
echo "== MLflow compatibility suite: SQLite + local folder (pytest, real mlflow-skinny client)"
if ! env -u AWS_ENDPOINT_URL -u MLFLOW_S3_ENDPOINT_URL bash scripts/run-compat.sh; then
  failed+=("compat-sqlite")
fi

echo "== distributed tuning: 4 plinth tune workers on one 200-trial study, one killed with SIGKILL"
echo "   (SQLite, then 2 replicas on PostgreSQL)"
rm -f "$BUILD_DIR/tune-distributed.json"
if ! PLINTH_BIN="$(cd "$BUILD_DIR" && pwd)/src/plinth" PLINTH_TUNE_REPORT="$BUILD_DIR/tune-distributed.json" \
  .venv/bin/python -m pytest tests/tune -p no:cacheprovider -ra -q; then
  failed+=("tune-distributed")
fi
[ -f "$BUILD_DIR/tune-distributed.json" ] && cat "$BUILD_DIR/tune-distributed.json"

if [ -n "$pg_dir" ] && [ -n "$s3_env" ]; then
  echo "== MLflow compatibility suite: PostgreSQL + S3 through the artifact proxy"
  if ! PLINTH_COMPAT_PG_DSN="$PLINTH_TEST_PG_DSN" \
    PLINTH_COMPAT_ARTIFACTS_ROOT="s3://$PLINTH_TEST_S3_BUCKET/compat-proxy-$$" \
    bash scripts/run-compat.sh; then
    failed+=("compat-postgres-s3")
  fi
  # Direct mode: clients get s3:// URIs and write with boto3. The 200 MB and long concurrency
  # tests already ran twice above; moto keeps objects in memory.
  echo "== MLflow compatibility suite: PostgreSQL + S3 written directly by the client"
  if ! PLINTH_COMPAT_PG_DSN="$PLINTH_TEST_PG_DSN" \
    PLINTH_COMPAT_ARTIFACTS_ROOT="s3://$PLINTH_TEST_S3_BUCKET/compat-direct-$$" \
    PLINTH_COMPAT_ARTIFACTS_MODE=direct PLINTH_COMPAT_SKIP_LARGE=1 PLINTH_CONCURRENCY_SECONDS=15 \
    bash scripts/run-compat.sh; then
    failed+=("compat-postgres-s3-direct")
  fi
fi

if [ -n "$pg_dir" ]; then
  echo "== replicas on one PostgreSQL: kill -9 a replica and restart PostgreSQL mid-run"
  if ! PLINTH_SCALE_REPORT="$BUILD_DIR/scale-report.json" \
    .venv/bin/python -m pytest tests/scale -p no:cacheprovider -ra -q; then
    failed+=("replicas")
  fi
  [ -f "$BUILD_DIR/scale-report.json" ] && cat "$BUILD_DIR/scale-report.json" && echo
fi

echo "== dataset versions: data add/list/show/get, drift endpoint, a 2 GB file in bounded memory"
if ! PLINTH_DATASET_REPORT="$BUILD_DIR/datasets-report.json" \
  .venv/bin/python -m pytest tests/data -p no:cacheprovider -ra -q; then
  failed+=("datasets")
fi
[ -f "$BUILD_DIR/datasets-report.json" ] && cat "$BUILD_DIR/datasets-report.json"

echo "== web UI in headless Chromium (playwright-core; screenshots in $BUILD_DIR/ui-screenshots)"
# build-ui.sh makes sure ui/node_modules matches ui/package-lock.json (the tests need
# playwright-core); the server under test is the binary built above, UI embedded.
ui_build="$(cd "$BUILD_DIR" && pwd)"
if ! bash scripts/build-ui.sh >/dev/null ||
  ! (cd ui && PLINTH_BIN="$ui_build/src/plinth" PLINTH_UI_SCREENSHOTS="$ui_build/ui-screenshots" \
    node --test tests/ui.test.mjs); then
  failed+=("ui")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all suites passed"

#!/usr/bin/env bash
# make test: every test, in the order that fails fastest.
#   1. unit and in-process integration tests (GoogleTest via ctest), the store and API tests on
#      SQLite and on a PostgreSQL 15 server started here (scripts/pg-server.sh, loopback, temp dir)
#   2. the MLflow compatibility suite with the real mlflow-skinny client against `plinth server`
#      on SQLite + a local artifact folder, including the 32-client concurrency test, the kill -9
#      crash test and the 200 MB artifact
#   3. the same suite on PostgreSQL + S3-compatible artifacts (moto, scripts/s3-server.sh)
#   4. the replica fault test: 3 replicas on one PostgreSQL, SIGKILL of a replica and a
#      PostgreSQL restart mid-run (tests/scale)
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

echo "== unit and integration tests (ctest)"
if ! (cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)"); then
  failed+=("ctest")
fi

echo "== MLflow compatibility suite: SQLite + local folder (pytest, real mlflow-skinny client)"
if ! bash scripts/run-compat.sh; then
  failed+=("compat-sqlite")
fi

if [ -n "$pg_dir" ]; then
  s3_env=""
  if [ -f scripts/s3-server.sh ]; then
    echo "== starting the S3-compatible test server"
    if s3_env="$(bash scripts/s3-server.sh start)"; then
      s3_dir="$(dirname "$s3_env")"
    else
      failed+=("s3-start")
      s3_env=""
    fi
  fi
  echo "== MLflow compatibility suite: PostgreSQL + ${s3_env:+S3}${s3_env:-local folder}"
  if ! (
    export PLINTH_COMPAT_PG_DSN="$PLINTH_TEST_PG_DSN"
    if [ -n "$s3_env" ]; then
      set -a; . "$s3_env"; set +a
      export PLINTH_COMPAT_ARTIFACTS_ROOT="s3://${PLINTH_TEST_S3_BUCKET:-plinth-test}/compat-$$"
    fi
    bash scripts/run-compat.sh
  ); then
    failed+=("compat-postgres")
  fi

  if [ -f tests/scale/test_replicas.py ]; then
    echo "== replicas on one PostgreSQL: kill -9 a replica and restart PostgreSQL mid-run"
    if ! .venv/bin/python -m pytest tests/scale -p no:cacheprovider -ra -q; then
      failed+=("replicas")
    fi
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all suites passed"

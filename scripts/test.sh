#!/usr/bin/env bash
# make test: every test, in the order that fails fastest.
#   1. unit and in-process integration tests (GoogleTest via ctest)
#   2. the MLflow compatibility suite with the real mlflow-skinny client against `plinth server`,
#      including the 32-client concurrency test, the kill -9 crash test and the 200 MB artifact.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"

failed=()

echo "== unit and integration tests (ctest)"
if ! (cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)"); then
  failed+=("ctest")
fi

echo "== MLflow compatibility suite (pytest, real mlflow-skinny client)"
if ! bash scripts/run-compat.sh; then
  failed+=("compat")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all suites passed"

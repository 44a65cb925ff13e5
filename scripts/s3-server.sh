#!/usr/bin/env bash
# A throwaway S3-compatible server for tests: moto in server mode (from .venv, installed by
# scripts/setup-venv.sh), loopback only, objects in memory, one bucket created.
#   scripts/s3-server.sh start [DIR]   starts it (DIR default: a new temp folder), prints DIR/env:
#                                       AWS_ENDPOINT_URL, MLFLOW_S3_ENDPOINT_URL, credentials,
#                                       region, PLINTH_TEST_S3_ENDPOINT and PLINTH_TEST_S3_BUCKET
#   scripts/s3-server.sh stop DIR      stops it and removes DIR
# Use: env_file=$(bash scripts/s3-server.sh start); set -a; . "$env_file"; set +a
# Tunable: PLINTH_S3_BUCKET (default plinth-test).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

cmd="${1:-}"
case "$cmd" in
  start)
    bash scripts/setup-venv.sh >&2
    dir="${2:-$(mktemp -d "${TMPDIR:-/tmp}/plinth-s3.XXXXXX")}"
    mkdir -p "$dir"
    bucket="${PLINTH_S3_BUCKET:-plinth-test}"
    port="$("$REPO/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    # setsid: its own session, so the caller's Ctrl-C or test runner does not take it down.
    setsid "$REPO/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    endpoint="http://127.0.0.1:$port"
    for _ in $(seq 1 150); do
      if curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null; then break; fi
      if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "s3-server: moto exited:" >&2
        cat "$dir/server.log" >&2
        exit 1
      fi
      sleep 0.2
    done
    cat >"$dir/env" <<ENV
AWS_ENDPOINT_URL=$endpoint
MLFLOW_S3_ENDPOINT_URL=$endpoint
AWS_ACCESS_KEY_ID=plinth-test-key
AWS_SECRET_ACCESS_KEY=plinth-test-secret
AWS_DEFAULT_REGION=us-east-1
AWS_REGION=us-east-1
PLINTH_TEST_S3_ENDPOINT=$endpoint
PLINTH_TEST_S3_BUCKET=$bucket
PLINTH_TEST_S3_DIR=$dir
ENV
    # The bucket, created the way any S3 client would (PUT /BUCKET, path-style).
    set -a
    # shellcheck disable=SC1091
    . "$dir/env"
    set +a
    "$REPO/.venv/bin/python" - "$bucket" <<'PY' >&2
import sys
import boto3
boto3.client("s3").create_bucket(Bucket=sys.argv[1])
PY
    echo "$dir/env"
    ;;
  stop)
    dir="${2:?usage: s3-server.sh stop DIR}"
    if [ -f "$dir/pid" ]; then
      pid="$(cat "$dir/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: s3-server.sh start [DIR] | stop DIR" >&2
    exit 2
    ;;
esac

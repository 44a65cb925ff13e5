#!/usr/bin/env bash
# Installs the Debian packages Plinth builds against. Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libboost-dev libboost-system-dev      # Boost.Beast/Asio (HTTP facade, src/http only)
  rapidjson-dev                          # hot-path JSON parse + write
  libsqlite3-dev                         # embedded metadata store
  libpq-dev                              # PostgreSQL metadata store (libpq)
  libcurl4-openssl-dev                   # S3-compatible artifact store (transport; we sign SigV4)
  libexpat1-dev                          # S3 XML responses (ListObjectsV2, errors, multipart)
  postgresql                             # PostgreSQL 15 server for the store tests (started on loopback)
  libssl-dev                             # SHA-256, random ids
  libcli11-dev                           # CLI parsing
  libyaml-cpp-dev                        # YAML: MLmodel files, validation suites, study configs
  nlohmann-json3-dev                     # cold-path JSON and UBJSON (XGBoost .ubj model files)
  libxgboost-dev                         # model serving: XGBoost C API runtime
  libeigen3-dev                          # CMA-ES sampler: eigendecomposition of the covariance
  libspdlog-dev libfmt-dev               # logging (async access log)
  libgtest-dev libgmock-dev googletest   # unit tests
  python3-venv                           # test peers (mlflow client) live in a virtualenv
  python3-dev pybind11-dev               # the Python SDK's native module (python/)
  nodejs npm                             # web UI build (scripts/build-ui.sh: npm ci + esbuild)
  chromium                               # web UI browser tests (playwright-core drives it headless)
  curl procps psmisc
)

# Some machines carry Node.js from NodeSource, whose `nodejs` package bundles npm and conflicts
# with Debian's `npm`: a working npm command counts as present.
provided_by_command() {
  case "$1" in
    npm) command -v npm >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

missing=()
for p in "${PACKAGES[@]}"; do
  if provided_by_command "$p"; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

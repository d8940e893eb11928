#!/usr/bin/env bash
# Installs the three emulators the tests start, pinned, into a project-local
# tools folder (default: .tools/ at the repository root, or $ANYBLOB_TOOLS).
# Installed once and reused: a binary whose recorded version matches the pin is
# not rebuilt. Needs only the Go module proxy and the npm registry.
#
#   MinIO            go install github.com/minio/minio@$MINIO_VERSION
#   fake-gcs-server  go install github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION
#   Azurite          npm install azurite@$AZURITE_VERSION
set -euo pipefail

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
FAKE_GCS_VERSION=v1.56.1
AZURITE_VERSION=3.35.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${ANYBLOB_TOOLS:-$root/.tools}
mkdir -p "$tools/bin"

# installed NAME VERSION: true when $tools/bin/NAME exists and was built at VERSION.
installed() {
  [ -x "$tools/bin/$1" ] && [ "$(cat "$tools/bin/.$1.version" 2>/dev/null)" = "$2" ]
}

go_tool() { # go_tool NAME MODULE VERSION
  local name=$1 mod=$2 ver=$3
  if installed "$name" "$ver"; then
    echo "install-emulators: $name $ver already installed"
    return
  fi
  echo "install-emulators: go install $mod@$ver (MinIO takes several minutes the first time)"
  GOBIN="$tools/bin" GOFLAGS=-buildvcs=false go install "$mod@$ver"
  echo "$ver" >"$tools/bin/.$name.version"
}

go_tool minio github.com/minio/minio "$MINIO_VERSION" &
minio_pid=$!
go_tool fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_VERSION"

if installed azurite "$AZURITE_VERSION"; then
  echo "install-emulators: azurite $AZURITE_VERSION already installed"
else
  echo "install-emulators: npm install azurite@$AZURITE_VERSION"
  mkdir -p "$tools/azurite"
  npm install --silent --no-audit --no-fund --prefix "$tools/azurite" "azurite@$AZURITE_VERSION"
  ln -sf "$tools/azurite/node_modules/.bin/azurite-blob" "$tools/bin/azurite"
  echo "$AZURITE_VERSION" >"$tools/bin/.azurite.version"
fi

wait "$minio_pid"
echo "install-emulators: tools in $tools/bin"

#!/usr/bin/env bash
# Runs every test of anyblob, emulators included, on a fresh machine:
# installs the pinned emulators (MinIO, Azurite, fake-gcs-server) if they are
# missing, checks formatting and vet (the bench module too), then runs every
# test once, the packages with goroutines under the race detector.
# With emulators installed by this script, a missing one is a failure, never a
# skip (ANYBLOB_REQUIRE_EMULATORS=1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-emulators.sh
export ANYBLOB_TOOLS="${ANYBLOB_TOOLS:-$root/.tools}" # where install-emulators.sh put them
export ANYBLOB_REQUIRE_EMULATORS=1
# The official SigV4 test suite lives beside the repository.
if [ -z "${SIGV4_TESTSUITE:-}" ] && [ -d "$root/../shared/sigv4-testsuite" ]; then
  export SIGV4_TESTSUITE="$root/../shared/sigv4-testsuite"
fi
# Test hygiene: no test may reach a real metadata service or a user's files.
# HOME moves to an empty directory; Go's caches stay where they were.
export GOPATH="$(go env GOPATH)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
export AWS_EC2_METADATA_DISABLED=true
export HOME="$(mktemp -d)"
# Tests using blobtest share emulators across test binaries (recorded in
# .tools/run); stop them when the run ends.
trap 'go run ./cmd/anyblob-emulators stop >/dev/null 2>&1 || true; rm -rf "$HOME"' EXIT

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt wants these files rewritten:"; echo "$unformatted"; exit 1
fi

echo "== go mod tidy"
if ! go mod tidy -diff; then
  echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1
fi
(cd bench && if ! go mod tidy -diff; then echo "bench/go.mod is not tidy: run (cd bench && go mod tidy)"; exit 1; fi)

echo "== go vet"
go vet ./...
(cd bench && go vet ./...)

# Every package runs once: those with goroutines (the buckets, the auth
# caches, the suite, the drivers and their shared machinery, emulators
# included) under the race detector, the rest (command, examples) without
# it.
race=(./blob/... ./blobtest/... ./auth/... ./conformance/... ./providers/... ./internal/...)
echo "== go test -race (packages with goroutines, emulators included)"
go test -race -count=1 -timeout 40m "${race[@]}"

echo "== go test (bench: our signing and credential chain against the AWS SDK's, offline)"
(cd bench && go test -race -count=1 -run '^Test' ./...)

echo "== go test (the rest)"
rest=$(go list ./... | grep -v -E 'anyblob/anyblob/(blob|blobtest|auth|conformance|providers|internal)(/|$)')
go test -count=1 -timeout 20m $rest

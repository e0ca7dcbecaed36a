#!/usr/bin/env bash
# Makes a working `pulumi` CLI available and prints the directory that holds it.
#
# A `pulumi` already on PATH at version 3.272 or newer is used as it is.
# Otherwise the CLI is built from the Go module proxy into a cache outside the
# repository, pinned to PULUMI_VERSION, with the helper scripts the engine
# expects beside it: our own Python language host, dynamic-provider shim and
# policy-pack shim, all from scripts/engine/. The cache is reused
# while the version matches. Progress goes to stderr; the last line of stdout
# is the bin directory to put first on PATH.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-3.276.0}"
MIN_VERSION="3.272.0"
CACHE="${PULUMI_INFRAHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-infrahub}"
BIN="$CACHE/pulumi-v$PULUMI_VERSION/bin"
here="$(cd "$(dirname "$0")/.." && pwd)"
started=$(date +%s)

say() { echo "get-pulumi: $*" >&2; }

version_ok() {
  # True when $1 (x.y.z) is at least $MIN_VERSION.
  [ "$(printf '%s\n%s\n' "$MIN_VERSION" "$1" | sort -V | head -n1)" = "$MIN_VERSION" ]
}

install_helpers() {
  # The engine looks for the plugins beside `pulumi`; they are ours, not
  # Pulumi's, and the Python files they run must sit in the same folder.
  for plugin in pulumi-language-python pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
    install -m 0755 "$here/scripts/engine/$plugin" "$BIN/$plugin"
  done
  for part in select-python.sh langhost.py policy_proxy.py run_program.py; do
    install -m 0644 "$here/scripts/engine/$part" "$BIN/$part"
  done
}

found="$(command -v pulumi 2>/dev/null || true)"
# Our own cached build may be on PATH already; it is handled below, so that
# its helper scripts are refreshed from this checkout.
if [ -z "${PULUMI_INFRAHUB_BUILD_CLI:-}" ] && [ -n "$found" ] && [ "$(dirname "$found")" != "$BIN" ]; then
  have="$("$found" version 2>/dev/null | sed 's/^v//')"
  if [ -n "$have" ] && version_ok "$have"; then
    say "using $found (v$have) from PATH"
    dirname "$found"
    exit 0
  fi
  say "ignoring $found (version '${have:-unknown}' is older than $MIN_VERSION)"
fi

if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
  install_helpers
  say "reusing cached CLI v$PULUMI_VERSION in $BIN ($(( $(date +%s) - started ))s)"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  say "no pulumi on PATH and no Go toolchain to build one; install Pulumi (https://www.pulumi.com/docs/install/) or Go 1.26+"
  exit 1
}

say "building pulumi v$PULUMI_VERSION from the Go module proxy into $BIN (a cold build takes about five minutes on two cores)"
build="$CACHE/build-v$PULUMI_VERSION"
mkdir -p "$build" "$BIN"
cd "$build"
if [ ! -f go.mod ]; then
  go mod init local.invalid/pulumi-build >/dev/null 2>&1
fi
# pkg/go.mod carries a replace that only applies when it is the main module;
# a wrapper module has to repeat it.
go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
go get -tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" >&2
go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" >&2
go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
install_helpers
say "built $("$BIN/pulumi" version) in $(( $(date +%s) - started ))s"
echo "$BIN"

#!/usr/bin/env bash
# otelcol.sh builds the OpenTelemetry Collector the tests push to, when missing, and prints the
# path of the binary as its last line on stdout (build logs go to stderr).
#
#   scripts/otelcol.sh      build .tools/otelcol/<hash>/otelcol-procagent if missing; print its path
#
# The binary comes from scripts/otelcol/manifest.yaml (otlpreceiver + fileexporter) through
# go.opentelemetry.io/collector/cmd/builder, in a temporary directory with the go.mod the builder
# generates: the project's go.mod neither constrains nor records it. <hash> covers the manifest
# and the builder version, so editing either builds anew; older builds are removed then.
# A cold build takes about 90 s; afterwards this prints the path at once.
set -euo pipefail

# Keep equal to the component versions in scripts/otelcol/manifest.yaml.
BUILDER_VERSION="v0.161.0"
NAME="otelcol-procagent"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$ROOT/scripts/otelcol/manifest.yaml"
CACHE="$ROOT/.tools/otelcol"

log() { printf 'otelcol: %s\n' "$*" >&2; }

main() {
  local hash dir bin
  hash="$({ printf 'builder %s\n' "$BUILDER_VERSION"; cat "$MANIFEST"; } | sha256sum | cut -c1-16)"
  dir="$CACHE/$hash"
  bin="$dir/$NAME"
  if [[ -x "$bin" ]]; then
    printf '%s\n' "$bin"
    return 0
  fi

  mkdir -p "$CACHE"
  # One build at a time; a second caller waits, then finds the binary.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.lock"
    flock 9
    if [[ -x "$bin" ]]; then
      printf '%s\n' "$bin"
      return 0
    fi
  fi

  local work start=$SECONDS
  work="$(mktemp -d "${TMPDIR:-/tmp}/otelcol-build.XXXXXX")"
  # shellcheck disable=SC2064 # expand $work now
  trap "rm -rf '$work'" EXIT
  cp "$MANIFEST" "$work/manifest.yaml"
  log "building $NAME with builder $BUILDER_VERSION (about 90 s cold)"
  (cd "$work" && GOWORK=off go run "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" \
    --config manifest.yaml) >&2

  mkdir -p "$dir"
  # Copy next to the target, then rename: a reader never sees a half-written binary.
  cp "$work/_build/$NAME" "$dir/.$NAME.tmp"
  mv -f "$dir/.$NAME.tmp" "$bin"
  local old
  for old in "$CACHE"/*/; do
    if [[ "${old%/}" != "$dir" ]]; then
      rm -rf "${old%/}"
    fi
  done
  log "built $bin in $((SECONDS - start))s"
  printf '%s\n' "$bin"
}

main "$@"

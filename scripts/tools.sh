#!/usr/bin/env bash
# tools.sh installs what the build, the tests and the linters need.
#
#   scripts/tools.sh deps           apt packages the tests use (prometheus, austin, protoc), then
#                                   austin >= 3.5 into .tools/bin when the installed one is older
#                                   (scripts/austin.sh: Python 3.10+ needs it)
#   scripts/tools.sh go [NAME...]   pinned Go tools into .tools/bin (default: the required ones)
#   scripts/tools.sh path NAME      print the path of a pinned Go tool (installing it if missing)
#   scripts/tools.sh versions       print the pinned versions
#
# Every step is idempotent and does nothing when what it installs is already there.
set -euo pipefail

# Pinned Go tools: name, module path of the main package, version. Declared here; only
# scripts/gen-proto.sh repeats BUF_VERSION (it installs buf itself when run directly), so
# keep the two equal.
GOLANGCI_LINT_VERSION="v2.15.0"
BUF_VERSION="v1.75.0"
BENCHSTAT_VERSION="v0.0.0-20260908200009-22c9c6c9d4da"

declare -A GO_TOOL_PKG=(
  [golangci-lint]="github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
  [buf]="github.com/bufbuild/buf/cmd/buf"
  [benchstat]="golang.org/x/perf/cmd/benchstat"
)
declare -A GO_TOOL_VERSION=(
  [golangci-lint]="$GOLANGCI_LINT_VERSION"
  [buf]="$BUF_VERSION"
  [benchstat]="$BENCHSTAT_VERSION"
)
# Installed by `go` with no names; benchstat is optional (`scripts/tools.sh go benchstat`).
REQUIRED_GO_TOOLS=(golangci-lint buf)

# apt: command that must exist -> Debian package that provides it.
declare -A APT_CMD_PKG=(
  [python3]="python3"
  [prometheus]="prometheus"
  [austin]="austin"
  [protoc]="protobuf-compiler"
)
# apt: packages with no command of their own, checked with dpkg.
APT_LIB_PKGS=(libprotobuf-dev)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools"
TOOLS_BIN="$TOOLS_DIR/bin"
STAMPS="$TOOLS_DIR/stamps"

log() { printf 'tools: %s\n' "$*" >&2; }

# go_tool_install NAME: go install NAME@VERSION into .tools/bin unless its stamp says it is there.
go_tool_install() {
  local name="$1"
  local pkg="${GO_TOOL_PKG[$name]:-}"
  local version="${GO_TOOL_VERSION[$name]:-}"
  if [[ -z "$pkg" ]]; then
    log "unknown Go tool: $name (known: ${!GO_TOOL_PKG[*]})"
    return 2
  fi
  local stamp="$STAMPS/$name@$version"
  if [[ -f "$stamp" && -x "$TOOLS_BIN/$name" ]]; then
    return 0
  fi
  mkdir -p "$TOOLS_BIN" "$STAMPS"
  # A binary put there by another script (gen-proto.sh installs buf too): keep it when
  # its build info names the pinned module version.
  if [[ -x "$TOOLS_BIN/$name" ]] &&
    [[ "$(go version -m "$TOOLS_BIN/$name" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')" == "$version" ]]; then
    rm -f "$STAMPS/$name@"*
    touch "$stamp"
    return 0
  fi
  log "installing $name $version"
  local start=$SECONDS
  # pkg@version builds the tool from its own go.mod: the project's go.mod neither constrains
  # nor records it.
  GOBIN="$TOOLS_BIN" go install "$pkg@$version"
  rm -f "$STAMPS/$name@"*
  touch "$stamp"
  log "installed $name $version in $((SECONDS - start))s"
}

cmd_go() {
  local names=("$@")
  if [[ ${#names[@]} -eq 0 ]]; then
    names=("${REQUIRED_GO_TOOLS[@]}")
  fi
  local n
  for n in "${names[@]}"; do
    go_tool_install "$n"
  done
}

cmd_path() {
  go_tool_install "$1"
  printf '%s\n' "$TOOLS_BIN/$1"
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

cmd_deps() {
  cmd_apt_deps
  bash "$ROOT/scripts/austin.sh"
}

cmd_apt_deps() {
  local missing=() c p
  for c in "${!APT_CMD_PKG[@]}"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      missing+=("${APT_CMD_PKG[$c]}")
    fi
  done
  for p in "${APT_LIB_PKGS[@]}"; do
    if ! pkg_installed "$p"; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found; install these yourself: ${missing[*]} (tests that need them may skip or fail)"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    log "not root; install these yourself: ${missing[*]} (tests that need them may skip or fail)"
    return 0
  fi
  log "apt installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

cmd_versions() {
  local n
  for n in "${!GO_TOOL_PKG[@]}"; do
    printf '%s %s@%s\n' "$n" "${GO_TOOL_PKG[$n]}" "${GO_TOOL_VERSION[$n]}"
  done | sort
}

main() {
  local sub="${1:-}"
  shift || true
  case "$sub" in
    deps) cmd_deps "$@" ;;
    go) cmd_go "$@" ;;
    path) cmd_path "$@" ;;
    versions) cmd_versions ;;
    *)
      log "usage: $0 {deps|go [NAME...]|path NAME|versions}"
      return 2
      ;;
  esac
}

main "$@"

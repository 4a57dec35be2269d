#!/usr/bin/env bash
# austin.sh puts an austin that reads current Pythons (3.10 and later) into .tools/bin.
#
#   scripts/austin.sh            build austin 3.7.0 unless an austin >= 3.5 is already there
#   scripts/austin.sh version    print the version of the austin the agent would pick, if any
#
# Debian 12 ships austin 1.0.1, which reads Python <= 3.9 only. Debian 13 ships 3.7.0; its
# source package's .orig tarball is fetched through apt (a temporary deb-src list for trixie,
# on the same mirror the machine's own Debian list names), checked against a pinned sha256 and
# built with the C compiler alone (about 5 s). The temporary list is removed and apt's lists
# refreshed again on the way out, so the machine's apt state is as before.
#
# Idempotent: does nothing when .tools/bin/austin (or the austin on PATH) is 3.5 or newer.
set -euo pipefail

AUSTIN_VERSION="3.7.0"
AUSTIN_SHA256="225968a4302529b62d212db07fa692446a6df58049f2f444011ef4866604339e"
AUSTIN_SUITE="trixie"
AUSTIN_MIN="3.5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="$ROOT/.tools/bin"
APT_LIST="/etc/apt/sources.list.d/procagent-austin-src.sources"

log() { printf 'austin: %s\n' "$*" >&2; }

# austin_version BIN: the version BIN reports ("3.7.0"), or nothing.
austin_version() {
  "$1" --version 2>/dev/null | awk '/^austin / { print $2; exit }'
}

# at_least A B: whether version A >= version B.
at_least() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]
}

# good BIN: BIN exists and reports a version >= AUSTIN_MIN.
good() {
  local v
  [[ -x "$1" ]] || return 1
  v="$(austin_version "$1")"
  [[ -n "$v" ]] && at_least "$v" "$AUSTIN_MIN"
}

# debian_mirror: the Debian archive URI the machine's apt sources already use.
debian_mirror() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
    [[ -n "$uri" ]] && break
  done
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  printf '%s\n' "$uri"
}

cleanup_apt() {
  if [[ -f "$APT_LIST" ]]; then
    rm -f "$APT_LIST"
    apt-get update -qq || log "apt-get update after removing the temporary list failed"
  fi
}

WORK=""

build() {
  local mirror tarball start=$SECONDS
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
    log "need root, apt-get and gcc to build austin $AUSTIN_VERSION; Python >= 3.10 workers need py-spy or austin >= $AUSTIN_MIN (tests that need it skip, or fail under CI)"
    return 0
  fi
  mirror="$(debian_mirror)"
  if [[ -z "$mirror" ]]; then
    log "no Debian mirror in the apt sources; cannot fetch austin $AUSTIN_VERSION"
    return 0
  fi
  WORK="$(mktemp -d)"
  trap 'cleanup_apt; rm -rf "$WORK"' EXIT
  local work="$WORK"
  log "building austin $AUSTIN_VERSION from Debian's $AUSTIN_SUITE source"
  cat >"$APT_LIST" <<EOF
Types: deb-src
URIs: $mirror
Suites: $AUSTIN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -qq
  # Only the .orig tarball is needed (and served); the .dsc may answer 404, so apt's status
  # is not the judge: the checksum below is.
  (cd "$work" && apt-get source --download-only -qq "austin=$AUSTIN_VERSION-*" >/dev/null 2>&1 ||
    apt-get source --download-only -qq austin >/dev/null 2>&1) || true
  cleanup_apt
  tarball="$work/austin_$AUSTIN_VERSION.orig.tar.gz"
  if [[ ! -f "$tarball" ]]; then
    tarball="$(find "$work" -maxdepth 1 -name "austin_$AUSTIN_VERSION.orig.tar.*" | head -1)"
  fi
  if [[ -z "$tarball" || ! -f "$tarball" ]]; then
    log "apt did not fetch austin_$AUSTIN_VERSION.orig.tar.*"
    return 1
  fi
  if ! echo "$AUSTIN_SHA256  $tarball" | sha256sum -c --quiet -; then
    log "checksum mismatch for $(basename "$tarball")"
    return 1
  fi
  mkdir -p "$work/src"
  tar -xf "$tarball" -C "$work/src" --strip-components=1
  mkdir -p "$TOOLS_BIN"
  (cd "$work/src" && gcc -O2 -pthread -o "$work/austin" src/*.c)
  install -m 0755 "$work/austin" "$TOOLS_BIN/austin"
  log "installed austin $(austin_version "$TOOLS_BIN/austin") into .tools/bin in $((SECONDS - start))s"
}

main() {
  case "${1:-}" in
    version)
      local b
      for b in "$TOOLS_BIN/austin" "$(command -v austin || true)"; do
        if [[ -n "$b" && -x "$b" ]]; then
          austin_version "$b"
          return 0
        fi
      done
      return 1
      ;;
    "")
      if good "$TOOLS_BIN/austin"; then
        return 0
      fi
      if command -v austin >/dev/null 2>&1 && good "$(command -v austin)"; then
        return 0
      fi
      build
      ;;
    *)
      log "usage: $0 [version]"
      return 2
      ;;
  esac
}

main "$@"

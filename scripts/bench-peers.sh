#!/usr/bin/env bash
# bench-peers.sh measures procagent beside what a user would pick instead, in one run, and
# writes BENCHMARKS.md with its charts (bench/charts/*.png). `make bench-peers` runs it.
#
#   1. the actor runtime vs hollywood and protoactor-go on G1–G5, each beside raw Go
#      (bench/cmd/peers runtimes: one process, interleaved repetitions, a fixed seed);
#   2. the runtime's in-process G1/G2 paired benchmarks (the `make bench` figures);
#   3. the agent vs prometheus-node-exporter and prometheus-process-exporter watching the same
#      N = 10, 100, 1000 Python sleepers (bench/cmd/peers exporters);
#   4. the report (bench/cmd/peers report).
#
# It installs the two exporters (and python3) with apt when missing, builds the agent, and
# takes about 10 minutes on 2 cores. Every process it starts is gone when it ends, on
# failure too. Knobs for a quicker look (the defaults are what BENCHMARKS.md shows):
#   BENCH_PEERS_REPS=21  BENCH_PEERS_SCALE=1  BENCH_PEERS_N=10,100,1000  BENCH_PEERS_IDLE=60s
#   BENCH_PEERS_EXP_REPS=7  BENCH_PEERS_SEED=1  BENCH_PEERS_PAIRED_COUNT=5
#   BENCH_PEERS_MD=BENCHMARKS.md  BENCH_PEERS_CHARTS=bench/charts
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPS="${BENCH_PEERS_REPS:-21}"
SCALE="${BENCH_PEERS_SCALE:-1}"
NS="${BENCH_PEERS_N:-10,100,1000}"
IDLE="${BENCH_PEERS_IDLE:-60s}"
EXP_REPS="${BENCH_PEERS_EXP_REPS:-7}"
SEED="${BENCH_PEERS_SEED:-1}"
PAIRED_COUNT="${BENCH_PEERS_PAIRED_COUNT:-5}"
MD="${BENCH_PEERS_MD:-BENCHMARKS.md}"
CHARTS="${BENCH_PEERS_CHARTS:-bench/charts}"
OUT="bin/bench-peers"
python=""
GO="${GO:-go}"

log() { printf 'bench-peers: %s\n' "$*" >&2; }

# Both peers register actor.proto; protobuf panics on the conflict unless told to warn.
export GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn

# deps installs the exporters and python3 with apt when missing (as scripts/tools.sh does).
deps() {
  local missing=() c
  declare -A pkg=(
    [prometheus-node-exporter]=prometheus-node-exporter
    [prometheus-process-exporter]=prometheus-process-exporter
    [python3]=python3
  )
  for c in "${!pkg[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("${pkg[$c]}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${missing[*]}; install them (apt-get install ${missing[*]}) and run again"
    return 1
  fi
  log "apt installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' services are not wanted: the benchmark starts its own on free ports.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# run logs a command into the report's list (machine paths replaced by how to find them), then runs it.
run() {
  local shown="" a
  for a in "$@"; do
    [[ "$a" =~ ^[A-Za-z0-9_./,=:+-]+$ ]] || a="'$a'"
    shown+="${shown:+ }$a"
  done
  [[ -n "${python:-}" ]] && shown="${shown//"$python"/'"$(python3 -c "import sys; print(sys.executable)")"'}"
  printf '%s\n' "$shown" >>"$OUT/commands.txt"
  log "+ $shown"
  "$@"
}

main() {
  local start=$SECONDS
  mkdir -p "$OUT"
  : >"$OUT/commands.txt"
  deps

  run "$GO" build -o bin/agent ./cmd/agent
  (cd bench && "$GO" build -o ../bin/peers ./cmd/peers)
  printf '%s\n' "(cd bench && go build -o ../bin/peers ./cmd/peers)" >>"$OUT/commands.txt"

  # The workers run the interpreter itself, not a wrapper (a pyenv shim costs a shell per start).
  python="$(python3 -c 'import sys; print(sys.executable)')"

  run bin/peers runtimes -reps "$REPS" -scale "$SCALE" -seed "$SEED" -out "$OUT/runtimes.json"

  run "$GO" test -run '^$' -bench 'G[12]_.*/paired' -benchtime 2s -count "$PAIRED_COUNT" ./runtime/ \
    | tee "$OUT/paired.txt"

  run bin/peers exporters -agent bin/agent -python "$python" -n "$NS" -idle "$IDLE" \
    -reps "$EXP_REPS" -scrapes 5 -seed "$SEED" -dir "$OUT/exporters" -out "$OUT/exporters.json"

  run bin/peers report -runtimes "$OUT/runtimes.json" -exporters "$OUT/exporters.json" \
    -paired "$OUT/paired.txt" -md "$MD" -charts "$CHARTS" -detail "$OUT/commands.txt" \
    -wall "$((SECONDS - start))"
  log "done in $((SECONDS - start)) s: $MD, $CHARTS/"
}

main "$@"

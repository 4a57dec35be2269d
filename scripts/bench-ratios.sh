#!/usr/bin/env bash
# bench-ratios.sh summarises `go test -bench` output (a file, or stdin).
#
# 1. Lines whose benchmark reported a metric with "ratio" or "B/actor" in its unit (b.ReportMetric)
#    are repeated as they are.
# 2. Each pair Benchmark<ID>_<Name>/actor and Benchmark<ID>_<Name>/baseline (also with
#    deeper sub-benchmarks, e.g. .../actor/size=64 vs .../baseline/size=64) is printed as
#      G1 Mailbox: actor 123 ns/op, baseline 100 ns/op, ratio 1.23x
#    from the mean ns/op over all runs (-count) of each side.
# 3. Benchmarks that measured both sides themselves, interleaved (Benchmark<ID>_<Name>/paired,
#    reporting actor-ns/msg, baseline-ns/msg and actor/baseline-ratio), are printed as
#      G1 Mailbox (paired): actor 150 ns/msg, baseline 100 ns/msg, ratio 1.50x over 5 runs
#    from the median over all runs of each figure. These are the ratios to judge targets by:
#    both sides shared the machine's moment, so other load on it cancels out.
#
# It only reports: it exits 0 whatever the input, unless the input file is missing.
set -euo pipefail

if [[ $# -gt 1 ]]; then
  echo "usage: $0 [bench-output-file]" >&2
  exit 2
fi
input="${1:--}"
if [[ "$input" != "-" && ! -r "$input" ]]; then
  echo "bench-ratios: cannot read $input" >&2
  exit 2
fi

awk '
# median of the n values v[1..n] (insertion sort: mawk has no asort).
function median(v, n,    i, j, t) {
  for (i = 2; i <= n; i++) {
    t = v[i]
    for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]
    v[j + 1] = t
  }
  if (n % 2) return v[(n + 1) / 2]
  return (v[n / 2] + v[n / 2 + 1]) / 2
}

function fmtns(v) {
  if (v >= 100) return sprintf("%.0f", v)
  if (v >= 10) return sprintf("%.1f", v)
  return sprintf("%.2f", v)
}

# A result line: BenchmarkName-PROCS  N  value unit  value unit ...
/^Benchmark[^ \t]*[ \t]+[0-9]+[ \t]/ {
  name = $1
  sub(/-[0-9]+$/, "", name)      # drop the GOMAXPROCS suffix

  if (name ~ /\/paired(\/|$)/) {
    pl = name
    sub(/^Benchmark/, "", pl)
    sub(/\/paired/, "", pl)
    u = index(pl, "_")
    if (u > 0) pl = substr(pl, 1, u - 1) " " substr(pl, u + 1)
    if (!(pl in pseen)) { pseen[pl] = 1; porder[++npaired] = pl }
    k = ++pn[pl]
    for (i = 3; i < NF; i += 2) {
      if ($(i + 1) == "actor-ns/msg") pa[pl, k] = $i
      if ($(i + 1) == "baseline-ns/msg") pb[pl, k] = $i
      if ($(i + 1) == "actor/baseline-ratio") pr[pl, k] = $i
    }
    next
  }

  for (i = 3; i < NF; i += 2) {
    if ($(i + 1) ~ /ratio|B\/actor/) {
      reported[++nreported] = $0
      break
    }
  }

  ns = ""
  for (i = 3; i < NF; i += 2) {
    if ($(i + 1) == "ns/op") { ns = $i; break }
  }
  if (ns == "") next

  # Split off the ID and the actor/baseline element:
  # BenchmarkG1_Mailbox/actor/size=64 -> id G1, key Mailbox/size=64, side actor.
  n = split(name, parts, "/")
  side = ""; key = ""
  for (j = 2; j <= n; j++) {
    if (side == "" && (parts[j] == "actor" || parts[j] == "baseline")) {
      side = parts[j]
      continue
    }
    key = key "/" parts[j]
  }
  if (side == "") next
  top = substr(parts[1], length("Benchmark") + 1)
  u = index(top, "_")
  if (u == 0) { id = top; label = "" } else { id = substr(top, 1, u - 1); label = substr(top, u + 1) }
  label = label key
  sub(/^\//, "", label)
  pair = id SUBSEP label
  if (!(pair in seen)) {
    seen[pair] = 1
    order[++npairs] = pair
    ids[pair] = id
    labels[pair] = label
  }
  sum[pair, side] += ns
  cnt[pair, side]++
}

END {
  if (nreported > 0) {
    print "== reported ratios"
    for (i = 1; i <= nreported; i++) print reported[i]
  }
  if (npairs > 0) {
    print "== actor vs baseline (mean ns/op)"
    for (i = 1; i <= npairs; i++) {
      p = order[i]
      head = ids[p] (labels[p] == "" ? "" : " " labels[p]) ": "
      ha = ((p, "actor") in cnt); hb = ((p, "baseline") in cnt)
      if (ha) a = sum[p, "actor"] / cnt[p, "actor"]
      if (hb) b = sum[p, "baseline"] / cnt[p, "baseline"]
      if (ha && hb) {
        ratio = (b > 0) ? sprintf("%.2fx", a / b) : "n/a"
        printf "%sactor %s ns/op, baseline %s ns/op, ratio %s\n", head, fmtns(a), fmtns(b), ratio
      } else if (ha) {
        printf "%sactor %s ns/op, baseline missing\n", head, fmtns(a)
      } else {
        printf "%sactor missing, baseline %s ns/op\n", head, fmtns(b)
      }
    }
  }
  if (npaired > 0) {
    print "== paired: both sides interleaved in one benchmark (median over runs)"
    for (i = 1; i <= npaired; i++) {
      p = porder[i]; n = pn[p]
      for (k = 1; k <= n; k++) { va[k] = pa[p, k]; vb[k] = pb[p, k]; vr[k] = pr[p, k] }
      printf "%s (paired): actor %s ns/msg, baseline %s ns/msg, ratio %.2fx over %d run%s\n", p,
        fmtns(median(va, n)), fmtns(median(vb, n)), median(vr, n), n, (n == 1 ? "" : "s")
    }
  }
  if (nreported == 0 && npairs == 0 && npaired == 0) print "bench-ratios: no ratios or actor/baseline pairs found"
}
' "$input"

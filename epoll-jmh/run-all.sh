#!/usr/bin/env bash
# run-all.sh: the project's full benchmark set in one go, from the repository root or anywhere:
#   1. builds the project (mvn package, tests skipped),
#   2. runs every JMH benchmark of epoll-jmh with -prof gc, JSON output  -> $OUT/jmh.json, $OUT/jmh.log
#   3. runs the end-to-end echo comparison (org.epoll4j.jmh.compare.EchoCompare: epoll4j's echo example, the
#      Netty native-epoll and JDK NIO peers, and c-echo if built) -> $OUT/compare.md, $OUT/compare.json, $OUT/logs/
#   4. draws the charts (org.epoll4j.jmh.charts.Charts)              -> $IMG/*.png
#
# Usage: epoll-jmh/run-all.sh [--quick] [--out DIR] [--img DIR] [--skip-jmh] [--skip-compare] [--no-build]
#                             [--jmh-args "JMH OPTIONS"] [--compare-args "EchoCompare OPTIONS"]
#   --quick      smoke test of the whole pipeline: 1 fork, 1 x 200 ms warm-up and measurement per benchmark, one
#                comparison round of 2 s; numbers are meaningless; charts are labelled "QUICK, preliminary" and go
#                to $OUT/img unless --img is given (keep them out of docs/).
#   --out DIR    results directory (default epoll-jmh/target/results-YYYYmmdd-HHMMSS)
#   --img DIR    chart directory (default docs/img, or $OUT/img with --quick)
# Env: JAVA (default: java on PATH), BENCH_OUT (default /tmp/epoll4j-bench: c-echo and loadgen from
#      shared/bench/build.sh are used when present there; otherwise the comparison skips c-echo and drives the load
#      with its Java load generator), MVN_ARGS (default -o: offline).
#
# Expected duration on a quiet 2-vCPU machine: full run about 27 minutes (JMH ~63 benchmark/parameter combinations
# x ~10 s = ~11 min, TlsRecordBenchmark's 12 included; comparison 4 loads x 4 servers x 3 rounds x ~15 s = ~12 min; build and charts ~2 min); --quick
# about 5 minutes. Each stage is bounded with `timeout` (JMH 60 min, comparison 60 min; quick: 20 and 15 min).
# Needs ~10,300 open fds (10,000 watched eventfds in MultiplexBenchmark; 10,000 idle connections in the comparison):
# the script raises `ulimit -n` (to 65536, else to the hard limit) and stops with a clear message if that is not
# enough. Run it on a quiet machine: other load makes every number here meaningless.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
QUICK=0 OUT="" IMG="" SKIP_JMH=0 SKIP_CMP=0 BUILD=1 JMH_ARGS="" CMP_ARGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1;;
    --out) OUT=$2; shift;;
    --img) IMG=$2; shift;;
    --skip-jmh) SKIP_JMH=1;;
    --skip-compare) SKIP_CMP=1;;
    --no-build) BUILD=0;;
    --jmh-args) JMH_ARGS=$2; shift;;
    --compare-args) CMP_ARGS=$2; shift;;
    -h|--help) sed -n '2,30p' "$0"; exit 0;;
    *) echo "run-all.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
  shift
done
JAVA=${JAVA:-java}
BENCH_OUT=${BENCH_OUT:-/tmp/epoll4j-bench}
OUT=${OUT:-epoll-jmh/target/results-$(date +%Y%m%d-%H%M%S)}
if [ -z "$IMG" ]; then
  if [ "$QUICK" = 1 ]; then IMG="$OUT/img"; else IMG="docs/img"; fi
fi
mkdir -p "$OUT" "$IMG"
OUT="$(cd "$OUT" && pwd)"

# --- open-fd limit
NEED=10300
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 20100 ]; then
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
  echo "run-all.sh: needs ulimit -n >= $NEED (10,000 watched fds, 10,000 idle connections); it is $(ulimit -n)" \
       "and the hard limit is $(ulimit -Hn): raise the hard limit (limits.conf, or run as root) and retry" >&2
  exit 1
fi
echo "== results in $OUT, charts in $IMG, ulimit -n $(ulimit -n)"

# --- what ran where (the lead's docs need this next to the numbers)
{
  echo "date: $(date -Is)"
  echo "mode: $([ "$QUICK" = 1 ] && echo 'QUICK (preliminary, meaningless numbers)' || echo full)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') $(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(dirty)')"
  echo "kernel: $(uname -sr)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "java: $("$JAVA" -version 2>&1 | head -2 | tr '\n' ' ')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/environment.txt"
cat "$OUT/environment.txt"

if [ "$BUILD" = 1 ]; then
  echo "== build"
  # shellcheck disable=SC2086
  mvn -B -q ${MVN_ARGS:--o} package -DskipTests
fi
JAR="$ROOT/epoll-jmh/target/benchmarks.jar"
[ -f "$JAR" ] || { echo "run-all.sh: $JAR missing (build first)" >&2; exit 1; }

STATUS=0
if [ "$SKIP_JMH" = 0 ]; then
  echo "== JMH"
  if [ "$QUICK" = 1 ]; then
    DEFAULT_JMH="-f 1 -wi 1 -i 1 -w 200ms -r 200ms"; T=20m
  else
    DEFAULT_JMH="-f 1 -wi 3 -i 5 -w 1s -r 1s"; T=60m
  fi
  # shellcheck disable=SC2086
  timeout "$T" "$JAVA" -Djmh.ignoreLock=true -jar "$JAR" ${JMH_ARGS:-$DEFAULT_JMH} -prof gc -rf json -rff "$OUT/jmh.json" \
      'org\.epoll4j\.jmh\..*' 2>&1 | tee "$OUT/jmh.log" | grep -E '^(# Benchmark:|# Parameters:|Benchmark |[A-Z][A-Za-z]+Benchmark\.[A-Za-z0-9]+ )' || true
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "run-all.sh: JMH failed or timed out (see $OUT/jmh.log)" >&2; STATUS=1; }
fi

if [ "$SKIP_CMP" = 0 ]; then
  echo "== echo comparison"
  CMP=(--out "$OUT" --epoll4j-jar "$ROOT/epoll-examples/target/epoll-examples.jar")
  [ -x "$BENCH_OUT/c-echo" ] && CMP+=(--c-echo "$BENCH_OUT/c-echo")
  [ -x "$BENCH_OUT/loadgen" ] && CMP+=(--loadgen "$BENCH_OUT/loadgen")
  if [ "$QUICK" = 1 ]; then CMP+=(--quick); T=15m; else T=60m; fi
  # shellcheck disable=SC2086
  timeout "$T" "$JAVA" -cp "$JAR" org.epoll4j.jmh.compare.EchoCompare "${CMP[@]}" $CMP_ARGS \
      || { echo "run-all.sh: the comparison failed, timed out or had failed runs (see $OUT/compare.md, $OUT/logs)" >&2; STATUS=1; }
fi

echo "== charts"
LABEL=(); [ "$QUICK" = 1 ] && LABEL=(--label "QUICK, preliminary")
"$JAVA" -cp "$JAR" org.epoll4j.jmh.charts.Charts --jmh "$OUT/jmh.json" --compare "$OUT/compare.json" \
    --out "$IMG" "${LABEL[@]}" || STATUS=1

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/environment.txt"
echo "== done (status $STATUS): $OUT/jmh.json $OUT/compare.md $OUT/compare.json, charts in $IMG"
exit "$STATUS"

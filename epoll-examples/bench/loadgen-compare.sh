#!/usr/bin/env bash
# loadgen-compare.sh: our Java loadgen against the C loadgen of ../shared/bench, both driving the same echo server.
#
# Usage: epoll-examples/bench/loadgen-compare.sh [CONNS DEPTH SIZE SECONDS WARMUP ROUNDS]   (defaults: 50 1 64 5 2 3)
# Needs: epoll-examples/target/epoll-examples.jar (mvn -B -o -pl epoll-examples -am package -DskipTests) and the C
# loadgen at $LOADGEN (default /tmp/epoll4j-bench/loadgen; build it with ../shared/bench/build.sh).
# SERVER=c-echo uses /tmp/epoll4j-bench/c-echo as the echo server instead of our echo example.
# The server runs on core $SERVER_CPU (0), each load generator on $CLIENT_CPU (1), one after the other, C first,
# for ROUNDS rounds against one server process; prints a markdown table of medians.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
JAR="${JAR:-$HERE/../target/epoll-examples.jar}"
LOADGEN="${LOADGEN:-/tmp/epoll4j-bench/loadgen}"
CONNS=${1:-50} DEPTH=${2:-1} SIZE=${3:-64} SECS=${4:-5} WARM=${5:-2} ROUNDS=${6:-3}
SERVER_CPU=${SERVER_CPU:-0} CLIENT_CPU=${CLIENT_CPU:-1} SERVER=${SERVER:-epoll4j-echo}
[ -f "$JAR" ] || { echo "missing $JAR: build it first" >&2; exit 1; }
[ -x "$LOADGEN" ] || { echo "missing $LOADGEN: run ../shared/bench/build.sh" >&2; exit 1; }
TMP=$(mktemp -d /tmp/loadgen-compare.XXXXXX)
SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

PORT=$((21000 + RANDOM % 2000))
if [ "$SERVER" = c-echo ]; then
  taskset -c "$SERVER_CPU" /tmp/epoll4j-bench/c-echo "$PORT" >"$TMP/server.log" 2>&1 &
else
  taskset -c "$SERVER_CPU" java -jar "$JAR" echo --port "$PORT" >"$TMP/server.log" 2>&1 &
fi
SRV=$!
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo "server did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; }

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for r in $(seq 1 "$ROUNDS"); do
  timeout $((SECS + WARM + 60)) taskset -c "$CLIENT_CPU" "$LOADGEN" 127.0.0.1 "$PORT" "$CONNS" "$DEPTH" "$SIZE" \
    "$SECS" "$WARM" >"$TMP/c.$r" 2>/dev/null
  timeout $((SECS + WARM + 60)) taskset -c "$CLIENT_CPU" java -jar "$JAR" loadgen --port "$PORT" \
    --connections "$CONNS" --depth "$DEPTH" --size "$SIZE" --duration "$SECS" --warmup "$WARM" >"$TMP/j.$r" 2>/dev/null
  echo "round $r: C $(cat "$TMP/c.$r" | cut -d' ' -f1-5) | Java $(cat "$TMP/j.$r" | cut -d' ' -f1-5)" >&2
done
echo "server: $SERVER on core $SERVER_CPU; clients on core $CLIENT_CPU; $CONNS conns, depth $DEPTH, $SIZE B, ${SECS}s (+${WARM}s warm-up), median of $ROUNDS rounds"
echo
echo "| load generator | msgs/s | p50 µs | p99 µs | p99.9 µs | errors |"
echo "|---|---|---|---|---|---|"
for k in c j; do
  name=$([ $k = c ] && echo "C loadgen (shared/bench)" || echo "epoll4j loadgen")
  row="| $name"
  for f in msgs_per_s p50_us p99_us p999_us errors; do
    row="$row | $(for r in $(seq 1 "$ROUNDS"); do field "$f" "$TMP/$k.$r"; done | median)"
  done
  echo "$row |"
done

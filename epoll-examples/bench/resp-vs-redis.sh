#!/usr/bin/env bash
# resp (epoll4j example) against a real redis-server, one after the other, both pinned to the same core;
# redis-benchmark on another core. Prints a markdown table of requests/s (median over rounds) and the ratio.
#
# usage: epoll-examples/bench/resp-vs-redis.sh [-r ROUNDS] [-n REQUESTS] [-c CLIENTS] [-s SERVER_CPU] [-l CLIENT_CPU]
#                                              [-p PORT] [-a "extra resp args"] [-t TESTS]
# Rounds alternate the servers (redis, resp, redis, resp ...); the load average is printed per round.
# needs: redis-server, redis-benchmark (Debian redis-server, redis-tools), taskset, java 17+, and the jar
# (mvn -B -q -pl epoll-examples -am package -DskipTests).
set -euo pipefail

ROUNDS=3 REQUESTS=200000 CLIENTS=50 SERVER_CPU=0 CLIENT_CPU=1 PORT=6390 RESP_ARGS=""
TESTS=ping,set,get,incr,lpush,lpop,sadd,hset
while getopts "r:n:c:s:l:p:a:t:" o; do
  case $o in
    r) ROUNDS=$OPTARG ;; n) REQUESTS=$OPTARG ;; c) CLIENTS=$OPTARG ;; s) SERVER_CPU=$OPTARG ;;
    l) CLIENT_CPU=$OPTARG ;; p) PORT=$OPTARG ;; a) RESP_ARGS=$OPTARG ;; t) TESTS=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=$ROOT/epoll-examples/target/epoll-examples.jar
[[ -f $JAR ]] || { echo "no $JAR: build it first (mvn -B -q -pl epoll-examples -am package -DskipTests)" >&2; exit 1; }
for t in redis-server redis-benchmark redis-cli taskset java; do
  command -v $t >/dev/null || { echo "$t not found" >&2; exit 1; }
done

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'cleanup; rm -rf "$TMP"' EXIT INT TERM

wait_ready() { # port: until PING answers, at most 30 s
  for _ in $(seq 300); do
    if [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited" >&2; cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server on port $1 not ready" >&2; exit 1
}

start_server() { # name
  case $1 in
    redis) taskset -c "$SERVER_CPU" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
             --daemonize no >"$TMP/server.log" 2>&1 & ;;
    resp)  # shellcheck disable=SC2086
           taskset -c "$SERVER_CPU" java -jar "$JAR" resp --port "$PORT" $RESP_ARGS >"$TMP/server.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  wait_ready "$PORT"
}

bench() { # name pipeline round: appends "name pipeline test rps" lines
  timeout 300 taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$CLIENTS" -n "$REQUESTS" \
      -t "$TESTS" -q -P "$2" 2>/dev/null | tr '\r' '\n' | grep 'requests per second' |
    sed -E 's/^ *([A-Z_]+): ([0-9.]+) requests per second.*/\1 \2/' |
    while read -r test rps; do echo "$1 $2 $test $rps"; done >>"$TMP/results"
}

: >"$TMP/results"
for round in $(seq "$ROUNDS"); do
  for server in redis resp; do
    start_server $server
    # one unrecorded pass: the JVM compiles its hot paths; redis gets the same pass for symmetry
    taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$CLIENTS" -n "$REQUESTS" \
        -t "$TESTS" -q >/dev/null 2>&1
    load=$(cut -d' ' -f1 /proc/loadavg)
    bench $server 1 "$round"
    bench $server 16 "$round"
    cleanup
    echo "round $round: $server done (load average before: $load, after: $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "redis-benchmark -c $CLIENTS -n $REQUESTS -t $TESTS (client on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU,"
echo "median of $ROUNDS rounds; $(redis-server --version | awk '{print $3}'), $(java -version 2>&1 | head -1))"
echo
echo "| test | pipeline | redis-server req/s | resp req/s | resp / redis |"
echo "|---|---|---|---|---|"
for p in 1 16; do
  for t in $(awk '$1 == "redis" {print $3}' "$TMP/results" | awk '!seen[$0]++'); do
    r=$(awk -v p=$p -v t=$t '$1 == "redis" && $2 == p && $3 == t {print $4}' "$TMP/results" | median)
    e=$(awk -v p=$p -v t=$t '$1 == "resp" && $2 == p && $3 == t {print $4}' "$TMP/results" | median)
    ratio=$(awk -v r="$r" -v e="$e" 'BEGIN {if (r > 0) printf "%.2f", e / r; else print "n/a"}')
    printf "| %s | %s | %'.0f | %'.0f | %s× |\n" "$t" "$( [[ $p == 1 ]] && echo none || echo "-P $p")" "$r" "$e" "$ratio"
  done
done

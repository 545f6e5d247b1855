#!/usr/bin/env bash
# proxy (epoll4j example) against HAProxy in TCP mode, one thread each, pinned to the same core, in one run:
# c-echo (../shared/bench) is the upstream, the C loadgen the client, both on another core. Each round starts each
# proxy fresh per load (haproxy, epoll4j, haproxy, epoll4j ...). Prints a markdown table per load: messages/s
# through the proxy, MB/s each way, latency, the proxy's CPU time per message, and the ratio epoll4j / HAProxy;
# then, with -T, the time of one large transfer (MiB sent and echoed back through the proxy on one connection).
#
# usage: epoll-examples/bench/proxy-vs-haproxy.sh [-r ROUNDS] [-s SECONDS] [-w WARMUP] [-L LOADS] [-T MIB]
#                                                 [-P PROXY_CPU] [-U UPSTREAM_CPU] [-C CLIENT_CPU] [-p BASE_PORT]
#                                                 [-a "extra proxy args"]
# LOADS: comma-separated CONNSxDEPTHxSIZE (default 50x1x64,200x8x128,4x4x65536): loadgen connections, messages in
#        flight on each, message size in bytes. -T MIB: the large transfer's size (default 100; 0 skips it).
# Defaults: 3 rounds of 5 s after 2 s of warm-up; proxies on CPU 0, c-echo and loadgen on CPU 1.
# needs: haproxy (Debian haproxy), taskset, python3, java 17+, /tmp/epoll4j-bench/{c-echo,loadgen}
# (../shared/bench/build.sh c-echo loadgen) and the jar (mvn -B -o -pl epoll-examples -am package -DskipTests).
set -euo pipefail

ROUNDS=3 SECS=5 WARM=2 LOADS=50x1x64,200x8x128,4x4x65536 MIB=100 PROXY_CPU=0 UPSTREAM_CPU=1 CLIENT_CPU=1
BASE_PORT=$((24000 + RANDOM % 4000)) PROXY_ARGS=""
while getopts "r:s:w:L:T:P:U:C:p:a:" o; do
  case $o in
    r) ROUNDS=$OPTARG ;; s) SECS=$OPTARG ;; w) WARM=$OPTARG ;; L) LOADS=$OPTARG ;; T) MIB=$OPTARG ;;
    P) PROXY_CPU=$OPTARG ;; U) UPSTREAM_CPU=$OPTARG ;; C) CLIENT_CPU=$OPTARG ;; p) BASE_PORT=$OPTARG ;;
    a) PROXY_ARGS=$OPTARG ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=$ROOT/epoll-examples/target/epoll-examples.jar
BENCH=${BENCH_OUT:-/tmp/epoll4j-bench}
[[ -f $JAR ]] || { echo "no $JAR: build it first (mvn -B -o -pl epoll-examples -am package -DskipTests)" >&2; exit 1; }
for t in haproxy taskset java python3; do
  command -v $t >/dev/null || { echo "$t not found (haproxy: apt-get install -y haproxy)" >&2; exit 1; }
done
for b in c-echo loadgen; do
  [[ -x $BENCH/$b ]] || { echo "no $BENCH/$b: run ../shared/bench/build.sh c-echo loadgen" >&2; exit 1; }
done
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 4096 ]]; then ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; fi

TMP=$(mktemp -d /tmp/proxy-vs-haproxy.XXXXXX)
UP_PID="" PX_PID=""
stop() { # pid: TERM, then KILL after 5 s
  [[ -n $1 ]] || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
trap 'stop "$PX_PID"; stop "$UP_PID"; rm -rf "$TMP"' EXIT INT TERM

wait_port() { # port pid: until it accepts, at most 30 s
  for _ in $(seq 300); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

UP_PORT=$BASE_PORT
taskset -c "$UPSTREAM_CPU" "$BENCH/c-echo" "$UP_PORT" >"$TMP/c-echo.log" 2>&1 &
UP_PID=$!
wait_port "$UP_PORT" "$UP_PID" || { echo "c-echo did not start:" >&2; cat "$TMP/c-echo.log" >&2; exit 1; }

start_proxy() { # name port: starts it pinned to PROXY_CPU, sets PX_PID
  case $1 in
    haproxy)
      cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend relay
    bind 127.0.0.1:$2
    default_backend echo
backend echo
    server c-echo 127.0.0.1:$UP_PORT
EOF
      taskset -c "$PROXY_CPU" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/proxy.log" 2>&1 & ;;
    epoll4j)
      # shellcheck disable=SC2086
      taskset -c "$PROXY_CPU" java -jar "$JAR" proxy --port "$2" --to "127.0.0.1:$UP_PORT" --reactors 1 \
          --max-connections 4000 $PROXY_ARGS >"$TMP/proxy.log" 2>&1 & ;;
  esac
  PX_PID=$!
  wait_port "$2" "$PX_PID" || { echo "$1 did not start:" >&2; cat "$TMP/proxy.log" >&2; exit 1; }
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# one large transfer: MIB MiB written on one connection while the echo is read back; prints seconds
transfer() { # port
  taskset -c "$CLIENT_CPU" python3 - "$1" "$MIB" <<'PY'
import socket, sys, threading, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
total, chunk = mib << 20, bytes(range(256)) * 4096  # 1 MiB
s = socket.create_connection(("127.0.0.1", port))
def send():
    left = total
    while left:
        n = min(left, len(chunk)); s.sendall(chunk[:n]); left -= n
t0 = time.perf_counter()
w = threading.Thread(target=send); w.start()
buf, got = bytearray(1 << 20), 0
while got < total:
    n = s.recv_into(buf)
    if n == 0: sys.exit("EOF after %d bytes" % got)
    got += n
w.join(); print("%.3f" % (time.perf_counter() - t0)); s.close()
PY
}

: >"$TMP/results"
port=$((BASE_PORT + 1))
for round in $(seq "$ROUNDS"); do
  for load in ${LOADS//,/ }; do
    IFS=x read -r conns depth size <<<"$load"
    for proxy in haproxy epoll4j; do
      port=$((port + 1))
      start_proxy $proxy $port
      load_avg=$(cut -d' ' -f1 /proc/loadavg)
      line=$(timeout $((SECS + WARM + 60)) taskset -c "$CLIENT_CPU" "$BENCH/loadgen" 127.0.0.1 "$port" "$conns" \
          "$depth" "$size" "$SECS" "$WARM" 2>"$TMP/lg.err" & LG=$!
        sleep "$WARM"; echo "t0=$(cpu_ticks "$PX_PID") s0=$(date +%s.%N)" >"$TMP/t0"; wait $LG || true)
      t1=$(cpu_ticks "$PX_PID") s1=$(date +%s.%N)
      read -r t0 s0 <<<"$(sed 's/t0=\(.*\) s0=\(.*\)/\1 \2/' "$TMP/t0")"
      stop "$PX_PID"; PX_PID=""
      rate=$(field msgs_per_s "$line")
      us=$(awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v hz="$HZ" -v r="${rate:-0}" \
          'BEGIN {if (r > 0) printf "%.2f", (b - a) / hz / (s1 - s0) / r * 1e6; else print "nan"}')
      echo "$load $proxy ${rate:-0} $(field p50_us "$line") $(field p99_us "$line") $us $(field errors "$line")" \
          >>"$TMP/results"
      echo "round $round $load $proxy: $line proxy_cpu_us_per_msg=$us (load average $load_avg)" >&2
    done
  done
  if [[ $MIB -gt 0 ]]; then
    for proxy in haproxy epoll4j; do
      port=$((port + 1))
      start_proxy $proxy $port
      transfer "$port" >/dev/null # warm-up pass (JIT), same for both
      secs=$(transfer "$port")
      stop "$PX_PID"; PX_PID=""
      echo "transfer $proxy $secs" >>"$TMP/results"
      echo "round $round transfer $proxy: $MIB MiB each way in $secs s (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
  fi
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "proxies on CPU $PROXY_CPU (one thread each), c-echo on CPU $UPSTREAM_CPU, loadgen on CPU $CLIENT_CPU;"
echo "median of $ROUNDS rounds of ${SECS}s after ${WARM}s warm-up; $(haproxy -v | head -1 | cut -d' ' -f1-3),"
echo "$(java -version 2>&1 | head -1); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| load (conns x depth x bytes) | HAProxy msgs/s | epoll4j msgs/s | epoll4j / HAProxy | MB/s each way (HAProxy / epoll4j) | p50 µs (H / e) | p99 µs (H / e) | proxy CPU µs/msg (H / e) | errors (H / e) |"
echo "|---|---|---|---|---|---|---|---|---|"
for load in ${LOADS//,/ }; do
  size=${load##*x}
  col() { awk -v l="$load" -v p="$1" -v c="$2" '$1 == l && $2 == p {print $c}' "$TMP/results" | median; }
  h=$(col haproxy 3) e=$(col epoll4j 3)
  ratio=$(awk -v h="$h" -v e="$e" 'BEGIN {if (h > 0) printf "%.2f", e / h; else print "n/a"}')
  mbs=$(awk -v h="$h" -v e="$e" -v s="$size" 'BEGIN {printf "%.1f / %.1f", h * s / 1e6, e * s / 1e6}')
  printf "| %s | %'.0f | %'.0f | %s× | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n" "$load" "$h" "$e" "$ratio" \
      "$mbs" "$(col haproxy 4)" "$(col epoll4j 4)" "$(col haproxy 5)" "$(col epoll4j 5)" "$(col haproxy 6)" \
      "$(col epoll4j 6)" "$(col haproxy 7)" "$(col epoll4j 7)"
done
if [[ $MIB -gt 0 ]]; then
  h=$(awk '$1 == "transfer" && $2 == "haproxy" {print $3}' "$TMP/results" | median)
  e=$(awk '$1 == "transfer" && $2 == "epoll4j" {print $3}' "$TMP/results" | median)
  echo
  echo "| $MIB MiB through one connection and back | HAProxy | epoll4j | epoll4j / HAProxy (throughput) |"
  echo "|---|---|---|---|"
  awk -v h="$h" -v e="$e" -v m="$MIB" 'BEGIN {printf "| MB/s each way | %.0f | %.0f | %.2f× |\n",
      m * 1.048576 / h, m * 1.048576 / e, h / e}'
fi

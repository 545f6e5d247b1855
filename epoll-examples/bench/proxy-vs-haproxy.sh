#!/usr/bin/env bash
# proxy (epoll4j example) against HAProxy in TCP mode, one thread each, pinned to the same core, in one run. Each
# round starts each proxy fresh per load (haproxy then epoll4j, the other way round in even rounds) in front of one
# back end, and the client on another core. Prints a markdown table: requests (messages) per second through each
# proxy and the ratio epoll4j / HAProxy, latency, the proxy's CPU time per request (which a busy machine disturbs far
# less than the rate), errors; with the echo back end also MB/s each way and the times of large transfers (-T).
#
# usage: epoll-examples/bench/proxy-vs-haproxy.sh [-B echo|http|resp] [-r ROUNDS] [-s SECONDS] [-w WARMUP]
#            [-L LOADS] [-T MIB] [-n REQUESTS] [-P PROXY_CPU] [-U UPSTREAM_CPU] [-C CLIENT_CPU] [-p BASE_PORT]
#            [-a "extra proxy args"] [-S] [-E] [-W WARMUPS] [-X TRANSFERS] [-V WARM_TRANSFERS]
# -S: both proxies splice: epoll4j's with --splice (a pipe per direction, splice(2)), HAProxy with
#    "option splice-auto"; without it neither does (-a --splice splices epoll4j's alone).
# -B echo (default): c-echo (../shared/bench) behind the proxies, the C loadgen as the client; LOADS are
#    CONNSxDEPTHxSIZE (default 50x1x64,200x8x128,4x4x65536); -T MIB: one transfer of MIB MiB through one connection
#    and back (default 1000: 100 MiB took 0.15 s, too short to measure a freshly started JVM; 0 skips it);
#    -X: measured transfers per proxy per round (default 3): one transfer's time varies by +-10% between runs, so
#    the table gives the median of ROUNDS x TRANSFERS and each pair's ratio; -V: unmeasured transfers before them
#    (default 2: the JVM proxy's loop was still being recompiled during the second, 39 compilations during it and 1
#    during the third).
#    -E: the echo example (--reactors 1) instead of c-echo; it stops reading while it cannot write, where c-echo
#    buffers without bound and compacts its backlog with memmove on every append (a slow client makes that
#    quadratic, and the transfer then measures c-echo).
# -B http: the http example (--reactors 1) behind them, wrk -t1 on /plaintext; LOADS are connection counts (50,200).
# -B resp: the resp example behind them, redis-benchmark -c 50 -n REQUESTS×PIPELINE (200000×P, after a quarter of
#    that unmeasured); LOADS are TEST:PIPELINE
#    (get:1,set:1,get:16,set:16).
# -W: unmeasured warm-up runs of the http and resp clients before each measured one (default 8; was 3, and 1
#    before): each opens and closes its connections, and the proxy's JIT needs a few such cycles before its loop
#    stops being recompiled; on its one core that took about 15 s of load (wrk's p99 at 200 connections: 2.8-4.0 ms
#    after 3 runs of 2 s, 1.9-2.0 ms after 8, HAProxy's 2.0-2.2).
# Defaults: 3 rounds of 5 s after 2 s of warm-up; proxies on CPU 0, the back end and the client on CPU 1.
# needs: haproxy (Debian haproxy), taskset, java 17+, the jar (mvn -B -o -pl epoll-examples -am package -DskipTests);
# echo: python3, /tmp/epoll4j-bench/{c-echo,loadgen} (../shared/bench/build.sh c-echo loadgen); http: wrk;
# resp: redis-benchmark (Debian redis-tools).
set -euo pipefail

BACKEND=echo ROUNDS=3 SECS=5 WARM=2 LOADS="" MIB=1000 REQUESTS=200000 PROXY_CPU=0 UPSTREAM_CPU=1 CLIENT_CPU=1
BASE_PORT=$((24000 + RANDOM % 4000)) PROXY_ARGS="" SPLICE=0 JAVA_ECHO=0 WARMUPS=8 TRANSFERS=3 WARM_TRANSFERS=2
while getopts "B:r:s:w:L:T:n:P:U:C:p:a:SEW:X:V:" o; do
  case $o in
    B) BACKEND=$OPTARG ;; r) ROUNDS=$OPTARG ;; s) SECS=$OPTARG ;; w) WARM=$OPTARG ;; L) LOADS=$OPTARG ;;
    T) MIB=$OPTARG ;; n) REQUESTS=$OPTARG ;; P) PROXY_CPU=$OPTARG ;; U) UPSTREAM_CPU=$OPTARG ;;
    C) CLIENT_CPU=$OPTARG ;; p) BASE_PORT=$OPTARG ;; a) PROXY_ARGS=$OPTARG ;; S) SPLICE=1 ;; E) JAVA_ECHO=1 ;;
    W) WARMUPS=$OPTARG ;; X) TRANSFERS=$OPTARG ;; V) WARM_TRANSFERS=$OPTARG ;;
    *) sed -n '2,34p' "$0"; exit 2 ;;
  esac
done
[[ $TRANSFERS =~ ^[1-9][0-9]*$ ]] || { echo "-X must be 1 or more: $TRANSFERS" >&2; exit 2; }
[[ $WARM_TRANSFERS =~ ^[0-9]+$ ]] || { echo "-V must be 0 or more: $WARM_TRANSFERS" >&2; exit 2; }
case $BACKEND in
  echo) : "${LOADS:=50x1x64,200x8x128,4x4x65536}" ;;
  http) : "${LOADS:=50,200}"; MIB=0 ;;
  resp) : "${LOADS:=get:1,set:1,get:16,set:16}"; MIB=0 ;;
  *) echo "-B must be echo, http or resp: $BACKEND" >&2; exit 2 ;;
esac
HAPROXY_SPLICE=""
if [ "$SPLICE" = 1 ]; then
  PROXY_ARGS="--splice $PROXY_ARGS"
  HAPROXY_SPLICE="    option splice-auto"
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=$ROOT/epoll-examples/target/epoll-examples.jar
BENCH=${BENCH_OUT:-/tmp/epoll4j-bench}
[[ -f $JAR ]] || { echo "no $JAR: build it first (mvn -B -o -pl epoll-examples -am package -DskipTests)" >&2; exit 1; }
need=(haproxy taskset java)
case $BACKEND in echo) need+=(python3) ;; http) need+=(wrk) ;; resp) need+=(redis-benchmark) ;; esac
for t in "${need[@]}"; do
  command -v "$t" >/dev/null || { echo "$t not found (haproxy: apt-get install -y haproxy)" >&2; exit 1; }
done
if [[ $BACKEND == echo ]]; then
  for b in c-echo loadgen; do
    [[ -x $BENCH/$b ]] || { echo "no $BENCH/$b: run ../shared/bench/build.sh c-echo loadgen" >&2; exit 1; }
  done
fi
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
case $BACKEND in
  echo)
    if [[ $JAVA_ECHO == 1 ]]; then
      taskset -c "$UPSTREAM_CPU" java -jar "$JAR" echo --port "$UP_PORT" --reactors 1 >"$TMP/upstream.log" 2>&1 &
    else
      taskset -c "$UPSTREAM_CPU" "$BENCH/c-echo" "$UP_PORT" >"$TMP/upstream.log" 2>&1 &
    fi ;;
  http) taskset -c "$UPSTREAM_CPU" java -jar "$JAR" http --port "$UP_PORT" --reactors 1 >"$TMP/upstream.log" 2>&1 & ;;
  resp) taskset -c "$UPSTREAM_CPU" java -jar "$JAR" resp --port "$UP_PORT" --reactors 1 >"$TMP/upstream.log" 2>&1 & ;;
esac
UP_PID=$!
wait_port "$UP_PORT" "$UP_PID" || { echo "the $BACKEND back end did not start:" >&2; cat "$TMP/upstream.log" >&2; exit 1; }

start_proxy() { # name port: starts it pinned to PROXY_CPU, sets PX_PID
  case $1 in
    haproxy)
      cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode tcp
$HAPROXY_SPLICE
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend relay
    bind 127.0.0.1:$2
    default_backend upstream
backend upstream
    server $BACKEND 127.0.0.1:$UP_PORT
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

mark() { echo "$(cpu_ticks "$PX_PID") $(date +%s.%N)" >"$TMP/$1"; } # CPU ticks and time, at a window's edge
wrk_us() { # percentile, wrk --latency output: that latency in µs
  awk -v p="$1" '$1 == p {v = $2; u = 1; if (v ~ /us$/) u = 1; else if (v ~ /ms$/) u = 1000; else if (v ~ /s$/) u = 1e6;
    sub(/[a-z]+$/, "", v); printf "%.1f", v * u; exit}' <<<"$2"
}

# one measured run of the client through the proxy on port $1 for load $2; prints "rate p50_us p99_us errors"; the
# proxy's CPU is sampled over the measured part ($TMP/t0, $TMP/t1)
run_load() {
  local port=$1 load=$2 line conns depth size test pipe
  case $BACKEND in
    echo)
      IFS=x read -r conns depth size <<<"$load"
      line=$(timeout $((SECS + WARM + 60)) taskset -c "$CLIENT_CPU" "$BENCH/loadgen" 127.0.0.1 "$port" "$conns" \
          "$depth" "$size" "$SECS" "$WARM" 2>"$TMP/client.err" & LG=$!
        sleep "$WARM"; mark t0; wait $LG || true)
      mark t1
      echo "$(field msgs_per_s "$line") $(field p50_us "$line") $(field p99_us "$line") $(field errors "$line")" ;;
    http)
      # warm-up, unmeasured, WARMUPS times: each run opens and closes its connections, whose rarely taken paths
      # make the JIT deoptimize and recompile the loop; a JVM measured after one short warm-up showed that (p99 ×3)
      for ((i = 0; i < WARMUPS; i++)); do
        timeout $((WARM + 60)) taskset -c "$CLIENT_CPU" wrk -t1 -c"$load" -d"${WARM}s" \
            "http://127.0.0.1:$port/plaintext" >/dev/null 2>&1 || true
      done
      mark t0
      line=$(timeout $((SECS + 60)) taskset -c "$CLIENT_CPU" wrk -t1 -c"$load" -d"${SECS}s" --latency \
          "http://127.0.0.1:$port/plaintext" 2>&1 || true)
      mark t1
      errors=$(awk '/Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF}
          END {print n + 0}' <<<"$line")
      echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$line") $(wrk_us 50% "$line") $(wrk_us 99% "$line") $errors" ;;
    resp)
      IFS=: read -r test pipe <<<"$load"
      # REQUESTS per pipeline slot: -P 16 sends 16 times as many, so that a round lasts as long as the plain one's
      # (200,000 pipelined requests are over in 0.2 s: the JIT's warm-up, not the proxy, was measured)
      for ((i = 0; i < WARMUPS; i++)); do # warm-up, unmeasured (as for http: connections opened and closed)
        timeout 120 taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -c 50 \
            -n $((REQUESTS * pipe / 4)) -t "$test" -P "$pipe" -q >/dev/null 2>&1 || true
      done
      mark t0
      line=$(timeout 300 taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n $((REQUESTS * pipe)) \
          -t "$test" -P "$pipe" -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1 || true)
      mark t1
      # "GET: 98039.22 requests per second, p50=0.255 msec"
      echo "$(sed -E 's/^[^:]*: ([0-9.]+) requests.*/\1/' <<<"$line") $(sed -nE 's/.*p50=([0-9.]+) msec.*/\1/p' \
          <<<"$line" | awk '{printf "%.1f", $1 * 1000}') - 0" ;;
  esac
}

: >"$TMP/results"
port=$((BASE_PORT + 1))
for round in $(seq "$ROUNDS"); do
  # which proxy goes first alternates by round: the back end lives through the whole run, and whatever state the
  # first proxy's load leaves it in (heap, caches) must not always favour the same one
  order="haproxy epoll4j"
  if ((round % 2 == 0)); then order="epoll4j haproxy"; fi
  for load in ${LOADS//,/ }; do
    for proxy in $order; do
      port=$((port + 1))
      start_proxy $proxy $port
      load_avg=$(cut -d' ' -f1 /proc/loadavg)
      read -r rate p50 p99 errors <<<"$(run_load "$port" "$load")"
      read -r t0 s0 <"$TMP/t0"
      read -r t1 s1 <"$TMP/t1"
      stop "$PX_PID"; PX_PID=""
      us=$(awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v hz="$HZ" -v r="${rate:-0}" \
          'BEGIN {if (r > 0) printf "%.2f", (b - a) / hz / (s1 - s0) / r * 1e6; else print "nan"}')
      echo "$load $proxy ${rate:-0} ${p50:--} ${p99:--} $us ${errors:--}" >>"$TMP/results"
      echo "round $round $load $proxy: rate=${rate:-0} p50_us=${p50:--} p99_us=${p99:--} errors=${errors:--}" \
          "proxy_cpu_us_per_req=$us (load average before: $load_avg)" >&2
    done
  done
  if [[ $MIB -gt 0 ]]; then
    for proxy in $order; do
      port=$((port + 1))
      start_proxy $proxy $port
      for i in $(seq 1 "$WARM_TRANSFERS"); do
        transfer "$port" >/dev/null # warm-up (JIT), the same for both
      done
      for i in $(seq 1 "$TRANSFERS"); do
        c0=$(cpu_ticks "$PX_PID")
        secs=$(transfer "$port")
        cpu_ms=$(( ($(cpu_ticks "$PX_PID") - c0) * 1000 / HZ )) # the proxy's CPU time (user + system) for it
        echo "transfer $proxy $secs $cpu_ms $round.$i" >>"$TMP/results"
        echo "round $round transfer $i $proxy: $MIB MiB each way in $secs s, proxy CPU $cpu_ms ms" \
            "(load average $(cut -d' ' -f1 /proc/loadavg))" >&2
      done
      stop "$PX_PID"; PX_PID=""
    done
  fi
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
case $BACKEND in
  echo) what="$([[ $JAVA_ECHO == 1 ]] && echo "the echo example" || echo c-echo) behind them, the C loadgen as client"
    unit="msgs/s"; lhead="load (conns x depth x bytes)" ;;
  http) what="the http example (1 reactor) behind them, wrk -t1 on /plaintext"; unit="req/s"; lhead="wrk connections" ;;
  resp) what="the resp example (1 reactor) behind them, redis-benchmark -c 50 -n $REQUESTS × pipeline"; unit="req/s"
        lhead="test:pipeline" ;;
esac
echo "proxies on CPU $PROXY_CPU (one thread each); $what, on CPU $UPSTREAM_CPU and $CLIENT_CPU;"
echo "median of $ROUNDS rounds; $(haproxy -v | head -1 | cut -d' ' -f1-3), $(java -version 2>&1 | head -1);"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "splice: $([ "$SPLICE" = 1 ] && echo "both (epoll4j --splice, HAProxy option splice-auto)" || echo "HAProxy off")"
echo
echo "| $lhead | HAProxy $unit | epoll4j $unit | epoll4j / HAProxy | MB/s each way (H / e) | p50 µs (H / e) | p99 µs (H / e) | proxy CPU µs/request (H / e) | errors (H / e) |"
echo "|---|---|---|---|---|---|---|---|---|"
for load in ${LOADS//,/ }; do
  col() { awk -v l="$load" -v p="$1" -v c="$2" '$1 == l && $2 == p && $c != "-" {print $c}' "$TMP/results" | median; }
  h=$(col haproxy 3) e=$(col epoll4j 3)
  ratio=$(awk -v h="$h" -v e="$e" 'BEGIN {if (h > 0) printf "%.2f×", e / h; else print "n/a"}')
  mbs=-
  if [[ $BACKEND == echo ]]; then
    mbs=$(awk -v h="$h" -v e="$e" -v s="${load##*x}" 'BEGIN {printf "%.1f / %.1f", h * s / 1e6, e * s / 1e6}')
  fi
  printf "| %s | %.0f | %.0f | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n" "$load" "$h" "$e" "$ratio" \
      "$mbs" "$(col haproxy 4)" "$(col epoll4j 4)" "$(col haproxy 5)" "$(col epoll4j 5)" "$(col haproxy 6)" \
      "$(col epoll4j 6)" "$(col haproxy 7)" "$(col epoll4j 7)"
done
if [[ $MIB -gt 0 ]]; then
  h=$(awk '$1 == "transfer" && $2 == "haproxy" {print $3}' "$TMP/results" | median)
  e=$(awk '$1 == "transfer" && $2 == "epoll4j" {print $3}' "$TMP/results" | median)
  hc=$(awk '$1 == "transfer" && $2 == "haproxy" {print $4}' "$TMP/results" | median)
  ec=$(awk '$1 == "transfer" && $2 == "epoll4j" {print $4}' "$TMP/results" | median)
  echo
  echo "| $MIB MiB through one connection and back ($ROUNDS × $TRANSFERS each, medians) | HAProxy | epoll4j | epoll4j / HAProxy (throughput) |"
  echo "|---|---|---|---|"
  awk -v h="$h" -v e="$e" -v m="$MIB" 'BEGIN {printf "| MB/s each way | %.0f | %.0f | %.2f× |\n",
      m * 1.048576 / h, m * 1.048576 / e, h / e}'
  awk -v h="$hc" -v e="$ec" 'BEGIN {printf "| proxy CPU ms for the transfer (ratio: HAProxy / epoll4j, above 1 = epoll4j used less) | %.0f | %.0f | %.2f× |\n",
      h, e, (e > 0 ? h / e : 0)}'
  # each pair: the same round and index through both proxies (HAProxy's time / epoll4j's: above 1, epoll4j faster)
  pairs=$(awk '$1 == "transfer" {t[$2, $5] = $3; k[$5] = 1} END {for (i in k) if (t["haproxy", i] && t["epoll4j", i])
      print t["haproxy", i] / t["epoll4j", i]}' "$TMP/results" | sort -g)
  echo
  echo "each pair's throughput ratio (epoll4j / HAProxy), sorted: $(awk '{printf "%.2f ", $1}' <<<"$pairs")"
  echo "pairs where epoll4j was faster: $(awk '$1 > 1 {n++} END {print n + 0}' <<<"$pairs") of $(awk 'NF {n++} END {print n + 0}' <<<"$pairs")"
fi

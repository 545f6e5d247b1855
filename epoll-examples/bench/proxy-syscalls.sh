#!/usr/bin/env bash
# Per-message costs of the proxy example and of HAProxy (TCP mode) at one load: figures a busy machine disturbs far
# less than the rate. System calls by kind, epoll waits and events per wait, bytes per read and CPU time, each divided
# by the messages that crossed the proxy in the same window (the bytes the proxy's client sockets received, from
# `ss -ti`, over the message size: exact whatever the rate). Same set-up as proxy-vs-haproxy.sh (c-echo behind, one
# proxy thread on PROXY_CPU, the back end and the C loadgen on CLIENT_CPU), one proxy at a time, each started fresh.
#
# usage: epoll-examples/bench/proxy-syscalls.sh [-L CONNSxDEPTHxSIZE] [-s SECONDS] [-w WARMUP] [-x "epoll4j haproxy"]
#            [-a "extra proxy args"] [-j JAVA] [-J JAR] [-P PROXY_CPU] [-C CLIENT_CPU]
# defaults: -L 200x8x128 -s 3 -w 3, both proxies, java from PATH, this checkout's jar (-J: another build's).
# Needs root (perf syscalls tracepoints), perf, ss, haproxy, python3, the jar (mvn -o -pl epoll-examples -am package
# -DskipTests), /tmp/epoll4j-bench/{c-echo,loadgen}.
# Three windows of SECONDS after the warm-up, per proxy:
#   1. CPU: /proc/PID/stat utime + stime (no tracing on);
#   2. system calls: perf stat -e raw_syscalls:sys_enter -e syscalls:sys_enter_read ... (every call pays a
#      tracepoint: both proxies alike);
#   3. perf record of the epoll_wait and read/recvfrom exits: events per wait, bytes per read.
set -euo pipefail
LOAD=200x8x128 SECS=3 WARM=3 WHICH="haproxy epoll4j" PROXY_ARGS="" JAVA=java JAR="" PROXY_CPU=0 CLIENT_CPU=1
while getopts "L:s:w:x:a:j:J:P:C:" o; do
  case $o in
    L) LOAD=$OPTARG ;; s) SECS=$OPTARG ;; w) WARM=$OPTARG ;; x) WHICH=$OPTARG ;; a) PROXY_ARGS=$OPTARG ;;
    j) JAVA=$OPTARG ;; J) JAR=$OPTARG ;; P) PROXY_CPU=$OPTARG ;; C) CLIENT_CPU=$OPTARG ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${JAR:=$ROOT/epoll-examples/target/epoll-examples.jar}"
BENCH=${BENCH_OUT:-/tmp/epoll4j-bench}
IFS=x read -r CONNS DEPTH SIZE <<<"$LOAD"
TMP=$(mktemp -d /tmp/proxy-syscalls.XXXXXX)
UP_PID="" PX_PID="" LG=""
stop() { [[ -n $1 ]] || return 0; kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
trap 'stop "$LG"; stop "$PX_PID"; stop "$UP_PID"; rm -rf "$TMP"' EXIT INT TERM
wait_port() {
  for _ in $(seq 300); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# bytes received so far by the sockets accepted on port $1 (what the clients sent through the proxy)
received() { ss -tinH state established "( sport = :$1 )" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2 |
    awk '{s += $1} END {print s + 0}'; }
# the system calls counted by kind (raw_syscalls:sys_enter counts all of them: "other" is the difference)
TRACE=()
for c in read write recvfrom sendto recvmsg sendmsg readv writev epoll_wait epoll_pwait epoll_pwait2 epoll_ctl \
    futex gettid clock_gettime getsockopt setsockopt shutdown close accept4 connect socket splice sendfile64 \
    mprotect madvise sched_yield; do
  TRACE+=(-e "syscalls:sys_enter_$c")
done
cpu_ticks() { awk '{print $14 + $15, $14}' "/proc/$1/stat"; }
# per thread: "tid user system name"
threads() { for t in /proc/"$1"/task/*; do
  echo "${t##*/} $(awk '{print $14, $15}' "$t/stat" 2>/dev/null) $(tr ' ' _ <"$t/comm" 2>/dev/null)"; done; }
BASE=$((28000 + RANDOM % 2000))
taskset -c "$CLIENT_CPU" "$BENCH/c-echo" "$BASE" >"$TMP/up.log" 2>&1 &
UP_PID=$!
wait_port "$BASE" "$UP_PID"
port=$BASE
for px in $WHICH; do
  port=$((port + 1))
  case $px in
    haproxy)
      printf 'global\n    nbthread 1\n    maxconn 4000\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 300s\n    timeout server 300s\nfrontend relay\n    bind 127.0.0.1:%s\n    default_backend upstream\nbackend upstream\n    server echo 127.0.0.1:%s\n' \
          "$port" "$BASE" >"$TMP/haproxy.cfg"
      taskset -c "$PROXY_CPU" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/px.log" 2>&1 & ;;
    epoll4j)
      # shellcheck disable=SC2086
      taskset -c "$PROXY_CPU" "$JAVA" -jar "$JAR" proxy --port "$port" --to "127.0.0.1:$BASE" --reactors 1 \
          --max-connections 4000 $PROXY_ARGS >"$TMP/px.log" 2>&1 & ;;
    *) echo "-x: epoll4j or haproxy: $px" >&2; exit 2 ;;
  esac
  PX_PID=$!
  wait_port "$port" "$PX_PID" || { cat "$TMP/px.log" >&2; exit 1; }
  taskset -c "$CLIENT_CPU" "$BENCH/loadgen" 127.0.0.1 "$port" "$CONNS" "$DEPTH" "$SIZE" $((3 * SECS + 20)) "$WARM" \
      >"$TMP/lg.out" 2>&1 &
  LG=$!
  sleep "$WARM"
  # 1. CPU time, untraced
  b0=$(received "$port"); read -r c0 u0 < <(cpu_ticks "$PX_PID"); threads "$PX_PID" >"$TMP/th0"
  sleep "$SECS"
  b1=$(received "$port"); read -r c1 u1 < <(cpu_ticks "$PX_PID"); threads "$PX_PID" >"$TMP/th1"
  # 2. system calls by kind
  # (attaching takes a while: perf starts disabled and counts between "enable" and "disable", the bytes too)
  mkfifo "$TMP/ctl" "$TMP/ack"
  perf stat -x, -e raw_syscalls:sys_enter "${TRACE[@]}" -p "$PX_PID" -o "$TMP/stat.csv" -D -1 \
      --control "fifo:$TMP/ctl,$TMP/ack" 2>"$TMP/perf.err" &
  PS=$!
  exec 7>"$TMP/ctl" 8<"$TMP/ack"
  echo enable >&7; read -r -u 8 _
  b2=$(received "$port")
  sleep "$SECS"
  b3=$(received "$port")
  echo disable >&7; read -r -u 8 _
  exec 7>&- 8<&-
  kill -INT $PS 2>/dev/null || true
  wait $PS || true
  rm -f "$TMP/ctl" "$TMP/ack"
  # 3. events per wait, bytes per read
  kill -0 "$LG" || { echo "the loadgen ended early:" >&2; cat "$TMP/lg.out" >&2; }
  perf record -q -o "$TMP/rec.data" -e 'syscalls:sys_exit_epoll_wait' -e 'syscalls:sys_exit_epoll_pwait' \
      -e 'syscalls:sys_exit_epoll_pwait2' -e 'syscalls:sys_exit_read' -e 'syscalls:sys_exit_recvfrom' \
      -p "$PX_PID" -- sleep "$SECS" >/dev/null 2>&1 || true
  stop "$LG"; LG=""
  perf script -i "$TMP/rec.data" -F event,trace 2>/dev/null >"$TMP/rec.txt" || true
  echo "== $px at $LOAD (load average $(cut -d' ' -f1 /proc/loadavg))"
  python3 - "$TMP/stat.csv" "$TMP/rec.txt" "$SIZE" "$SECS" "$((b1 - b0))" "$((c1 - c0))" "$((u1 - u0))" \
      "$((b3 - b2))" "$(getconf CLK_TCK)" "$TMP/th0" "$TMP/th1" <<'PY'
import sys
stat, rec = sys.argv[1], sys.argv[2]
size, secs, cpu_bytes, ticks, uticks, sys_bytes, hz = (float(a) for a in sys.argv[3:10])
m1, m2 = cpu_bytes / size, sys_bytes / size
print("  window 1: %.0f msgs/s through the proxy; CPU %.3f µs/msg (user %.3f, system %.3f), %.0f%% of a CPU" % (
    m1 / secs, ticks / hz * 1e6 / m1, uticks / hz * 1e6 / m1, (ticks - uticks) / hz * 1e6 / m1,
    ticks / hz / secs * 100))
before = {l.split()[0]: l.split() for l in open(sys.argv[10])}
for l in open(sys.argv[11]):
    t = l.split()
    if len(t) == 4 and t[0] in before and len(before[t[0]]) == 4:
        du, ds = int(t[1]) - int(before[t[0]][1]), int(t[2]) - int(before[t[0]][2])
        if du + ds > 0:
            print("    thread %-16s user %.3f, system %.3f µs/msg" % (t[3], du / hz * 1e6 / m1, ds / hz * 1e6 / m1))
print("  window 2: %.0f msgs/s; system calls per message:" % (m2 / secs))
total = known = 0
for line in open(stat):
    f = line.strip().split(",")
    if len(f) < 3 or not f[0].isdigit():
        continue
    v = int(f[0])
    if f[2] == "raw_syscalls:sys_enter":
        total = v
    elif v > 0:
        known += v
        print("    %-22s %7.4f  (%d)" % (f[2][len("syscalls:sys_enter_"):], v / m2, v))
other = max(total - known, 0)  # the counters start a few calls apart: a small negative difference is noise
print("    %-22s %7.4f  (%d)" % ("other", other / m2, other))
print("    %-22s %7.4f  (%d)" % ("all", total / m2, total))
waits = events = zero = reads = ok = nbytes = again = 0
for line in open(rec):
    p = line.split()
    if len(p) < 2:
        continue
    ret = int(p[-1], 16)
    if ret >= 1 << 63:
        ret -= 1 << 64
    if "epoll" in p[0]:
        waits += 1
        events += max(ret, 0)
        zero += ret == 0
    else:
        reads += 1
        if ret > 0:
            ok += 1
            nbytes += ret
        else:
            again += 1
msgs = nbytes / 2 / size  # each message is read twice: from the client, then its echo from the upstream
print("  window 3: %.0f msgs/s; %.4f epoll waits/msg, %.1f events per wait (%d empty); %.4f reads/msg, "
      "%.0f bytes per read, %d reads got EAGAIN or EOF" % (
          msgs / secs, waits / msgs if msgs else 0, events / waits if waits else 0, zero, reads / msgs if msgs else 0,
          nbytes / ok if ok else 0, again))
PY
  stop "$PX_PID"; PX_PID=""
done

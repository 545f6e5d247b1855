#!/usr/bin/env bash
# Per-request figures of a running HTTP server under wrk, the ones that do not depend on how loaded the machine is:
# system calls by kind (perf's syscalls:sys_enter_* tracepoints on the server's threads), packets put on the wire
# (net:net_dev_xmit) in the server's context and in wrk's, and CPU time (task-clock) of each, all divided by the
# requests wrk completed. For comparing servers on the same files with the same client (e.g. the http example and
# nginx of http-vs-nginx.sh), one after the other.
#
# Why wrk's side too: on loopback the receiver's TCP processing runs in the sender's context, and the part of a
# large response that the client's ACKs clock out is sent from the client's context. How a response's packets split
# between the two contexts moves CPU between them, so compare the sum as well as the server's share.
#
# Usage: per-request-counts.sh SERVER_PID URL [DURATION_S] [LABEL]   (CONNECTIONS=100, CLIENT_CPU=1 by default)
# Needs: perf (with tracepoint access: root or perf_event_paranoid <= -1), wrk, taskset.
set -euo pipefail

PID=$1
URL=$2
DURATION=${3:-5}
LABEL=${4:-server}
CONNECTIONS=${CONNECTIONS:-100}
CLIENT_CPU=${CLIENT_CPU:-1}
CALLS="read recvfrom write writev sendto sendmsg sendfile64 openat close statx newfstatat newfstat epoll_wait
       epoll_pwait epoll_pwait2 epoll_ctl setsockopt futex"

for tool in perf wrk taskset; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -d "/proc/$PID" ] || { echo "no process $PID" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
events=""
for c in $CALLS; do
    events="$events,syscalls:sys_enter_$c"
done

perf stat -x, -e "${events#,}" -e task-clock -e net:net_dev_xmit -p "$PID" -o "$WORK/server" &
perf_pid=$!
sleep 1.5 # perf attaches to every thread of a JVM before it counts
perf stat -x, -e task-clock -e net:net_dev_xmit -o "$WORK/client" -- \
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL" >"$WORK/wrk"
kill -INT "$perf_pid"
wait "$perf_pid" || true

n=$(awk '/requests in/ {print $1}' "$WORK/wrk")
rps=$(awk '/Requests\/sec:/ {print $2}' "$WORK/wrk")
[ "${n:-0}" -gt 0 ] || { cat "$WORK/wrk" >&2; echo "no requests completed" >&2; exit 1; }
field() { awk -F, -v e="$2" '$3 == e {print $1}' "$WORK/$1"; }
calls=$(awk -F, -v n="$n" '$3 ~ /sys_enter_/ && $1 + 0 > 0 {
        e = $3; sub("syscalls:sys_enter_", "", e); printf "%s %.2f, ", e, $1 / n }' "$WORK/server")
awk -v l="$LABEL" -v n="$n" -v r="$rps" -v st="$(field server task-clock)" -v ct="$(field client task-clock)" \
    -v sx="$(field server net:net_dev_xmit)" -v cx="$(field client net:net_dev_xmit)" -v calls="${calls%, }" \
    'BEGIN {
        printf "%s: %d requests (%.0f/s while counted)\n", l, n, r
        printf "  CPU µs/request: server %.0f, wrk %.0f, sum %.0f\n", st * 1000 / n, ct * 1000 / n, (st + ct) * 1000 / n
        printf "  packets/request: server context %.1f, wrk context %.1f, sum %.1f\n", sx / n, cx / n, (sx + cx) / n
        printf "  server system calls/request: %s\n", calls
    }'

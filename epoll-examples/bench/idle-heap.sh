#!/usr/bin/env bash
# idle-heap.sh N NAME COMMAND...: live heap per idle connection from jcmd GC.class_histogram (a full GC first),
# (with N idle connections of $BENCH_OUT/loadgen open) - (before); {PORT} in COMMAND is replaced. Runs in $BENCH_OUT.
set -u
N=$1; name=$2; shift 2; cmd="$*"
J=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin
port=$((24000 + RANDOM % 1000)); cmd=${cmd//\{PORT\}/$port}
( cd "${BENCH_OUT:-/tmp/epoll4j-bench}" && exec taskset -c 0 bash -c "exec $cmd" ) >/tmp/histo.$name.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 2
h0=$($J/jcmd $pid GC.class_histogram | awk '/^Total/{print $3}')
taskset -c 1 "${BENCH_OUT:-/tmp/epoll4j-bench}/loadgen" 127.0.0.1 $port 1 1 64 14 1 --idle "$N" >/dev/null 2>&1 &
lg=$!
sleep 10
$J/jcmd $pid GC.class_histogram > /tmp/histo.$name.txt
h1=$(awk '/^Total/{print $3}' /tmp/histo.$name.txt)
wait $lg; kill $pid; wait $pid 2>/dev/null
awk -v n=$name -v a=$h0 -v b=$h1 -v N=$N 'BEGIN{printf "%s\tlive heap %d -> %d B: %.0f B per idle connection\n", n, a, b, (b-a)/N}'
head -14 /tmp/histo.$name.txt | tail -11

#!/usr/bin/env bash
# Runs units of Redis's own Tcl test suite (external-server mode) against a running resp server and prints one
# summary line per unit: passed, failed, skipped (ignored by tag or by the external/singledb modes).
#
#   epoll-examples/scripts/redis-suite.sh REDIS_CHECKOUT PORT [UNIT ...]
#
# REDIS_CHECKOUT is a checkout of github.com/redis/redis (the tag matching the redis-server the results are
# compared with, e.g. 7.0.15) outside this repository; this script fetches nothing. Needs tclsh (Debian: tcl).
# Tests needing DEBUG, replication, persistence or a server the suite starts itself are excluded by their tags;
# tests of features not implemented (streams, keyspace notifications, SORT, Lua scripts, DUMP/RESTORE) by name.
set -euo pipefail
checkout=${1:?redis checkout}
port=${2:?port}
shift 2
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  units=(unit/type/incr unit/type/string unit/expire unit/keyspace unit/protocol unit/pubsub unit/type/set
         unit/type/hash unit/multi)
fi
out=${OUT:-/tmp/redis-suite-results}
mkdir -p "$out"
cd "$checkout"
for u in "${units[@]}"; do
  log="$out/$(echo "$u" | tr / _).log"
  timeout "${UNIT_TIMEOUT:-600}" ./runtest --host 127.0.0.1 --port "$port" --singledb --single "$u" \
      --tags -needs:debug --tags -needs:repl --tags -needs:save --tags -needs:config-maxmemory \
      --skiptest "/[Ss]tream" --skiptest "/Keyspace notifications" --skiptest "/SORT" --skiptest "/ZUNIONSTORE" \
      --skiptest "/EVAL" --skiptest "/SCRIPT" --skiptest "/script timeout" \
      --skiptest "/Hash ziplist of various encodings" \
      --skiptest "Blocking commands ignores the timeout" --skiptest "/XREADGROUP" --timeout 60 --clients 1 > "$log" 2>&1 || true
  # strip colours, then count
  sed -i 's/\x1b\[[0-9;]*m//g' "$log"
  ok=$(grep -c '^\[ok\]' "$log" || true)
  err=$(grep -c '^\[err\]' "$log" || true)
  exc=$(grep -c '^\[exception\]' "$log" || true)
  skip=$(grep -c '^\[ignore\]\|^\[skip\]' "$log" || true)
  echo "$u: passed $ok, failed $err, exceptions $exc, skipped $skip (log: $log)"
done

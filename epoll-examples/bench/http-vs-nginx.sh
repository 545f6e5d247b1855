#!/usr/bin/env bash
# http vs nginx: requests/s for GET /plaintext ("Hello, World!"), one after the other, interleaved over ROUNDS.
#
# Both servers are pinned to core 0 (nginx: one worker, no master process; ours: --reactors 1), the load
# generator to core 1: wrk -t1 -c100 -d${DURATION}s http://127.0.0.1:PORT/plaintext. Everything listens on
# 127.0.0.1 only; every process started here is stopped on exit.
#
# TLS=1 measures https instead: a self-signed EC certificate made here with openssl, TLS 1.3 on both servers
# (nginx: ssl_protocols TLSv1.3; ours: --tls-cert/--tls-key), wrk over https with keep-alive, and handshakes per
# second with a fresh connection each (openssl s_time -new, on the client core).
#
# FILES=1 measures static files instead of /plaintext: a 1 KiB /small.html and a 1 MiB /big.bin from one directory
# (nginx: root, sendfile on, its default ETag/Last-Modified; ours: --root, sendfile(2) always), each path measured
# on both servers in every round.
#
# Usage: [TLS=1] [FILES=1] epoll-examples/bench/http-vs-nginx.sh [ROUNDS] [DURATION_S]   (build the jar first:
#        mvn -B -o -q -pl epoll-examples -am package -DskipTests)
# Needs: nginx (Debian nginx-light), wrk, taskset, java 17+. Run as root (nginx wants to write its pid/log
# files; the config below puts them all in a temporary directory).
set -euo pipefail

ROUNDS=${1:-3}
DURATION=${2:-10}
CONNECTIONS=${CONNECTIONS:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${JAR:-$HERE/../target/epoll-examples.jar}
JAVA=${JAVA:-java}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
NGINX_PORT=${NGINX_PORT:-18081}
HTTP_PORT=${HTTP_PORT:-18082}
TLS=${TLS:-0}
FILES=${FILES:-0}
SCHEME=http
[ "$TLS" = 1 ] && SCHEME=https
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for tool in wrk taskset "$JAVA"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -x "$NGINX" ] || { echo "missing: nginx (apt-get install nginx-light)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "missing: $JAR (build it first)" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

LISTEN_OPTS=""
SSL_CONF=""
HTTP_TLS_ARGS=()
if [ "$TLS" = 1 ]; then
    command -v openssl >/dev/null || { echo "missing: openssl" >&2; exit 1; }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" \
        -out "$WORK/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    LISTEN_OPTS=" ssl"
    SSL_CONF="ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem; ssl_protocols TLSv1.3;"
    HTTP_TLS_ARGS=(--tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem")
fi

LOCATION="location / { return 200 'Hello, World!'; }"
HTTP_FILE_ARGS=()
PATHS=(/plaintext)
if [ "$FILES" = 1 ]; then
    mkdir -p "$WORK/www"
    head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 > "$WORK/www/small.html"
    head -c 1048576 /dev/urandom > "$WORK/www/big.bin"
    LOCATION="sendfile on; location / { root $WORK/www; }"
    HTTP_FILE_ARGS=(--root "$WORK/www")
    PATHS=(/small.html /big.bin)
fi

cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT$LISTEN_OPTS;
        $SSL_CONF
        $LOCATION
    }
}
CONF

wait_port() { # port: wait until something answers /plaintext (bounded: 20 s)
    for _ in $(seq 1 200); do
        if curl -sk -o /dev/null "$SCHEME://127.0.0.1:$1/plaintext" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    return 1
}

start_nginx() {
    taskset -c "$SERVER_CPU" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off; master_process off;' \
        2>>"$WORK/nginx.stderr" &
    PIDS+=($!)
    SERVER=$!
    wait_port "$NGINX_PORT"
}

start_http() {
    taskset -c "$SERVER_CPU" "$JAVA" -jar "$JAR" http --port "$HTTP_PORT" --reactors 1 "${HTTP_TLS_ARGS[@]}" \
        "${HTTP_FILE_ARGS[@]}" >"$WORK/http.out" 2>&1 &
    PIDS+=($!)
    SERVER=$!
    wait_port "$HTTP_PORT"
    # Warm the JIT up before measuring (nginx needs none): the same load, shorter, not counted.
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d3s "$SCHEME://127.0.0.1:$HTTP_PORT$1" >/dev/null
}

stop_server() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
}

cpu_ticks() { # pid -> user+system clock ticks of the whole process so far
    awk '{print $14 + $15}' "/proc/$1/stat"
}

run_wrk() { # port path -> "requests_per_s socket_errors server_cpu_us_per_request"
    local out before after
    before=$(cpu_ticks "$SERVER")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$SCHEME://127.0.0.1:$1$2")
    after=$(cpu_ticks "$SERVER")
    echo "$out" >>"$WORK/wrk.log"
    local rps errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    # "Socket errors: connect 0, read 0, write 0, timeout 0" appears only when there were some.
    errs=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
    local non2xx
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    local requests cpu_us
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu_us=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="${requests:-0}" \
        'BEGIN { printf "%.2f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    echo "${rps:-0} $(( ${errs:-0} + ${non2xx:-0} )) $cpu_us"
}

handshakes() { # port -> new TLS connections per second over 5 s (openssl s_time -new)
    taskset -c "$CLIENT_CPU" openssl s_time -connect "127.0.0.1:$1" -new -time 5 2>/dev/null \
        | awk '/connections in .* real seconds/ {print $1 / $4; exit}' | awk '{printf "%.0f", $1}'
}

report() { # path: the table of the rounds collected in the arrays
    echo
    echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s $SCHEME://127.0.0.1:PORT$1 (servers on core $SERVER_CPU, wrk on core $CLIENT_CPU), $ROUNDS rounds interleaved"
    echo
    echo "(server CPU: user + system time of the server process during the run, per request; less sensitive than"
    echo " requests/s to other load on the machine)"
    echo
    echo "| round | nginx req/s | http req/s | http / nginx | server CPU µs/req (nginx / http) | socket errors (nginx / http) |"
    echo "|------:|------------:|-----------:|-------------:|----------------------------------|------------------------------|"
    local total_n=0 total_h=0 ratio i
    for i in $(seq 0 $((ROUNDS - 1))); do
        ratio=$(awk -v h="${HTTP_RPS[$i]}" -v n="${NGINX_RPS[$i]}" 'BEGIN { printf "%.2f", (n > 0 ? h / n : 0) }')
        printf "| %d | %.0f | %.0f | %sx | %s / %s | %s / %s |\n" $((i + 1)) "${NGINX_RPS[$i]}" "${HTTP_RPS[$i]}" \
            "$ratio" "${NGINX_CPU[$i]}" "${HTTP_CPU[$i]}" "${NGINX_ERR[$i]}" "${HTTP_ERR[$i]}"
        total_n=$(awk -v a="$total_n" -v b="${NGINX_RPS[$i]}" 'BEGIN { print a + b }')
        total_h=$(awk -v a="$total_h" -v b="${HTTP_RPS[$i]}" 'BEGIN { print a + b }')
    done
    awk -v n="$total_n" -v h="$total_h" -v r="$ROUNDS" \
        'BEGIN { printf "| mean | %.0f | %.0f | %.2fx | | |\n", n / r, h / r, (n > 0 ? h / n : 0) }'
}

echo "load before: $(uptime)" >&2
for path in "${PATHS[@]}"; do
    declare -a NGINX_RPS=() HTTP_RPS=() NGINX_ERR=() HTTP_ERR=() NGINX_CPU=() HTTP_CPU=() NGINX_HS=() HTTP_HS=()
    for round in $(seq 1 "$ROUNDS"); do
        start_nginx
        read -r r e c < <(run_wrk "$NGINX_PORT" "$path")
        [ "$TLS" = 1 ] && NGINX_HS+=("$(handshakes "$NGINX_PORT")")
        stop_server
        NGINX_RPS+=("$r"); NGINX_ERR+=("$e"); NGINX_CPU+=("$c")
        start_http "$path"
        read -r r2 e2 c2 < <(run_wrk "$HTTP_PORT" "$path")
        [ "$TLS" = 1 ] && HTTP_HS+=("$(handshakes "$HTTP_PORT")")
        stop_server
        HTTP_RPS+=("$r2"); HTTP_ERR+=("$e2"); HTTP_CPU+=("$c2")
        echo "$path round $round: nginx $r req/s, http $r2 req/s ($(uptime | sed 's/.*load/load/'))" >&2
    done
    report "$path"
    if [ "$TLS" = 1 ]; then
        echo
        echo "TLS 1.3 handshakes per second, a new connection each (openssl s_time -new -time 5, client on core $CLIENT_CPU):"
        echo
        echo "| round | nginx handshakes/s | http handshakes/s |"
        echo "|------:|-------------------:|------------------:|"
        for i in $(seq 0 $((ROUNDS - 1))); do
            echo "| $((i + 1)) | ${NGINX_HS[$i]:-?} | ${HTTP_HS[$i]:-?} |"
        done
    fi
done
echo "load after: $(uptime)" >&2

#!/usr/bin/env bash
# https: the http example against nginx, per TLS provider and key type, interleaved in one run.
#
# For each key type (ec: P-256, rsa: 2048) and each provider of the http example (jdk, accp, conscrypt), and nginx with the same
# certificate, on the same pinned cores (server: SERVER_CPU, clients: CLIENT_CPU), TLS 1.3:
#   full handshakes/s     openssl s_time -new   -time T -www /plaintext
#   resumed handshakes/s  openssl s_time -reuse -time T -www /plaintext   (TLS 1.3 PSK from a session ticket)
#   requests/s            wrk -t1 -c100 -dT https://127.0.0.1:PORT/plaintext  (keep-alive, 13-byte body)
#   MB/s                  wrk -t1 -c4 -dT https://127.0.0.1:PORT/big.bin      (a 10 MiB file)
# Each s_time connection sends one HTTP/1.0 GET and reads the response: without it (no -www) a TLS 1.3 client closes
# before the server's NewSessionTicket arrives, has nothing to resume with, and "-reuse" measures full handshakes
# against every server, nginx included. The "% resumed" column counts the connections s_time marked reused ('r').
# HANDSHAKES_ONLY=1 skips the wrk rows. Server CPU per handshake (user + system time of the server process over the
# s_time run, per connection) is printed next to each rate: on a shared machine it moves far less than the rate.
# Prints a markdown table (and, with CSV=FILE, appends round,key,server,full,resumed,rps,mbps lines to FILE for
# epoll-jmh's Charts --https). Every process started here is stopped on exit.
#
# Usage: epoll-examples/bench/https-vs-nginx.sh [SECONDS] [ROUNDS]   (build the jar first:
#        mvn -B -o -q -pl epoll-examples -am package -DskipTests)
# Needs: nginx (nginx-light), wrk, openssl, taskset, curl, java 17+; run as root.
set -euo pipefail

T=${1:-5}
ROUNDS=${2:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${JAR:-$HERE/../target/epoll-examples.jar}
JAVA=${JAVA:-java}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
PORT=${PORT:-18443}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PROVIDERS=${PROVIDERS:-"jdk accp conscrypt"}
KEYS=${KEYS:-"ec rsa"}

WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
mkdir -p "$WORK/www"
head -c $((10 << 20)) /dev/urandom > "$WORK/www/big.bin"
echo 'Hello, World!' | tr -d '\n' > "$WORK/www/plaintext"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/ec.key" \
    -out "$WORK/ec.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rsa.key" \
    -out "$WORK/rsa.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null

nginx_conf() { # key type
    cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
    sendfile on;
    client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy; fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $WORK/$1.pem; ssl_certificate_key $WORK/$1.key; ssl_protocols TLSv1.3 TLSv1.2;
        ssl_session_tickets on;
        location = /plaintext { return 200 'Hello, World!'; }
        location / { root $WORK/www; }
    }
}
CONF
}

wait_port() {
    for _ in $(seq 1 300); do
        if curl -sk -o /dev/null "https://127.0.0.1:$PORT/plaintext" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing answers on port $PORT" >&2; return 1
}

start() { # server key
    if [ "$1" = nginx ]; then
        nginx_conf "$2"
        taskset -c "$SERVER_CPU" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off; master_process off;' \
            2>>"$WORK/nginx.stderr" &
        SERVER=$!
        wait_port
    else
        taskset -c "$SERVER_CPU" "$JAVA" -jar "$JAR" http --port "$PORT" --reactors 1 --root "$WORK/www" \
            --tls-cert "$WORK/$2.pem" --tls-key "$WORK/$2.key" --tls-provider "$1" >"$WORK/http.out" 2>&1 &
        SERVER=$!
        wait_port
        # JIT warm-up, not counted: handshakes and requests
        taskset -c "$CLIENT_CPU" openssl s_time -connect "127.0.0.1:$PORT" -new -time 3 -www /plaintext \
            >/dev/null 2>&1 || true
        taskset -c "$CLIENT_CPU" wrk -t1 -c100 -d3s "https://127.0.0.1:$PORT/plaintext" >/dev/null
    fi
}

stop() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

s_time() { # -new|-reuse -> "connections/s server-CPU-ms-per-connection %-resumed" (CPU: less sensitive to load)
    local before after out
    before=$(cpu_ticks)
    out=$(taskset -c "$CLIENT_CPU" openssl s_time -connect "127.0.0.1:$PORT" "$1" -time "$T" -www /plaintext \
        2>/dev/null)
    after=$(cpu_ticks)
    # s_time prints one character per connection: 'r' resumed, '*' (or the version's letter) a full handshake
    awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '/^[*rt3]+$/ { n += length($0); r += gsub(/r/, "") }
        /connections in .* real seconds/ { printf "%.0f %.2f %.0f\n", $1 / $4, ($1 > 0 ? t / hz * 1000 / $1 : 0),
        (n > 0 ? 100 * r / n : 0); exit }' <<<"$out"
}

rps() { taskset -c "$CLIENT_CPU" wrk -t1 -c100 -d"${T}s" "https://127.0.0.1:$PORT/plaintext" \
        | awk '/^Requests\/sec:/ {printf "%.0f", $2}'; }

mbps() { # MB/s of the 10 MiB file
    taskset -c "$CLIENT_CPU" wrk -t1 -c4 -d"${T}s" "https://127.0.0.1:$PORT/big.bin" \
        | awk '/^Transfer\/sec:/ {v = $2; u = substr(v, length(v) - 1); n = v + 0;
                if (u == "GB") n *= 1024; else if (u == "KB") n /= 1024; printf "%.0f", n}'
}

echo "| round | key | server | full hs/s | CPU ms/full hs | resumed hs/s | CPU ms/resumed hs | % resumed | req/s | MB/s (10 MiB) | load (1 min) |"
echo "|------:|-----|--------|----------:|---------------:|-------------:|------------------:|----------:|------:|--------------:|-------------:|"
for round in $(seq 1 "$ROUNDS"); do
    for key in $KEYS; do
        for server in nginx $PROVIDERS; do
            start "$server" "$key"
            read -r new newcpu _ < <(s_time -new); read -r reuse reusecpu reused < <(s_time -reuse)
            r=; m=
            if [ "${HANDSHAKES_ONLY:-0}" != 1 ]; then r=$(rps); m=$(mbps); fi
            stop
            echo "| $round | $key | $server | $new | $newcpu | $reuse | $reusecpu | $reused | $r | $m | $(cut -d' ' -f1 /proc/loadavg) |"
            [ -n "${CSV:-}" ] && echo "$round,$key,$server,$new,$reuse,$r,$m" >> "$CSV"
        done
    done
done

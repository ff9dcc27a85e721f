#!/bin/bash
# tests/bench/memory.sh — where nginx's memory per idle stream goes, and what
# a stream costs with no web server at all.
#
# For each variant of the shipped deploy/nginx/birdfeed.conf (one setting
# changed at a time from the shipped file) and for nginx + Nchan with and
# without the shipped generic tuning: one nginx worker, one responder
# process, MEM_STREAMS idle streams (default 3000) opened by sseload with the
# request a browser sends (tests/bench/chromium-stream.head: Chromium 156's
# EventSource request with a 304-byte reader token cookie and Last-Event-ID,
# 920 bytes), and the growth of each process's RSS divided by the streams.
# Also the kernel's Slab growth per stream (system-wide: noisy on a shared
# machine; it counts the client's socket too, the same for both systems).
#
# The row "direct" has no web server: one responder process serves the
# streams itself on its --stream-listen port (direct streams), sseload opens
# them there with the same recorded request, and the growth of the
# responder's RSS per stream is its figure (the nginx column is empty; the
# kernel column counts two sockets a stream, the client's and the
# responder's, where behind nginx there are four: the FastCGI connection's
# two ends besides).
# It says "not available" when birdfeed-fcgi has no --stream-listen.
#
#   bash tests/bench/memory.sh               # the table (about 2 minutes)
#   MEM_HEAD=none bash tests/bench/memory.sh # with sseload's bare 139-byte request
#   MEM_ONLY="shipped nchan-generic" …       # only these rows
#   MEM_ONLY="shipped direct" …              # behind nginx against no web server
#   MEM_EXTRA="rps-2560 fbs-256" …           # more variants (rps-N, fbs-N, chb-N, cps-N, lchb-N)
#
# cps-N adds `connection_pool_size N` (the shipped file leaves the default,
# 512); lchb-N adds `large_client_header_buffers 4 N` (default 4 8k), which
# only a request head over client_header_buffer_size uses (MEM_HEAD).
#
# The rows "shipped-h2" and "nchan-generic-h2" open the streams over HTTP/2
# and TLS instead (the site's commented TLS lines turned on, a self-signed
# certificate), 100 streams per connection as a browser's tabs would share
# one, with h2load (Debian's nghttp2-client) sending the same headers; they
# are skipped when h2load is missing.
#
# Not a timing measurement: it may run on a busy machine. Everything it
# starts is stopped on exit; it needs nginx, libnginx-mod-nchan, redis-server
# and the bench binaries (make bench builds them; or make build/tests/bench/sseload).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
. tests/bench/lib.sh
set -u

need_sseload memory
N=${MEM_STREAMS:-3000}
HEAD_FILE=${MEM_HEAD:-tests/bench/chromium-stream.head}
ONLY=${MEM_ONLY:-}
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -gt $((N + 200)) ] || { echo "memory: ulimit -n $(ulimit -n) is too low for $N streams" >&2; exit 2; }
HARGS=()
[ "$HEAD_FILE" != none ] && HARGS=(-H "@$HEAD_FILE")


# variant NAME: the shipped site file with one change, on stdout.
variant() {
    local f=deploy/nginx/birdfeed.conf
    case $1 in
        shipped) cat "$f";;
        before) git show d4a7c9d:deploy/nginx/birdfeed.conf 2>/dev/null || { echo "(no git history)" >&2; return 1; };;
        no-generic) sed '/>>> generic/,/<<< generic/d' "$f";;
        all-params)    # fastcgi_params and every request header, as for the API
            sed -e '/memory per open stream: the FastCGI side/,/fastcgi_param HTTP_ORIGIN/{/fastcgi_param\|fastcgi_pass_request_headers/d}' \
                -e 's#^\( *\)fastcgi_buffer_size [0-9]*k;#\1include /etc/nginx/fastcgi_params;\n&#' "$f";;
        fbs-*) sed "s#fastcgi_buffer_size [0-9]*k;#fastcgi_buffer_size ${1#fbs-};#" "$f";;
        rps-*) sed "s#request_pool_size [0-9]*;#request_pool_size ${1#rps-};#" "$f";;
        chb-*) sed "s#client_header_buffer_size 1k;#client_header_buffer_size ${1#chb-};#" "$f";;
        cps-*) sed "s#^\( *\)request_pool_size [0-9]*;#&\n\1connection_pool_size ${1#cps-};#" "$f";;
        lchb-*) sed "s#^\( *\)client_header_buffer_size 1k;#&\n\1large_client_header_buffers 4 ${1#lchb-};#" "$f";;
        *) echo "memory: unknown variant $1" >&2; return 1;;
    esac
}


# measure_h2 SYS DIR URL NGINX_PID [FCGI_PID]: the same as measure over HTTP/2:
# h2load opens the streams ($N / 100 connections × 100), RSS is read once it
# stops growing and the server counts every stream open.
measure_h2() {
    local sys=$1 d=$2 url=$3 worker fam="" r0 f0=0 s0 r1 f1=0 s1 hp prev=-1 open=0 hdrs=() l
    worker=$(pgrep -P "$4" | head -n 1)
    [ -n "${5:-}" ] && fam=$(pgrep -P "$5" | paste -sd, -),$5
    while IFS= read -r l; do case $l in GET*|Host:*|Connection:*|'') ;; *) hdrs+=(-H "$l");; esac; done <"$HEAD_FILE"
    r0=$(rss_kb "$worker"); [ -n "$fam" ] && f0=$(rss_kb "$fam"); s0=$(slab_kb)
    timeout $((N / 200 + 60)) h2load -c $((N / 100)) -m 100 -n "$N" "${hdrs[@]}" "$url" >"$d/h2load.out" 2>&1 &
    hp=$!
    for _ in $(seq 1 $((N / 200 + 40))); do
        sleep 1
        if [ "$sys" = bf ]; then open=$(( $(grep -c "$FCGI_SOCK" /proc/net/unix) - 1 ))
        else open=$(curl -sk -H 'Accept: text/json' "${url%/sub}/pub" | sed -n 's/.*"subscribers": *\([0-9]*\).*/\1/p'); fi
        r1=$(rss_kb "$worker")
        [ "${open:-0}" -ge "$N" ] && [ "$r1" = "$prev" ] && break
        prev=$r1
    done
    [ -n "$fam" ] && f1=$(rss_kb "$fam"); s1=$(slab_kb)
    kill "$hp" 2>/dev/null; wait "$hp" 2>/dev/null
    [ "${open:-0}" -ge "$N" ] || { echo "FAILED: only ${open:-0} of $N streams open over h2: $(tail -n 3 "$d/h2load.out" | tr '\n' ' ')"; return 1; }
    echo "$(( (r1 - r0) * 1024 / N )) $(( (f1 - f0) * 1024 / N )) $(( (s1 - s0) * 1024 / N )) $N h2"
}

# measure SYS DIR URL NGINX_PID [FCGI_PID]: open the streams, print "nginx_B
# responder_B slab_B connected request_B". NGINX_PID "" (direct): no nginx,
# every process measured is the responder's.
measure() {
    local sys=$1 d=$2 url=$3 nginx_pid=$4 fcgi_pid=${5:-} pids worker=- s0 s1 line list=()
    [ -n "$nginx_pid" ] && worker=$(pgrep -P "$nginx_pid" | head -n 1) && list+=("$worker")
    [ -n "$fcgi_pid" ] && list+=($(pgrep -P "$fcgi_pid") "$fcgi_pid")
    pids=$(IFS=,; echo "${list[*]}")
    s0=$(slab_kb)
    rm -f "$d/ready"
    "$SSELOAD" --conns "$N" --ramp 2000 --duration $((N / 2000 + 60)) --expect 1 --settle 1000 \
        --pid-rss "$pids" --ready-file "$d/ready" "${HARGS[@]}" "$url" >"$d/load.out" 2>&1 &
    local lp=$!
    if ! wait_until $((N / 2000 + 40)) test -e "$d/ready"; then
        kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
        echo "FAILED: no plateau: $(head -c 300 "$d/load.out")"; return 1
    fi
    s1=$(slab_kb)
    if [ "$sys" = bf ]; then
        publish_tweet '*' '{"id":"1","text":"bye","user":{"screen_name":"a","name":"A"},"created_at":"2026-01-01T00:00:00Z"}' >/dev/null
    else
        curl -s -o /dev/null -X POST --data-binary '{"bye":1}' "${url%/sub}/pub"
    fi
    wait "$lp"
    line=$(grep '^conns=' "$d/load.out")
    python3 - "$line" "$worker" "$s0" "$s1" <<'PY'
import sys
kv = dict(x.split('=', 1) for x in sys.argv[1].split() if '=' in x)
n = int(kv['connected']) or 1
ngx = resp = 0
for e in kv['rss_pids'].split(','):
    pid, before, idle = e.split(':')
    delta = (int(idle) - int(before)) * 1024
    if pid == sys.argv[2]: ngx += delta
    else: resp += delta
print(ngx / n, resp / n, (int(sys.argv[4]) - int(sys.argv[3])) * 1024 / n, kv['connected'], kv['request_b'])
PY
}

ROWS=()
run_bf() {   # NAME
    local name=$1 d=$T/$1 port h2=""
    case $name in *-h2) h2=1;; esac
    mkdir -p "$d"
    variant "${name%-h2}" >"$d/variant.conf" || return 0
    FCGI_UNIX=1 start_fcgi --workers 1
    port=$(free_port)
    bench_site "$d/variant.conf" "$FCGI_ADDR" "127.0.0.1:$port" "$d" >"$d/site.conf"
    if [ -n "$h2" ]; then    # the site's TLS lines, on a second port
        H2_PORT=$(free_port)
        sed -i -e "s|#listen 443 ssl http2;|listen 127.0.0.1:$H2_PORT ssl http2;|" \
            -e "s|#ssl_certificate .*|ssl_certificate $T/cert.pem;|" -e "s|#ssl_certificate_key .*|ssl_certificate_key $T/key.pem;|" "$d/site.conf"
    fi
    nginx_site_conf "$d" 1 20000 "$d/site.conf"
    nginx_run "$d" "$port" || fail "nginx ($name) did not start"
    local np=$NGINX_RUN_PID
    local ct
    ct=$(curl -s -m 3 -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/stream?preload=0")
    case $ct in "200 text/event-stream"*) ;; *) fail "$name: /stream answered '$ct'";; esac
    sleep 0.3
    local r
    if [ -n "$h2" ]; then r=$(measure_h2 bf "$d" "https://127.0.0.1:$H2_PORT/stream?preload=0" "$np" "$FCGI_PID")
    else r=$(measure bf "$d" "http://127.0.0.1:$port/stream?preload=0" "$np" "$FCGI_PID"); fi ||
        { ROWS+=("$name|$r"); kill "$np"; wait "$np" 2>/dev/null; stop_fcgi; return 0; }
    ROWS+=("birdfeed $name|$r")
    kill "$np"; wait "$np" 2>/dev/null
    stop_fcgi
}
run_nchan() {   # NAME GENERIC-SETTINGS
    local name=$1 d=$T/$1 port tls=""
    mkdir -p "$d"
    port=$(free_port)
    case $name in *-h2) tls="listen 127.0.0.1:$port ssl http2; ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;";; esac
    sed -e "s#@DIR@#$d#g; s#@PORT@#$port#g; s#@WORKERS@#1#g; s#@GENERIC@#$2#" tests/bench/nchan.conf >"$d/nginx.conf"
    [ -n "$tls" ] && sed -i "s#listen 127.0.0.1:$port reuseport;#$tls#" "$d/nginx.conf"
    nginx_run "$d" "$port" || fail "nginx+Nchan ($name) did not start"
    local np=$NGINX_RUN_PID
    sleep 0.3
    local r
    if [ -n "$tls" ]; then r=$(measure_h2 nchan "$d" "https://127.0.0.1:$port/sub" "$np")
    else r=$(measure nchan "$d" "http://127.0.0.1:$port/sub" "$np"); fi ||
        { ROWS+=("$name|$r"); kill "$np"; wait "$np" 2>/dev/null; return 0; }
    ROWS+=("$name|$r")
    kill "$np"; wait "$np" 2>/dev/null
}
# run_direct: the responder alone (one process), the streams opened on its
# --stream-listen port: no web server in between.
run_direct() {
    local d=$T/direct r
    mkdir -p "$d"
    direct_available || { ROWS+=("birdfeed direct|$DIRECT_WHY"); return 0; }
    start_direct --workers 1
    local ct
    ct=$(curl -s -m 3 -o /dev/null -w '%{http_code} %{content_type}' "$DIRECT_URL")
    case $ct in "200 text/event-stream"*) ;; *) fail "direct: /stream answered '$ct'";; esac
    sleep 0.3
    r=$(measure bf "$d" "$DIRECT_URL" "" "$FCGI_PID") || { ROWS+=("birdfeed direct|$r"); stop_fcgi; return 0; }
    ROWS+=("birdfeed direct (no web server)|$r")
    stop_fcgi
}
want() { [ -z "$ONLY" ] && return 0; case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }

start_redis >/dev/null
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
for v in before shipped no-generic all-params fbs-2k fbs-1k fbs-512 rps-4096 rps-1024 rps-512 chb-2k ${MEM_EXTRA:-}; do
    want "$v" && run_bf "$v"
done
want direct && run_direct
want nchan-default && run_nchan nchan-default ""
want nchan-generic && run_nchan nchan-generic "$(generic_tuning)"
if command -v h2load >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
        fail "openssl could not make a certificate"
    want shipped-h2 && run_bf shipped-h2
    want nchan-generic-h2 && run_nchan nchan-generic-h2 "$(generic_tuning)"
else
    ROWS+=("HTTP/2 rows|not measured: h2load missing (apt-get install nghttp2-client)")
fi

echo "### nginx memory per idle stream — $(date -u '+%Y-%m-%d %H:%M UTC'), $N streams, one nginx worker, one responder (direct: the responder alone)"
echo
echo "Request: $([ "$HEAD_FILE" = none ] && echo "sseload's own (bare)" || echo "$HEAD_FILE"); load average $LOAD0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end. Shipped generic tuning: \`$(generic_tuning)\`."
echo
echo "| variant | request | nginx | responder | nginx + responder | kernel Slab (noisy) |"
echo "|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do
    IFS='|' read -r name fig <<<"$r"
    read -r ngx resp slab conn req <<<"$fig"
    case $fig in FAILED*|not*) echo "| $name | – | $fig | | | |"; continue;; esac
    [ "$req" = h2 ] && req="HTTP/2, h2load: the same headers" || req="$req B"
    tot=$(awk -v a="$ngx" -v b="$resp" 'BEGIN { print a + b }')
    case $name in *direct*) ngx="–";; *) ngx=$(printf '%.0f B' "$ngx");; esac
    printf '| %s | %s | %s | %.0f B | %.0f B | %.0f B |\n' "$name" "$req" "$ngx" "$resp" "$tot" "$slab"
done

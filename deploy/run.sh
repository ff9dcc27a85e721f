#!/bin/bash
# make run — birdfeed on this machine, from a run/ directory, in one command:
# Redis (deploy/redis.conf), the responder (2 workers), nginx
# (deploy/nginx/birdfeed.conf with the demo page), synthetic tweets flowing
# (birdfeed gen | birdfeed ingest) — or, with BIRDFEED_SOURCE, a real
# source pulled live (birdfeed pull) — and two demo filters. Prints the URL
# to open and a bearer token for the page's filter form. Ctrl-C stops
# everything it started and leaves nothing running.
#
# Environment:
#   BIRDFEED_PORT       web port on 127.0.0.1 (default 8080, else the next free one)
#   BIRDFEED_RATE       synthetic tweets per second (default 20)
#   BIRDFEED_SOURCE     a URL to pull instead of the synthetic feed (birdfeed pull: a
#                       Jetstream wss:// URL, a Mastodon streaming https:// URL, NDJSON)
#   BIRDFEED_SOURCE_ARGS  more options for birdfeed pull (--bearer-file F, --cacert F, …)
#   BIRDFEED_RUN_DIR    where state and logs go (default run/ in the repository)
#   BIRDFEED_RUN_SKIP_SETUP=1   don't install packages or build (tests use it)
#   BIRDFEED_BUILD      where the programs are (default build/)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUN=${BIRDFEED_RUN_DIR:-$ROOT/run}
BUILD=${BIRDFEED_BUILD:-$ROOT/build}
RATE=${BIRDFEED_RATE:-20}
SOURCE=${BIRDFEED_SOURCE:-}
WANT_PORT=${BIRDFEED_PORT:-8080}

say() { printf 'birdfeed run: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

case $RATE in ''|*[!0-9.]*) die "BIRDFEED_RATE must be a number of tweets per second, got '$RATE'" ;; esac
case $SOURCE in ''|http://*|https://*|ws://*|wss://*) ;; *) die "BIRDFEED_SOURCE must be an http(s):// or ws(s):// URL, got '$SOURCE'" ;; esac
case $WANT_PORT in ''|*[!0-9]*) die "BIRDFEED_PORT must be a port number, got '$WANT_PORT'" ;; esac
[ "$WANT_PORT" -ge 1 ] && [ "$WANT_PORT" -le 65535 ] || die "BIRDFEED_PORT must be 1..65535, got $WANT_PORT"

# ---- install and build -------------------------------------------------------
if [ -z "${BIRDFEED_RUN_SKIP_SETUP:-}" ]; then
    sh deploy/install-deps.sh
    say "building"
    make -s all
fi
for p in "$BUILD/birdfeed" "$BUILD/birdfeed-fcgi"; do
    [ -x "$p" ] || die "$p is missing: run make first"
done

# ---- one instance per run directory -------------------------------------------
mkdir -p "$RUN/redis" "$RUN/nginx" "$RUN/logs"
if [ -f "$RUN/run.pid" ] && kill -0 "$(cat "$RUN/run.pid")" 2>/dev/null; then
    die "already running (pid $(cat "$RUN/run.pid")) from $RUN; stop it with Ctrl-C there first"
fi
echo $$ > "$RUN/run.pid"

# ---- stop everything we start, whatever happens --------------------------------
PIDS=()
NAMES=()
# track PID NAME: stop it on exit; $RUN/pids lists what runs now.
track() { PIDS+=("$1"); NAMES+=("$2"); echo "$1 $2" >> "$RUN/pids"; }
: > "$RUN/pids"
stopping=
cleanup() {
    [ -n "$stopping" ] && return
    stopping=1
    trap '' INT TERM
    local i p
    # Newest first: the feed, nginx, the responder, then Redis.
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
    for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
        p=${PIDS[$i]}
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$p" 2>/dev/null; then
            say "${NAMES[$i]} (pid $p) did not stop in 5 s; killing it"
            kill -KILL "$p" 2>/dev/null || true
        fi
        wait "$p" 2>/dev/null || true
    done
    rm -f "$RUN/run.pid" "$RUN/feed.fifo" "$RUN/pids" "$RUN/url"
    say "stopped everything (state kept in $RUN)"
}
trap cleanup EXIT
trap 'exit 0' INT      # Ctrl-C is how make run is meant to end
trap 'exit 143' TERM

# port_free PORT: nobody listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# pick_port FROM: FROM or the next free port above it.
pick_port() {
    local p=$1
    while [ "$p" -le 65535 ]; do
        if port_free "$p"; then echo "$p"; return 0; fi
        p=$((p + 1))
    done
    return 1
}
# wait_for SECONDS WHAT CMD…: poll until CMD succeeds.
wait_for() {
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || die "$what did not come up in ${limit}s (logs in $RUN/logs)"
        sleep 0.1
    done
}
alive() { kill -0 "$1" 2>/dev/null; }

WEB_PORT=$(pick_port "$WANT_PORT") || die "no free port from $WANT_PORT up"
[ "$WEB_PORT" = "$WANT_PORT" ] || say "port $WANT_PORT is taken; using $WEB_PORT"
REDIS_PORT=$(pick_port 6380) || die "no free port for Redis"
FCGI_PORT=$(pick_port 9000) || die "no free port for the responder"

# ---- Redis -----------------------------------------------------------------------
redis-server deploy/redis.conf --port "$REDIS_PORT" --dir "$RUN/redis" \
    --unixsocket "$RUN/redis/redis.sock" --logfile "$RUN/logs/redis.log" \
    --daemonize no --maxmemory 256mb &
track $! redis
export BIRDFEED_REDIS="redis://127.0.0.1:$REDIS_PORT/0"
export BIRDFEED_PREFIX=${BIRDFEED_PREFIX:-birdfeed:}
wait_for 15 "Redis" redis-cli -p "$REDIS_PORT" ping
say "Redis on 127.0.0.1:$REDIS_PORT (data in $RUN/redis)"

# ---- a bearer token for changing filters ------------------------------------
if [ ! -s "$RUN/tokens" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$RUN/tokens" && echo >> "$RUN/tokens")
fi
chmod 600 "$RUN/tokens"
export BIRDFEED_TOKENS_FILE="$RUN/tokens"
TOKEN=$(head -n 1 "$RUN/tokens")

# ---- the responder ------------------------------------------------------------------
# nginx reaches it over a unix socket in $RUN (nginx's workers run as root or
# as you, so they may open it): each event costs less than over loopback TCP
# (README "Performance"). A run directory too deep for a socket path uses TCP.
FCGI_SOCK=$RUN/fcgi.sock
if [ "${#FCGI_SOCK}" -lt 100 ]; then
    FCGI_LISTEN=$FCGI_SOCK; FCGI_UPSTREAM=unix:$FCGI_SOCK
else
    FCGI_LISTEN=127.0.0.1:$FCGI_PORT; FCGI_UPSTREAM=$FCGI_LISTEN
fi
"$BUILD/birdfeed-fcgi" --listen "$FCGI_LISTEN" --workers 2 >>"$RUN/logs/fcgi.log" 2>&1 &
FCGI_PID=$!
track "$FCGI_PID" birdfeed-fcgi
if [ "$FCGI_LISTEN" = "$FCGI_SOCK" ]; then
    wait_for 15 "birdfeed-fcgi" test -S "$FCGI_SOCK"
else
    wait_for 15 "birdfeed-fcgi" bash -c "exec 3<>/dev/tcp/127.0.0.1/$FCGI_PORT"
fi
say "birdfeed-fcgi on $FCGI_LISTEN, 2 workers (log $RUN/logs/fcgi.log)"

# ---- nginx: the shipped site config, rendered for this directory -----------------
sed -e "s#^\( *server \)[^ ;]*;#\1$FCGI_UPSTREAM;#" \
    -e "s#listen 80;#listen 127.0.0.1:$WEB_PORT;#" \
    -e "s#alias /usr/local/share/birdfeed/deploy/www/;#alias $ROOT/deploy/www/;#" \
    -e "s#/var/log/nginx/error.log#$RUN/logs/nginx-error.log#" \
    -e "s#/var/log/nginx/#$RUN/logs/nginx-#g" \
    deploy/nginx/birdfeed.conf > "$RUN/nginx/birdfeed.conf"
{
    echo "# Written by deploy/run.sh; the site itself is deploy/nginx/birdfeed.conf."
    echo "daemon off;"
    echo "worker_processes 1;"
    echo "worker_rlimit_nofile 4096;"
    echo "include $ROOT/deploy/nginx/birdfeed-main.conf;"
    # As root, workers would run as nobody, who may not read the repository.
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    echo "error_log $RUN/logs/nginx-error.log warn;"
    echo "pid $RUN/nginx/nginx.pid;"
    echo "events { worker_connections 2048; }"
    echo "http {"
    echo "  include /etc/nginx/mime.types;"
    echo "  default_type application/octet-stream;"
    echo "  access_log $RUN/logs/nginx-access.log;"
    for d in client_body fastcgi proxy uwsgi scgi; do echo "  ${d}_temp_path $RUN/nginx/$d;"; done
    echo "  include $RUN/nginx/birdfeed.conf;"
    echo "}"
} > "$RUN/nginx/nginx.conf"
nginx -t -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/logs/nginx-error.log" \
    || die "nginx rejected $RUN/nginx/nginx.conf"
nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/logs/nginx-error.log" &
track $! nginx
URL="http://127.0.0.1:$WEB_PORT/"
wait_for 15 "nginx" curl -fsS -o /dev/null "${URL}api/health"

# ---- demo filters (kept across runs: Redis persists in $RUN/redis) ---------------
existing=$("$BUILD/birdfeed" filters list --json 2>>"$RUN/logs/filters.log" || true)
add_filter() {  # NAME PHRASE…
    local name=$1; shift
    case $existing in *"\"name\":\"$name\""*) return 0 ;; esac
    local args=() p
    for p in "$@"; do args+=(--track "$p"); done
    "$BUILD/birdfeed" filters add --name "$name" "${args[@]}" >>"$RUN/logs/filters.log" 2>&1 \
        || say "could not create the demo filter '$name' (see $RUN/logs/filters.log)"
}
add_filter "Owls and herons" owl heron
add_filter "Coffee" coffee café "#coffee"

# ---- the feed: a live source, or synthetic tweets (a preload's worth at once, then a steady rate)
if [ -n "$SOURCE" ]; then
    # shellcheck disable=SC2086   # BIRDFEED_SOURCE_ARGS is a list of options
    "$BUILD/birdfeed" pull ${BIRDFEED_SOURCE_ARGS:-} "$SOURCE" >>"$RUN/logs/pull.log" 2>&1 &
    track $! "birdfeed pull"
    FEED="birdfeed pull $SOURCE (log: $RUN/logs/pull.log)"
else
    if [ "$(redis-cli -p "$REDIS_PORT" xlen "${BIRDFEED_PREFIX}tweets")" -lt 500 ]; then
        "$BUILD/birdfeed" gen --count 500 --seed "$RANDOM" | "$BUILD/birdfeed" ingest >>"$RUN/logs/ingest.log" 2>&1 \
            || die "the first tweets could not be ingested (see $RUN/logs/ingest.log)"
    fi
    rm -f "$RUN/feed.fifo"
    mkfifo "$RUN/feed.fifo"
    "$BUILD/birdfeed" ingest < "$RUN/feed.fifo" >>"$RUN/logs/ingest.log" 2>&1 &
    track $! "birdfeed ingest"
    "$BUILD/birdfeed" gen --rate "$RATE" --count 0 --seed "$RANDOM" > "$RUN/feed.fifo" 2>>"$RUN/logs/gen.log" &
    track $! "birdfeed gen"
fi

cat >&2 <<EOF

  birdfeed is running — open  $URL

  live stream     ${URL}stream          (curl -N ${URL}stream)
  health          ${URL}api/health
  filters         ${URL}api/filters
  token           $TOKEN
                  (paste it into "Create a filter" on the page; also in $RUN/tokens)
  feed            ${FEED:-birdfeed gen --rate $RATE | birdfeed ingest}
  logs            $RUN/logs/
  Redis           redis-cli -p $REDIS_PORT

  Ctrl-C stops everything.

EOF
echo "$URL" > "$RUN/url"

# ---- run until Ctrl-C or until a part dies ------------------------------------------
while :; do
    for i in "${!PIDS[@]}"; do
        if ! alive "${PIDS[$i]}"; then
            wait "${PIDS[$i]}" 2>/dev/null && rc=0 || rc=$?
            die "${NAMES[$i]} exited (status $rc); stopping. Logs: $RUN/logs/"
        fi
    done
    sleep 1
done

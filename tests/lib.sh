# tests/lib.sh — helpers for integration tests (bash). Source it first:
#   . "$(dirname "$0")/../lib.sh"
# It makes a private temp dir ($T), stops everything it started on exit, and
# finds free loopback ports. Binaries come from $BIRDFEED_BUILD (set by make).
set -u
BF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIRDFEED_BUILD=${BIRDFEED_BUILD:-$BF_ROOT/build}
BF=$BIRDFEED_BUILD/birdfeed
BF_FCGI=$BIRDFEED_BUILD/birdfeed-fcgi
T=$(mktemp -d "${TMPDIR:-/tmp}/birdfeed-test.XXXXXX")
chmod 755 "$T"            # nginx/apache workers (nobody, www-data) must reach sockets and files here
BF_PIDS=()
BF_TEST_NAME=$(basename "$0" .sh)
export BIRDFEED_PREFIX="bft:"
# Sanitizer builds: report leaks and UB, fail the process on them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=66}

bf_cleanup() {
    local p rc=$? leak
    for p in "${BF_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BF_PIDS[@]}"; do
        for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    # Every test, once its processes are gone: no token in any log it made.
    if leak=$(bf_secret_in_logs); then
        echo "FAIL $BF_TEST_NAME: a token reached a log: $leak" >&2
        BF_KEEP=1 rc=1
    fi
    if [ -n "${BF_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
    exit "$rc"
}
# bf_secret_in_logs: print where a token appears in the logs under $T (the
# web servers', birdfeed's, Redis's: *.log files; a program's captured
# output, *.out, may show a token on purpose, as make run does) and succeed;
# fail when none does. A token is a line of any "tokens" file under $T (8
# characters or more) or anything shaped like a signed JWT.
bf_secret_in_logs() {
    local logs=() f tok
    while IFS= read -r f; do logs+=("$f"); done < <(find "$T" -type f -name '*.log' 2>/dev/null)
    [ ${#logs[@]} -gt 0 ] || return 1
    while IFS= read -r tok; do
        [ ${#tok} -ge 8 ] || continue
        f=$(grep -lF -- "$tok" "${logs[@]}" | head -n 1)
        [ -n "$f" ] && { echo "a token of the tokens file (…${tok: -4}) in $f"; return 0; }
    done < <(find "$T" -type f -name tokens -exec sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' {} + 2>/dev/null)
    f=$(grep -lE 'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}' "${logs[@]}" | head -n 1)
    [ -n "$f" ] && { echo "a JWT in $f"; return 0; }
    return 1
}
trap bf_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL $BF_TEST_NAME: $*" >&2; exit 1; }
ok() { echo "ok - $BF_TEST_NAME: $*"; }
# bf_track PID: stop this process on exit; bf_untrack PID: no longer (it was
# reaped, and its pid may be reused by someone else's process).
bf_track() { BF_PIDS+=("$1"); }
bf_untrack() { local p keep=(); for p in "${BF_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; BF_PIDS=("${keep[@]}"); }

# assert_eq GOT WANT WHAT
assert_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
assert_ge() { [ "$1" -ge "$2" ] || fail "$3: got $1, want >= $2"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $(printf '%s' "$1" | head -c 600)";; esac; }

# wait_until SECONDS CMD…: poll CMD every 0.05 s until it succeeds.
wait_until() {
    local limit=$1; shift
    local end=$(( $(date +%s%N) + limit * 1000000000 ))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# free_port [ADDR]: a TCP port nobody listens on now at ADDR (default
# 127.0.0.1). Chosen below Linux's ephemeral range (32768+), so no outgoing
# connection can hold it.
free_port() {
    local p a=${1:-127.0.0.1}
    for _ in $(seq 1 200); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))
        if ! (exec 3<>"/dev/tcp/$a/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# ---- starting servers: ports are raced for --------------------------------
# free_port only says a port was free a moment ago: another process (another
# test, a client's outgoing connection) may bind it before our server does.
# Every start_* helper therefore runs through bf_start, which notices that the
# server lost its port and starts it again on another.

# bf_serving PID PORT [ADDR]: a TCP socket listening on ADDR:PORT (default
# 127.0.0.1) belongs to PID or to a process below it — the port answers from
# our server, not from whoever else may hold it.
bf_serving() {
    local pid=$1 p
    for p in $(ss -Hltnp "src ${3:-127.0.0.1}:$2" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        while [ -n "$p" ] && [ "$p" -gt 1 ]; do
            [ "$p" = "$pid" ] && return 0
            p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        done
    done
    return 1
}
# bf_wait_serving SECONDS PID PORT [ADDR]: wait until bf_serving; 1 when PID
# exits first or the time runs out.
bf_wait_serving() {
    local end=$(( $(date +%s%N) + $1 * 1000000000 ))
    while ! bf_serving "$2" "$3" "${4:-127.0.0.1}"; do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
}
# bf_start WHAT LOG ONCE [ARGS…]: start a server, on another port when it lost
# the race for its port. ONCE ARGS… is one attempt: it picks the port, starts
# the server in the background (bf_track), sets BF_START_PID to it and returns
# 0 once the server serves (bf_wait_serving, then any check of its own). When
# an attempt fails, bf_start stops that process and reads what it wrote to LOG
# during the attempt: "Address already in use" means the port was taken
# between free_port and bind, so ONCE runs again (after 0.5 s with
# BF_START_SAME_PORT=1, for a restart that must keep its port), up to 5
# attempts. Any other failure, or the 5th lost race, fails the test with the
# end of LOG and of BF_START_ALSO (one more log, if set), or says that the
# server wrote no LOG at all.
bf_start() {
    local what=$1 log=$2 try before also=${BF_START_ALSO:-}; shift 2
    for try in 1 2 3 4 5; do
        before=$(stat -c %s "$log" 2>/dev/null || echo 0)
        BF_START_PID=
        "$@" && return 0
        if [ -n "$BF_START_PID" ]; then
            kill -KILL "$BF_START_PID" 2>/dev/null; wait "$BF_START_PID" 2>/dev/null; bf_untrack "$BF_START_PID"
        fi
        [ -f "$log" ] || fail "$what did not start and wrote no log ($log does not exist)${also:+; the end of $also:
$(tail -n 20 "$also" 2>&1)}"
        tail -c +$((before + 1)) "$log" | grep -q 'Address already in use' || break
        echo "note: $what lost its port to another process (attempt $try); starting it again" >&2
        [ "${BF_START_SAME_PORT:-0}" = 1 ] && sleep 0.5
    done
    fail "$what did not start; the end of $log:
$(tail -n 20 "$log")${also:+
the end of $also:
$(tail -n 20 "$also" 2>&1)}"
}

# ---- logs: a check reads a log only once it exists ---------------------------
# need_log LOG…: fail unless every LOG exists. A grep over a missing file
# finds nothing, so "no error in the log" would pass and "the event is
# logged" would fail for the wrong reason.
need_log() {
    local f
    for f; do [ -e "$f" ] || fail "log $f does not exist: whatever should write it never did, so there is nothing to check"; done
}
# log_grep LOG [grep options…] PATTERN: grep LOG, after need_log LOG.
log_grep() { local log=$1; shift; need_log "$log"; grep "$@" "$log"; }
# no_sanitizer_report LOG…: fail on an ASan/UBSan report in any LOG (each must exist).
no_sanitizer_report() { need_log "$@"; grep -E 'Sanitizer|runtime error' "$@" && fail "sanitizer report in $*"; return 0; }

# start_redis [extra redis-server args…]: a private redis on a free port in $T/redis.
# Sets REDIS_PORT, REDIS_PID and exports BIRDFEED_REDIS. Restart with the same
# port and data with restart_redis.
start_redis() {
    local fixed=${REDIS_PORT:-}
    REDIS_ARGS=("$@")
    mkdir -p "$T/redis"
    BF_START_SAME_PORT=${fixed:+1} bf_start redis "$T/redis/redis.log" start_redis_once "$fixed"
    export BIRDFEED_REDIS="redis://127.0.0.1:$REDIS_PORT/0"
}
start_redis_once() {
    REDIS_PORT=${1:-$(free_port)} || return 1
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' \
        --daemonize no --logfile "$T/redis/redis.log" "${REDIS_ARGS[@]}" >>"$T/redis/redis.log" 2>&1 &
    REDIS_PID=$!; BF_START_PID=$REDIS_PID
    bf_track "$REDIS_PID"
    bf_wait_serving 10 "$REDIS_PID" "$REDIS_PORT" && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
}
kill_redis() { kill -KILL "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }
restart_redis() { start_redis "${REDIS_ARGS[@]}"; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# ---- responder and nginx (section owned by the responder: fcgi/) --------------
# start_fcgi [birdfeed-fcgi args…]: a responder on a free loopback port (or,
# with FCGI_UNIX=1, on the unix socket $T/fcgi.sock), logging to $T/fcgi.log.
# Sets FCGI_PORT (or FCGI_SOCK), FCGI_ADDR (for nginx) and FCGI_PID.
# FCGI_HOST (default 127.0.0.1) and FCGI_LOG (default $T/fcgi.log) place a
# TCP responder elsewhere (tests/multihost.sh: one per loopback "host").
start_fcgi() { bf_start birdfeed-fcgi "${FCGI_LOG:-$T/fcgi.log}" start_fcgi_once "$@"; }
# restart_fcgi [birdfeed-fcgi args…]: after stop_fcgi, a responder again on
# the same TCP port (clients reconnect there); waits for the port while
# another process holds it.
restart_fcgi() { FCGI_KEEP_PORT=$FCGI_PORT BF_START_SAME_PORT=1 start_fcgi "$@"; }
start_fcgi_once() {
    local host=${FCGI_HOST:-127.0.0.1} log=${FCGI_LOG:-$T/fcgi.log}
    if [ "${FCGI_UNIX:-0}" = 1 ]; then
        FCGI_SOCK=$T/fcgi.sock; FCGI_ADDR=unix:$FCGI_SOCK
        "$BF_FCGI" --listen "$FCGI_SOCK" "$@" >>"$log" 2>&1 &
    else
        FCGI_PORT=${FCGI_KEEP_PORT:-$(free_port "$host")} || return 1
        FCGI_ADDR=$host:$FCGI_PORT
        "$BF_FCGI" --listen "$host:$FCGI_PORT" "$@" >>"$log" 2>&1 &
    fi
    FCGI_PID=$!; BF_START_PID=$FCGI_PID
    bf_track "$FCGI_PID"
    if [ "${FCGI_UNIX:-0}" = 1 ]; then
        wait_until 10 bash -c "test -S '$FCGI_SOCK' || ! kill -0 $FCGI_PID" && kill -0 "$FCGI_PID" 2>/dev/null
    else
        bf_wait_serving 10 "$FCGI_PID" "$FCGI_PORT" "$host"
    fi
}
# start_nginx [MOUNT]: nginx on a free port in front of $FCGI_ADDR, rendered
# from deploy/nginx/birdfeed.conf with /stream and /api/ under MOUNT (default
# none, e.g. /birdfeed). Sets NGINX_PORT, NGINX_PID and BASE_URL.
# NGINX_SED, if set, is one more sed expression applied to the site file.
# NGINX_HOST (default 127.0.0.1) and NGINX_DIR (default $T/nginx) place it
# elsewhere (tests/multihost.sh: one per loopback "host").
start_nginx() { mkdir -p "${NGINX_DIR:-$T/nginx}"; bf_start nginx "${NGINX_DIR:-$T/nginx}/error.log" start_nginx_once "$@"; }
start_nginx_once() {
    local mount=${1:-} extra=() host=${NGINX_HOST:-127.0.0.1} d=${NGINX_DIR:-$T/nginx}
    [ -n "${NGINX_SED:-}" ] && extra=(-e "$NGINX_SED")
    NGINX_PORT=$(free_port "$host") || return 1
    sed "${extra[@]}" -e "s#^\( *server \)[^ ;]*;#\1$FCGI_ADDR;#" \
        -e "s#listen 80;#listen $host:$NGINX_PORT backlog=4096;#" \
        -e "s#location = /stream#location = $mount/stream#" \
        -e "s#location /api/#location $mount/api/#" \
        -e "s#location / {#location $mount/ {#" \
        -e "s#alias /usr/local/share/birdfeed/deploy/www/;#alias $BF_ROOT/deploy/www/;#" \
        -e "s#/var/log/nginx/#$d/#g" \
        "$BF_ROOT/deploy/nginx/birdfeed.conf" >"$d/birdfeed.conf"
    {
        echo "daemon off; worker_processes 1; worker_rlimit_nofile 20000;"
        echo "include $BF_ROOT/deploy/nginx/birdfeed-main.conf;"
        [ "$(id -u)" -eq 0 ] && echo "user root;"
        echo "error_log $d/error.log warn; pid $d/nginx.pid;"
        echo "events { worker_connections 19000; }"
        echo "http { access_log off;"
        for t in client_body fastcgi proxy uwsgi scgi; do echo "  ${t}_temp_path $d/$t;"; done
        echo "  include $d/birdfeed.conf; }"
    } >"$d/nginx.conf"
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
    NGINX_PID=$!; BF_START_PID=$NGINX_PID
    bf_track "$NGINX_PID"
    BASE_URL="http://$host:$NGINX_PORT$mount"
    bf_wait_serving 10 "$NGINX_PID" "$NGINX_PORT" "$host"
}
# stop_fcgi [PID]: SIGTERM the responder (default $FCGI_PID); fail unless it
# exits 0 within 2 s with no sanitizer report in $T/fcgi.log.
stop_fcgi() {
    local pid=${1:-$FCGI_PID} rc
    kill -TERM "$pid" 2>/dev/null || fail "responder $pid is not running"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "responder $pid still running 2 s after SIGTERM"
    wait "$pid"; rc=$?
    no_sanitizer_report "$T/fcgi.log"
    [ "$rc" -eq 0 ] || fail "responder exited $rc after SIGTERM (see $T/fcgi.log)"
}
# need_chromium: sets CHROMIUM (Debian's chromium, or BF_CHROMIUM) and makes
# sure tests/browser has playwright-core (npm ci once); fails otherwise.
need_chromium() {
    CHROMIUM=${BF_CHROMIUM:-/usr/bin/chromium}
    [ -x "$CHROMIUM" ] || fail "$CHROMIUM missing (deploy/install-deps.sh installs chromium)"
    if [ ! -d "$BF_ROOT/tests/browser/node_modules/playwright-core" ]; then
        (cd "$BF_ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 \
            || fail "npm ci in tests/browser failed: $(tail -n 5 "$T/npm.log")"
    fi
}
# start_feed RATE SEED: synthetic tweets flowing, birdfeed gen --rate RATE |
# birdfeed ingest through a fifo in $T, stopped on exit. Sets FEED_PID (ingest's).
start_feed() {
    mkfifo "$T/feed"
    "$BF" ingest <"$T/feed" 2>>"$T/ingest.log" &
    FEED_PID=$!
    bf_track "$FEED_PID"
    "$BF" gen --rate "$1" --count 0 --seed "$2" >"$T/feed" &
    bf_track $!
}
# fcgi_restart_script FILE PAUSE ARGS…: write FILE, a script that restarts the
# responder $FCGI_PID on its TCP port: SIGTERM, PAUSE seconds with no
# responder, then a new one with ARGS (its pid into FILE.pid; track it with
# bf_track after the script ran), waiting until it listens.
fcgi_restart_script() {
    local f=$1 pause=$2
    shift 2
    cat >"$f" <<SH
kill -TERM $FCGI_PID
for _ in \$(seq 1 100); do kill -0 $FCGI_PID 2>/dev/null || break; sleep 0.05; done
sleep $pause
"$BF_FCGI" --listen 127.0.0.1:$FCGI_PORT $* >>"$T/fcgi.log" 2>&1 </dev/null &
echo \$! > "$f.pid"
for _ in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$FCGI_PORT) 2>/dev/null && exit 0; sleep 0.05; done
exit 1
SH
}
# publish_tweet ID JSON: what `birdfeed ingest` does for one tweet (XADD to the
# stream, PUBLISH "<id> <json>" on live), with an explicit stream id.
# Like birdfeed's publishers, XADD and PUBLISH in one script, so that live
# messages keep the stream's order even beside another publisher.
publish_tweet() { publish_via rcli "$@"; }
# publish_via CLI ID JSON: publish_tweet on the server CLI (a redis-cli command
# with its arguments, word-split: "rn_cli m") talks to.
publish_via() {
    local out
    out=$($1 EVAL "local id = redis.call('XADD', KEYS[1], ARGV[1], 't', ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]) return id" 2 \
        "${BIRDFEED_PREFIX}tweets" "${BIRDFEED_PREFIX}live" "$2" "$3") || return 1
    [[ $out =~ ^[0-9]+-[0-9]+$ ]] && return 0
    echo "publish_tweet $2: $out" >&2
    return 1
}
# start_make_run: `make run` (deploy/run.sh, run directory $T/run: export
# BIRDFEED_RUN_DIR=$T/run and what else it should see) in the background,
# its output in $T/run.out; waits for the URL it prints. Sets RUN_PID, URL.
# A script's background job ignores SIGINT: run.sh gets SIGINT's default
# disposition back, as an interactive Ctrl-C would find it.
start_make_run() {
    python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp("bash", ["bash", sys.argv[1]])' \
        "$BF_ROOT/deploy/run.sh" >"$T/run.out" 2>&1 &
    RUN_PID=$!
    bf_track "$RUN_PID"
    wait_until 60 test -s "$T/run/url" || fail "make run did not print a URL: $(tail -n 20 "$T/run.out")"
    URL=$(cat "$T/run/url")
}
# stop_make_run: Ctrl-C (SIGINT) to run.sh; fails unless it and every process
# in its $T/run/pids file are gone within 15 s.
stop_make_run() {
    local p pids
    mapfile -t pids < <(awk '{print $1}' "$T/run/pids")
    kill -INT "$RUN_PID"
    wait_until 15 bash -c "! kill -0 $RUN_PID 2>/dev/null" || fail "run.sh still running 15 s after SIGINT"
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null && fail "process $p ($(tr '\0' ' ' </proc/"$p"/cmdline)) survived Ctrl-C"
    done
    return 0
}
# ---- EventSources that must resume (tests/browser/resume.js) -------------------
# publish_ticker TEXT: ten tweets a second ("TEXT N") in the background until
# $T/stop exists; $T/stopped appears once it stopped.
publish_ticker() {
    (
        i=0
        while [ ! -e "$T/stop" ]; do
            i=$((i + 1))
            publish_tweet '*' "{\"id\":\"$i\",\"text\":\"$1 $i\",\"user\":{\"screen_name\":\"r\"}}" >/dev/null 2>&1 || true
            sleep 0.1
        done
        touch "$T/stopped"
    ) &
    bf_track $!
}
# responder_away_script FILE PORT ARGS…: write FILE, a script `bash FILE SIG
# [PAUSE]` that takes the responder in $T/fcgi.pid away (SIGTERM; SIGKILL
# kills its workers first, as a crash would) for PAUSE seconds (default 5),
# then starts a new one with ARGS on $FCGI_PORT and waits until PORT answers.
# Its pid goes to $T/fcgi.pid and $T/fcgi.pids (resume_cleanup tracks them).
responder_away_script() {
    local f=$1 port=$2 args
    shift 2
    args=$(printf '%q ' "$@")          # quoted: a '*' stays a '*'
    echo "$FCGI_PID" >"$T/fcgi.pid"
    cat >"$f" <<SH
pid=\$(cat "$T/fcgi.pid")
workers=\$(pgrep -P "\$pid")
[ "\$1" = KILL ] && kill -KILL \$workers
kill -\$1 "\$pid"
for p in \$pid \$workers; do
    for _ in \$(seq 1 100); do kill -0 "\$p" 2>/dev/null || break; sleep 0.05; done
    kill -0 "\$p" 2>/dev/null && { echo "responder process \$p still running" >&2; exit 1; }
done
sleep \${2:-5}
"$BF_FCGI" --listen 127.0.0.1:$FCGI_PORT $args >>"$T/fcgi.log" 2>&1 </dev/null &
new=\$!
echo \$new >"$T/fcgi.pid"
echo \$new >>"$T/fcgi.pids"
for _ in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
# The port answering is not enough: a process left behind may hold it.
sleep 0.2
kill -0 \$new 2>/dev/null || { echo "the new responder did not start: \$(tail -n 2 "$T/fcgi.log")" >&2; exit 1; }
SH
}
# resume_env: what resume.js reads besides BF_STEPS: the newest id, the ids
# in a range, how to stop publish_ticker, the browser.
resume_env() {
    local key="${BIRDFEED_PREFIX}tweets"
    export BF_NEWEST="redis-cli -p $REDIS_PORT XREVRANGE '$key' + - COUNT 1 | head -n 1"
    export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '$key' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
    export BF_STOP="touch '$T/stop'; for _ in \$(seq 1 50); do [ -e '$T/stopped' ] && exit 0; sleep 0.1; done; exit 1"
    export BF_PROFILE=$T/chromium-profile BF_CHROMIUM=$CHROMIUM
}
# resume_cleanup FILE…: track the pids the steps' scripts left in $T/FILE.
resume_cleanup() {
    local f p
    for f; do
        if [ -s "$T/$f" ]; then while read -r p; do bf_track "$p"; done <"$T/$f"; fi
    done
}
# sse_ids FILE: the id: values of the tweet events in a captured stream, one a line.
sse_ids() { sed -n 's/^id: //p' "$1" | tr -d '\r'; }
# ---- end of the responder section ------------------------------------------------

# ---- archive and PostgreSQL (section owned by the archive: lib/store, cli/archive) ----
# start_postgres [postgres -c settings…]: a private PostgreSQL 15 on a free
# loopback port, data and unix socket in $T/pg, run as the unprivileged user
# postgres when the test runs as root (initdb refuses root). Creates database
# birdfeed. Sets PG_PORT, PG_PID, PG_URL (postgres://postgres@127.0.0.1:PORT/birdfeed)
# and PG_BIN. Extra arguments go to postgres, e.g. -c fsync=off.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
bf_as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_postgres() {
    mkdir -p "$T/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$T/pg"
    bf_as_pg "$PG_BIN/initdb" -D "$T/pg/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$T/pg/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 5 "$T/pg/initdb.log")"
    bf_start postgres "$T/pg/postgres.log" start_postgres_once "$@"
    PG_PID=$(head -n 1 "$T/pg/data/postmaster.pid")
    bf_track "$PG_PID"
    psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE birdfeed' >/dev/null \
        || fail "CREATE DATABASE failed"
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/birdfeed"
}
start_postgres_once() {
    local pid
    PG_PORT=$(free_port) || return 1
    bf_as_pg "$PG_BIN/postgres" -D "$T/pg/data" -p "$PG_PORT" -k "$T/pg" \
        -c listen_addresses=127.0.0.1 -c logging_collector=off "$@" >>"$T/pg/postgres.log" 2>&1 &
    pid=$!; BF_START_PID=$pid
    bf_track "$pid"
    bf_wait_serving 60 "$pid" "$PG_PORT" &&
        wait_until 60 bash -c "! kill -0 $pid 2>/dev/null || '$PG_BIN/pg_isready' -q -h 127.0.0.1 -p $PG_PORT" &&
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
}
# pg_sql SQL: run SQL in the birdfeed database, print unaligned tuples.
pg_sql() { psql -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d birdfeed -c "$1"; }
# fill_tweets N [SEED]: add N canonical tweets to the stream (redis-cli --pipe),
# with words from a small vocabulary so searches have known answers. Tweet ids
# are SEED*10^7 + i.
fill_tweets() {
    python3 - "$1" "${2:-1}" "${BIRDFEED_PREFIX}tweets" <<'PY' | rcli --pipe >/dev/null
import json, random, sys
n, seed, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
rnd = random.Random(seed)
words = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar "
         "papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu rust go redis sqlite "
         "postgres stream tweet bird feed night day sun rain snow café naïve straße über").split()
out = sys.stdout.buffer
for i in range(n):
    w = [rnd.choice(words) for _ in range(rnd.randint(3, 9))]
    tag = rnd.choice(words[:10])
    text = " ".join(w) + " #" + tag.capitalize() + " @user%d" % rnd.randint(0, 9)
    t = {"id": str(seed * 10**7 + i), "text": text,
         "user": {"screen_name": "author%d" % rnd.randint(0, 99), "name": "Author"},
         "created_at": "2026-01-01T00:00:00Z", "lang": rnd.choice(["en", "de", "fr"]),
         "hashtags": [tag.capitalize()], "mentions": ["user%d" % rnd.randint(0, 9)], "urls": [],
         "retweet_count": 0}
    v = json.dumps(t, ensure_ascii=False, separators=(",", ":")).encode()
    args = [b"XADD", key, b"*", b"t", v]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
}
# ---- end of the archive section ------------------------------------------------

# ---- web servers: lighttpd and Apache (deploy engineer) ---------------------
# Both render the shipped config (deploy/lighttpd/birdfeed.conf,
# deploy/apache/birdfeed.conf) for a test: its site settings block gets a free
# loopback port, paths under $T and the responder's address, by default
# 127.0.0.1:$FCGI_PORT (start_fcgi). Use the same responder for nginx.

# start_lighttpd [HOST:PORT]: sets LIGHTTPD_PORT, LIGHTTPD_PID, LIGHTTPD_URL.
# LIGHTTPD_SED, if set, is one more sed expression applied to the config.
start_lighttpd() {
    mkdir -p "$T/lighttpd"
    BF_START_ALSO=$T/lighttpd/birdfeed-error.log bf_start lighttpd "$T/lighttpd/stderr.log" start_lighttpd_once "$@"
}
start_lighttpd_once() {
    local backend=${1:-127.0.0.1:$FCGI_PORT} dir=$T/lighttpd extra=()
    [ -n "${LIGHTTPD_SED:-}" ] && extra=(-e "$LIGHTTPD_SED")
    LIGHTTPD_PORT=$(free_port) || return 1
    sed "${extra[@]}" -e "s#^var.birdfeed_www .*#var.birdfeed_www = \"$BF_ROOT/deploy/www\"#" \
        -e "s#^var.birdfeed_retry .*#var.birdfeed_retry = \"$BF_ROOT/deploy/stream-retry\"#" \
        -e "s#^var.birdfeed_host .*#var.birdfeed_host = \"${backend%:*}\"#" \
        -e "s#^var.birdfeed_port .*#var.birdfeed_port = ${backend##*:}#" \
        -e "s#^var.birdfeed_state .*#var.birdfeed_state = \"$dir\"#" \
        -e "s#^server.port .*#server.port = $LIGHTTPD_PORT#" \
        -e "s#^server.bind .*#server.bind = \"127.0.0.1\"#" \
        -e '/^server.username /d' -e '/^server.groupname /d' \
        "$BF_ROOT/deploy/lighttpd/birdfeed.conf" > "$dir/lighttpd.conf"
    lighttpd -tt -f "$dir/lighttpd.conf" >"$dir/check.log" 2>&1 || fail "lighttpd config: $(cat "$dir/check.log")"
    lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/stderr.log" 2>&1 &
    LIGHTTPD_PID=$!; BF_START_PID=$LIGHTTPD_PID
    bf_track "$LIGHTTPD_PID"
    LIGHTTPD_URL=http://127.0.0.1:$LIGHTTPD_PORT
    bf_wait_serving 10 "$LIGHTTPD_PID" "$LIGHTTPD_PORT" && wait_until 10 curl -fsS -o /dev/null "$LIGHTTPD_URL/"
}

# start_apache [HOST:PORT]: sets APACHE_PORT, APACHE_PID, APACHE_URL. Apache
# reports a bind failure on stderr ($T/apache/stderr.log), the rest in error.log.
start_apache() {
    mkdir -p "$T/apache"
    BF_START_ALSO=$T/apache/error.log bf_start apache "$T/apache/stderr.log" start_apache_once "$@"
}
# APACHE_SED, if set, is one more sed expression applied to the site file.
start_apache_once() {
    local apache_extra=()
    [ -n "${APACHE_SED:-}" ] && apache_extra=(-e "$APACHE_SED")
    local backend=${1:-127.0.0.1:$FCGI_PORT} dir=$T/apache m=/usr/lib/apache2/modules
    mkdir -p "$dir"
    APACHE_PORT=$(free_port) || return 1
    # Apache's children run as www-data: the checkout may sit in a 0700 directory
    # (mktemp -d), so serve the demo page from a copy under $T (0755).
    rm -rf "$dir/www" "$dir/stream-retry"
    cp -R "$BF_ROOT/deploy/www" "$dir/www"; cp -R "$BF_ROOT/deploy/stream-retry" "$dir/stream-retry"
    sed "${apache_extra[@]}" -e "s#^Define BIRDFEED_WWW .*#Define BIRDFEED_WWW $dir/www#" \
        -e "s#^Define BIRDFEED_RETRY .*#Define BIRDFEED_RETRY $dir/stream-retry#" \
        -e "s#^Define BIRDFEED_FCGI .*#Define BIRDFEED_FCGI $backend#" \
        -e "s#^Define BIRDFEED_PORT .*#Define BIRDFEED_PORT $APACHE_PORT#" \
        "$BF_ROOT/deploy/apache/birdfeed.conf" > "$dir/birdfeed.conf"
    # The server around the site file: what Debian's apache2.conf would give.
    cat > "$dir/httpd.conf" <<APACHE
ServerRoot "$dir"
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
Mutex file:$dir default
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule dir_module $m/mod_dir.so
LoadModule mime_module $m/mod_mime.so
TypesConfig /etc/mime.types
User www-data
Group www-data
ErrorLog "$dir/error.log"
LogLevel warn
Define APACHE_LOG_DIR $dir
Include "$dir/birdfeed.conf"
APACHE
    apache2 -t -f "$dir/httpd.conf" >"$dir/check.log" 2>&1 || fail "apache config: $(cat "$dir/check.log")"
    apache2 -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/stderr.log" 2>&1 &
    APACHE_PID=$!; BF_START_PID=$APACHE_PID
    bf_track "$APACHE_PID"
    APACHE_URL=${APACHE_SCHEME:-http}://127.0.0.1:$APACHE_PORT    # APACHE_SCHEME=https with a TLS site (APACHE_SED)
    bf_wait_serving 20 "$APACHE_PID" "$APACHE_PORT" &&
        wait_until 20 sh -c "curl -kfsS -o /dev/null '$APACHE_URL/' || ! kill -0 $APACHE_PID" 2>/dev/null &&
        curl -kfsS -o /dev/null "$APACHE_URL/" 2>/dev/null
}
# ---- end web servers: lighttpd and Apache -----------------------------------

#!/bin/bash
# tests/bench/run.sh — `make bench`: the targets P1–P6 of the README's Performance section, birdfeed
# beside Nchan (nginx's pub/sub module) on the same machine in the same run.
#
# P1  1 000 subscribers through nginx, 100 tweets/s of ~600 B: delivery, p99;
#     then the same load on "birdfeed direct": the responders alone, the
#     subscribers on their --stream-listen port, no web server (when
#     birdfeed-fcgi has --stream-listen; BENCH_DIRECT=0 leaves it out)
# P2  the highest rate (1 000 subscribers) with 100 % delivered and p99 ≤ 100 ms,
#     stepping the rate ×1.5, each system in turn, step by step; then the
#     same climb on "birdfeed direct"
# P3  10 000 idle subscribers (or what the fd limits allow): RSS per subscriber,
#     then one broadcast and its p99
# P4  a preload of 500 tweets through nginx: time to the 500th event
# P5  tests/bench/ingest.sh if present, else birdfeed ingest vs redis-benchmark
#     running the same XADD+PUBLISH script; then the normaliser alone per input
#     format (Twitter v1.1, Bluesky Jetstream, Mastodon), tests/bench/tweet_bench
# P6  build/tests/bench/match_bench if present
# P3+ 100 000 concurrent subscribers, ramp and reconnect storm, both systems
#     and the responders alone on their own port (tests/bench/subscribers.sh;
#     BENCH_SUBS to change the number; SCALE_ONLY to run fewer systems)
# P7  tests/bench/failover.sh: several hosts on loopback — a SIGKILL of the
#     Redis master (Sentinel) to the first tweet delivered after it; ingest
#     --wait-replicas 1 against plain ingest; fan-out from replicas vs master
# P8  P1, P2 and P3 behind lighttpd and Apache (their shipped configs), and a
#     "Which web server" table beside nginx and Nchan
#
# Parts that are not built yet print "not available: <why>", never a number
# that was not measured. Every run is bounded in time (about 10 minutes in
# all); everything started here is stopped on exit. Logs of each measurement
# go to $BIRDFEED_BUILD/bench-logs/, the table also to
# $BIRDFEED_BUILD/bench-table.md.
#
# Environment: BENCH_WORKERS (nginx workers and responder processes, default
# 2), BENCH_QUICK=1 (smaller, shorter runs to try the script),
# BENCH_P2_STEPS (a bound on P2's steps, default 30: P2 climbs until a step
# fails),
# BENCH_ONLY="P1 P3" (run only these scenarios), BENCH_FCGI=unix|tcp (how
# nginx reaches birdfeed-fcgi: a unix socket, the recommended local
# deployment and the default, or loopback TCP as for a remote responder),
# BENCH_PERF=1 (count each server's syscalls and context switches per
# delivered event with `perf stat` during P1/P2 loads; needs perf),
# BENCH_PERF=record (instead, `perf record -g` each server during those
# loads into $LOGS/TAG.NAME.data, for `perf report -i`), BENCH_P3_HEAD (the
# request head P3's subscribers send, default tests/bench/chromium-stream.head),
# BENCH_SITE (the nginx site file for birdfeed, default the shipped
# deploy/nginx/birdfeed.conf: to compare a setting, e.g. fastcgi_buffer_size),
# BENCH_P8_SERVERS (which servers P8 measures, default "lighttpd apache"),
# BENCH_DIRECT=0 (no "birdfeed direct" rows in P1 and P2).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"     # make runs it with sh
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
. tests/bench/lib.sh
set -u

NCHANPUB=$BIRDFEED_BUILD/tests/bench/nchanpub
MATCH_BENCH=$BIRDFEED_BUILD/tests/bench/match_bench
LOGS=$BIRDFEED_BUILD/bench-logs
rm -rf "$LOGS"; mkdir -p "$LOGS"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FDMAX=$(ulimit -n)
WORKERS=${BENCH_WORKERS:-2}
FCGI_VIA=${BENCH_FCGI:-unix}
case $FCGI_VIA in unix|tcp) ;; *) echo "bench: BENCH_FCGI must be unix or tcp, not '$FCGI_VIA'" >&2; exit 2;; esac
ONLY=${BENCH_ONLY:-P1 P2 P3 P3+ P4 P5 P6 P7 P8}
BF_SITE=${BENCH_SITE:-deploy/nginx/birdfeed.conf}
BENCH_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

if [ -n "${BENCH_QUICK:-}" ]; then
    P1_CONNS=200; P1_RATE=100; P1_COUNT=300
    P2_CONNS=200; P2_START=50; P2_SECS=3; P2_STEPS=${BENCH_P2_STEPS:-4}
    P3_WANT=1000; P4_TRIES=5
else
    P1_CONNS=1000; P1_RATE=100; P1_COUNT=1000
    # P2 climbs until a step fails; P2_STEPS only bounds a runaway (10 × 1.5^29
    # is far beyond what 2 cores deliver to 1000 subscribers).
    P2_CONNS=1000; P2_START=10; P2_SECS=4; P2_STEPS=${BENCH_P2_STEPS:-30}
    P3_WANT=10000; P4_TRIES=20
fi
RAMP=1000                      # subscribers connected per second

log() { echo "bench: $*" >&2; }
want() { case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }
# kv KEY LINE: the value of KEY in a key=value line ("" when absent).
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }
# calc EXPR: floating-point arithmetic (awk), printed with %.*g sense.
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, v }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# Commands behind the figures: cmd TEXT records it and sets REF to "[n]"
# (call it directly, not in $(…), or the record is lost with the subshell).
CMDS=()
cmd() { CMDS+=("$1"); REF="[${#CMDS[@]}]"; }

# Table rows: workload|birdfeed|Nchan|ratio|target|met
ROWS=()
row() { ROWS+=("$1|$2|$3|$4|$5|$6"); }
# The "Which web server" table: one short figure per server and column.
declare -A WS_P1=() WS_P2=() WS_P3=() WS_HELD=()   # "=()": set even when P8 does not run (set -u)
short_p1() { echo "$(kv delivered_pct "$LINE") %, p99 $(fmt "$(kv p99_ms "$LINE")" 1) ms, $(fmt "${CPU_US:-0}" 1) µs/event"; }

stop_proc() {
    local p=$1
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null || return 0
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# CPU per delivered event (cpu_ms, tests/bench/lib.sh) is what other work on
# a shared machine disturbs least, so it goes beside every latency figure.
# perf_on TAG NAME PIDS: count the syscalls, context switches and CPU time of
# PIDS (perf stat) until perf_off; the counts go to $LOGS/TAG.NAME.perf.
PERFS=()
perf_on() {
    [ -n "${BENCH_PERF:-}" ] || return 0
    if [ "$BENCH_PERF" = record ]; then
        perf record -q -F 499 -g -p "$3" -o "$LOGS/$1.$2.data" >/dev/null 2>&1 &
    else
        perf stat -x, -e raw_syscalls:sys_enter,context-switches,task-clock -p "$3" -o "$LOGS/$1.$2.perf" 2>/dev/null &
    fi
    PERFS+=($!)
}
perf_off() {
    local p
    for p in "${PERFS[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    PERFS=()
}
# perf_per_event TAG NAME EVENTS: "S syscalls + C switches" per event.
perf_per_event() {
    local f=$LOGS/$1.$2.perf
    [ -s "$f" ] || return 0
    awk -F, -v n="$3" '$3 == "raw_syscalls:sys_enter" { s = $1 } $3 == "context-switches" { c = $1 }
        END { if (s != "" && n > 0) printf "%.2f syscalls + %.2f switches", s / n, c / n }' "$f"
}
server_pids() {   # SYS: the processes that serve the streams
    if [ "$1" = bf ]; then echo "$(family "$BF_FCGI_PID")$(front_pids ,),$BF_REDIS_PID"
    else family "$NCHAN_PID"; fi
}
# front_pids [SEP]: SEP and the web server's processes ("" when the
# responders serve the streams themselves: bf_up direct).
front_pids() { [ -n "$BF_FRONT_PID" ] && echo "${1:-}$(family "$BF_FRONT_PID")"; return 0; }

# Both nginx servers get the same global settings (nginx_globals in
# tests/bench/lib.sh): $WORKERS workers, fd and connection limits,
# connections spread over the workers by the kernel.

# ---------------------------------------------------------------- Nchan stack
NCHAN_PID=""; NCHAN_PORT=""; NCHAN_N=0
nchan_up() {
    NCHAN_N=$((NCHAN_N + 1))
    local d=$T/nchan$NCHAN_N
    mkdir -p "$d"
    for _ in 1 2 3 4 5; do     # a free port can be taken between the check and the bind: retry
        NCHAN_PORT=$(free_port)
        sed -e "s#@DIR@#$d#g; s#@PORT@#$NCHAN_PORT#g; s#@WORKERS@#$WORKERS#g; s#@GENERIC@#$(generic_tuning "$BF_SITE")#" \
            -e "s#^worker_rlimit_nofile .*#worker_rlimit_nofile $FDMAX;#" \
            -e "s#worker_connections .*#worker_connections $((FDMAX - 1000));#" \
            tests/bench/nchan.conf >"$d/nginx.conf"
        nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >>"$d/stderr" 2>&1 &
        NCHAN_PID=$!
        wait_until 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$NCHAN_PORT) || ! kill -0 $NCHAN_PID" 2>/dev/null
        kill -0 "$NCHAN_PID" 2>/dev/null && break
    done
    bf_track "$NCHAN_PID"
    port_open "$NCHAN_PORT" || { log "nginx+Nchan did not start: $(tail -n 3 "$d/error.log" "$d/stderr" 2>/dev/null)"; return 1; }
}
nchan_down() { stop_proc "$NCHAN_PID"; NCHAN_PID=""; }

# ---------------------------------------------------------------- birdfeed stack
BF_WHY=""
bf_check() {
    if [ ! -f "$BF_SITE" ]; then BF_WHY="not available: $BF_SITE is missing"; return 1; fi
    if ! "$BF_FCGI" --help 2>/dev/null | grep -q -- '--listen'; then BF_WHY="not available: birdfeed-fcgi has no --listen yet (responder not in main)"; return 1; fi
    if ! "$BF" gen --help 2>/dev/null | grep -q -- '--stamp'; then BF_WHY="not available: 'birdfeed gen --stamp' is not in main yet"; return 1; fi
    if ! "$BF" ingest --help >/dev/null 2>&1; then BF_WHY="not available: 'birdfeed ingest' is not in main yet"; return 1; fi
    return 0
}
BF_FRONT_PID=""; BF_FRONT_PORT=""; BF_FCGI_PID=""; BF_REDIS_PID=""; BF_N=0; BF_FRONT=nginx
# bf_up [nginx|lighttpd|apache|direct]: Redis, the responders and that web
# server with its shipped config (deploy/<server>/birdfeed.conf); direct: no
# web server, the responders serve the streams on a loopback port of their
# own (--stream-listen), BF_FRONT_PORT.
bf_up() {
    BF_FRONT=${1:-nginx}
    BF_N=$((BF_N + 1))
    local d=$T/bf$BF_N
    mkdir -p "$d"
    unset REDIS_PORT
    start_redis
    BF_REDIS_PID=$REDIS_PID
    local listen upstream direct=()
    if [ "$FCGI_VIA" = unix ]; then     # nginx's workers run as root here (nginx_globals)
        listen=$d/fcgi.sock; upstream=unix:$listen
    else
        listen=127.0.0.1:$(free_port); upstream=$listen
    fi
    if [ "$BF_FRONT" = direct ]; then
        direct_available || { BF_WHY=$DIRECT_WHY; return 1; }
        BF_FRONT_PID=""; BF_FRONT_PORT=$(free_port); direct=(--stream-listen "127.0.0.1:$BF_FRONT_PORT")
    fi
    "$BF_FCGI" --listen "$listen" --workers "$WORKERS" "${direct[@]}" >>"$d/fcgi.log" 2>&1 &
    BF_FCGI_PID=$!
    bf_track "$BF_FCGI_PID"
    if [ "$FCGI_VIA" = unix ]; then wait_until 10 test -S "$listen"; else wait_until 10 port_open "${listen##*:}"; fi ||
        { BF_WHY="not available: birdfeed-fcgi did not start ($(tail -n 1 "$d/fcgi.log"))"; return 1; }
    if [ "$BF_FRONT" = direct ]; then
        wait_until 10 port_open "$BF_FRONT_PORT" ||
            { BF_WHY="not available: birdfeed-fcgi's --stream-listen port does not answer ($(tail -n 1 "$d/fcgi.log"))"; return 1; }
        wait_workers "$BF_FCGI_PID" "$WORKERS"
        stream_answers "on the responders' stream port (see $d)"; return
    fi
    if [ "$BF_FRONT" != nginx ]; then front_up "$d" "$listen"; return; fi
    BF_FRONT_PORT=$(free_port)
    bench_site "$BF_SITE" "$upstream" "127.0.0.1:$BF_FRONT_PORT reuseport" "$d" >"$d/birdfeed.conf"
    nginx_site_conf "$d" "$WORKERS" "$FDMAX" "$d/birdfeed.conf"
    nginx_run "$d" "$BF_FRONT_PORT" 2>/dev/null
    BF_FRONT_PID=$NGINX_RUN_PID
    port_open "$BF_FRONT_PORT" || { BF_WHY="not available: nginx for birdfeed did not start ($(tail -n 1 "$d/error.log"))"; return 1; }
    stream_answers "through nginx (see $d)"
}
# stream_answers WHERE: /stream on BF_FRONT_PORT answers as an event stream,
# as it must before anything is measured; else BF_WHY says what it answered
# (WHERE: through which server) and 1.
stream_answers() {
    local ctype
    ctype=$(curl -s -m 3 -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$BF_FRONT_PORT/stream?preload=0")
    case "$ctype" in
        "200 text/event-stream"*) return 0;;
        *) BF_WHY="not available: /stream answered '$ctype' $1"; return 1;;
    esac
}
# front_up DIR LISTEN: lighttpd or Apache in front of the responders at
# LISTEN (a unix socket path or HOST:PORT), from the shipped config rendered
# by tests/lib.sh (start_lighttpd, start_apache).
front_up() {
    local d=$1 listen=$2 ok=1
    # lib.sh's helpers end a test on failure; here a failure makes the row
    # "not available" instead of ending the bench.
    fail() { BF_WHY="not available: $BF_FRONT: $*"; ok=0; return 1; }
    if [ "$BF_FRONT" = lighttpd ]; then
        if [ "$FCGI_VIA" = unix ]; then
            LIGHTTPD_SED="s#\"host\" *=> birdfeed_host,#\"socket\" => \"$listen\",#; /\"port\" *=> birdfeed_port,/d"
            start_lighttpd 127.0.0.1:1
        else
            LIGHTTPD_SED=""; start_lighttpd "$listen"
        fi
        BF_FRONT_PID=${LIGHTTPD_PID:-}; BF_FRONT_PORT=${LIGHTTPD_PORT:-}
    else
        # Apache's children (www-data) must be able to connect to the socket.
        if [ "$FCGI_VIA" = unix ]; then
            chmod 0777 "$d"; chmod 0666 "$listen"
            APACHE_SED="s#\"fcgi://\${BIRDFEED_FCGI}/stream\"#\"unix:$listen|fcgi://birdfeed-stream/stream\"#; s#\"fcgi://\${BIRDFEED_FCGI}/api/\"#\"unix:$listen|fcgi://birdfeed-api/api/\"#"
            start_apache 127.0.0.1:1
        else
            APACHE_SED=""; start_apache "$listen"
        fi
        BF_FRONT_PID=${APACHE_PID:-}; BF_FRONT_PORT=${APACHE_PORT:-}
    fi
    unset -f fail
    fail() { echo "FAIL bench: $*" >&2; exit 1; }
    [ -n "$BF_FRONT_PID" ] && bf_track "$BF_FRONT_PID"
    [ "$ok" = 1 ] || return 1
    stream_answers "through $BF_FRONT (see $d, $T/$BF_FRONT)"
}
# front_capacity: the most streams the web server's shipped config lets it
# hold at once (nginx: none set here, the fd limits decide).
front_capacity() {
    case $BF_FRONT in
        lighttpd) sed -n 's/^server.max-connections *= *\([0-9]*\).*/\1/p' deploy/lighttpd/birdfeed.conf | tail -n 1;;
        apache) sed -n 's/^ *MaxRequestWorkers *\([0-9]*\).*/\1/p' deploy/apache/birdfeed.conf | tail -n 1;;
        *) echo 1000000;;
    esac
}
bf_down() {
    stop_proc "$BF_FRONT_PID"; stop_proc "$BF_FCGI_PID"; stop_proc "$BF_REDIS_PID"
    BF_FRONT_PID=""; BF_FCGI_PID=""; BF_REDIS_PID=""
}

sub_url() {   # SYS
    if [ "$1" = bf ]; then echo "http://127.0.0.1:$BF_FRONT_PORT/stream?preload=0"
    else echo "http://127.0.0.1:$NCHAN_PORT/sub"; fi
}
# Nchan fans a message out inside the POST that publishes it, so the
# publisher can fall short of the rate offered (with 1000 subscribers and
# 400 msg/s offered, one connection reached 314 msg/s and four 237: README):
# the publisher, not Nchan, would then set Nchan's P2 figure. Several
# connections share the rate, and a step whose publisher fell short is tried
# again with four times as many.
NCHANPUB_CONNS=${NCHANPUB_CONNS:-4}

# publish SYS RATE COUNT: sends COUNT messages at RATE/s; prints the achieved
# rate; 0 when every one was accepted.
publish_cmd() {   # SYS RATE COUNT → the command line, for the record
    if [ "$1" = bf ]; then echo "birdfeed gen --canonical --stamp --rate $2 --count $3 | birdfeed ingest"
    else echo "nchanpub --size $MSG_SIZE --conns $NCHANPUB_CONNS --rate $2 --count $3 http://HOST/pub"; fi
}
publish() {
    local sys=$1 rate=$2 count=$3 t0 t1 rc
    t0=$(date +%s%N)
    if [ "$sys" = bf ]; then
        "$BF" gen --canonical --stamp --rate "$rate" --count "$count" | "$BF" ingest >/dev/null
        rc=$(( PIPESTATUS[0] | PIPESTATUS[1] ))
    else
        "$NCHANPUB" --size "$MSG_SIZE" --conns "$NCHANPUB_CONNS" --rate "$rate" --count "$count" --duration $((count / rate + 30)) "http://127.0.0.1:$NCHAN_PORT/pub" >/dev/null
        rc=$?
    fi
    t1=$(date +%s%N)
    PUB_RATE=$(calc "$count / (($t1 - $t0) / 1e9)")
    return "$rc"
}

# run_load SYS CONNS RATE COUNT TAG: CONNS subscribers, then COUNT messages at
# RATE/s. Sets LINE (sseload's key=value line), PUB_RATE, PUB_OK, LOAD_CMD.
run_load() {
    local sys=$1 conns=$2 rate=$3 count=$4 tag=$5 url ready lp
    url=$(sub_url "$sys")
    ready=$LOGS/ready.$tag
    rm -f "$ready"
    local dur=$(( conns / RAMP + count / rate + 30 ))
    LOAD_CMD="sseload --conns $conns --ramp $RAMP --expect $count --duration $dur --settle 500 --ready-file F '${url/127.0.0.1:*\//HOST/}'; $(publish_cmd "$sys" "$rate" "$count")"
    "$SSELOAD" --conns "$conns" --ramp "$RAMP" --expect "$count" --duration "$dur" --settle 500 \
        --ready-file "$ready" "$url" >"$LOGS/$tag.load" 2>&1 &
    lp=$!
    LINE=""; PUB_OK=0; PUB_RATE=0
    if ! wait_until $(( conns / RAMP + 30 )) test -e "$ready"; then
        log "$tag: subscribers did not settle"
        stop_proc "$lp"
        return 1
    fi
    local pids c0 r0=0 n0=0 s0=0
    pids=$(server_pids "$sys"); c0=$(cpu_ms "$pids")
    if [ "$sys" = bf ]; then
        r0=$(cpu_ms "$(family "$BF_FCGI_PID")"); n0=$(cpu_ms "$(front_pids)"); s0=$(cpu_ms "$BF_REDIS_PID")
    fi
    if [ "$sys" = bf ]; then perf_on "$tag" responder "$(family "$BF_FCGI_PID")"; [ -n "$BF_FRONT_PID" ] && perf_on "$tag" nginx "$(front_pids)"
    else perf_on "$tag" nginx "$pids"; fi
    if publish "$sys" "$rate" "$count" >"$LOGS/$tag.pub" 2>&1; then PUB_OK=1; fi
    wait "$lp"
    perf_off
    LINE=$(grep '^conns=' "$LOGS/$tag.load")
    CPU_US=""; CPU_SPLIT=""; PERF_SPLIT=""
    if [ -n "$LINE" ]; then
        local ev; ev="($(kv events "$LINE") + 0.000001)"
        CPU_US=$(calc "($(cpu_ms "$pids") - $c0) * 1000 / $ev")
        [ "$sys" = bf ] && CPU_SPLIT="responder $(fmt "$(calc "($(cpu_ms "$(family "$BF_FCGI_PID")") - $r0) * 1000 / $ev")" 1)" &&
            { [ -z "$BF_FRONT_PID" ] || CPU_SPLIT="$CPU_SPLIT + $BF_FRONT $(fmt "$(calc "($(cpu_ms "$(front_pids)") - $n0) * 1000 / $ev")" 1)"; } &&
            CPU_SPLIT="$CPU_SPLIT + Redis $(fmt "$(calc "($(cpu_ms "$BF_REDIS_PID") - $s0) * 1000 / $ev")" 1)"
        if [ -n "${BENCH_PERF:-}" ]; then
            local e r n
            e=$(kv events "$LINE"); r=$(perf_per_event "$tag" responder "$e"); n=$(perf_per_event "$tag" nginx "$e")
            if [ "$sys" = bf ]; then PERF_SPLIT="${r:+per event: responder $r, }${n:+$BF_FRONT $n}"
            else PERF_SPLIT="${n:+per event: nginx $n}"; fi
        fi
    fi
    log "$tag: $(head -n 1 "$LOGS/$tag.load") (published at $(fmt "$PUB_RATE") msg/s)"
    [ -n "$LINE" ]
}

# A step passes when everything arrived, p99 is within LIMIT ms and the
# publisher kept at least 90 % of the rate it was asked for.
passes() {   # RATE LIMIT_MS
    [ -n "$LINE" ] && [ "$PUB_OK" = 1 ] && [ "$(kv delivered_pct "$LINE")" = "100.00" ] &&
        le "$(kv p99_ms "$LINE")" "$2" && le "$(calc "0.9 * $1")" "$PUB_RATE"
}
describe() {   # a figure from LINE
    echo "$(kv delivered_pct "$LINE") % delivered, p99 $(fmt "$(kv p99_ms "$LINE")" 1) ms (p50 $(fmt "$(kv p50_ms "$LINE")" 1), max $(fmt "$(kv max_ms "$LINE")" 0)), $(kv avg_data_b "$LINE") B${CPU_US:+, server CPU $(fmt "$CPU_US" 1) µs/event}${CPU_SPLIT:+ ($CPU_SPLIT)}${PERF_SPLIT:+; $PERF_SPLIT}"
}

# ---------------------------------------------------------------- start
BF_OK=0
if bf_check; then
    if bf_up; then BF_OK=1; else bf_down; fi
fi
[ "$BF_OK" = 1 ] || log "birdfeed: $BF_WHY"
NC_OK=0
if nchan_up; then NC_OK=1; fi
NC_WHY="not available: nginx with Nchan did not start (libnginx-mod-nchan installed? see $LOGS)"
# Nchan gets messages of the size birdfeed's generator writes (600 B when
# there is no generator yet), so both carry the same payload.
MSG_SIZE=600
if "$BF" gen --help >/dev/null 2>&1; then
    MSG_SIZE=$("$BF" gen --canonical --stamp --count 2000 | LC_ALL=C awk '{ s += length($0) + 0 } END { printf "%d", s / NR }')
fi
log "message size: $MSG_SIZE B"

# ---------------------------------------------------------------- P1
if want P1; then
    bf_fig=$BF_WHY; nc_fig=$NC_WHY; ratio="–"; met="–"; bf_p99=""; nc_p99=""
    if [ "$BF_OK" = 1 ]; then
        if run_load bf "$P1_CONNS" "$P1_RATE" "$P1_COUNT" p1-birdfeed; then
            cmd "$LOAD_CMD"; bf_fig="$(describe) $REF"; bf_p99=$(kv p99_ms "$LINE"); bf_cpu=$CPU_US
            WS_P1[nginx]=$(short_p1)
            if [ "$(kv delivered_pct "$LINE")" = "100.00" ] && le "$bf_p99" 20; then met=yes; else met=no; fi
        else bf_fig="failed: see $LOGS/p1-birdfeed.*"; met=no; fi
    fi
    if [ "$NC_OK" = 1 ]; then
        if run_load nchan "$P1_CONNS" "$P1_RATE" "$P1_COUNT" p1-nchan; then
            cmd "$LOAD_CMD"; nc_fig="$(describe) $REF"; nc_p99=$(kv p99_ms "$LINE"); nc_cpu=$CPU_US
            WS_P1[Nchan]=$(short_p1)
        else nc_fig="failed: see $LOGS/p1-nchan.*"; fi
    fi
    [ -n "$bf_p99" ] && [ -n "$nc_p99" ] &&
        ratio="$(fmt "$(calc "$nc_p99 / ($bf_p99 > 0 ? $bf_p99 : 0.001)")" 2) (p99), $(fmt "$(calc "$nc_cpu / ($bf_cpu > 0 ? $bf_cpu : 0.001)")" 2) (CPU/event)"
    row "P1: $P1_CONNS subscribers via nginx, $P1_RATE msg/s × $P1_COUNT" "$bf_fig" "$nc_fig" "$ratio" "100 %, p99 ≤ 20 ms" "$met"
    # birdfeed direct: the same load, the subscribers straight on the
    # responders' --stream-listen port, no web server; its server CPU is the
    # responders' and Redis's. Then the nginx stack again for what follows.
    if [ "$BF_OK" = 1 ] && [ "${BENCH_DIRECT:-1}" != 0 ]; then
        d_fig=""; ratio="–"; met="–"
        bf_down
        if ! bf_up direct; then d_fig=$BF_WHY
        elif run_load bf "$P1_CONNS" "$P1_RATE" "$P1_COUNT" p1-direct; then
            cmd "$LOAD_CMD"; d_fig="$(describe) $REF"; d_p99=$(kv p99_ms "$LINE"); d_cpu=$CPU_US
            WS_P1[direct]=$(short_p1)
            met=no
            if [ -n "$nc_p99" ]; then
                ratio="$(fmt "$(calc "$nc_p99 / ($d_p99 > 0 ? $d_p99 : 0.001)")" 2) (p99), $(fmt "$(calc "$nc_cpu / ($d_cpu > 0 ? $d_cpu : 0.001)")" 2) (CPU/event)"
                [ "$(kv delivered_pct "$LINE")" = "100.00" ] && le "$d_p99" 20 && le "$d_p99" "$nc_p99" && le "$d_cpu" "$nc_cpu" && met=yes
            fi
        else d_fig="failed: see $LOGS/p1-direct.*"; met=no; fi
        bf_down
        if ! bf_up; then BF_OK=0; bf_down; log "birdfeed: $BF_WHY"; fi
        row "P1 direct: $P1_CONNS subscribers on the responders' own port (--stream-listen, no web server), $P1_RATE msg/s × $P1_COUNT" \
            "$d_fig" "as in the P1 row" "$ratio" "100 %, p99 ≤ 20 ms; p99 and CPU/event ≤ Nchan's" "$met"
    fi
fi

# p2_step SYS RATE TAG: one P2 step (tried twice when it fails); sets
# P2_PASS=1 when it passed. A failed Nchan step whose publisher fell short
# of the rate is tried once more with four times the publishing connections;
# if the publisher still fell short, P2_PUB_NOTE says so for the table.
p2_step() {
    local sys=$1 rate=$2 tag=$3 conns0=$NCHANPUB_CONNS
    P2_PASS=0; P2_PUB_NOTE=""
    run_load "$sys" "$P2_CONNS" "$rate" $((rate * P2_SECS)) "$tag-$rate"
    passes "$rate" 100 || run_load "$sys" "$P2_CONNS" "$rate" $((rate * P2_SECS)) "$tag-$rate-again"
    if ! passes "$rate" 100 && [ "$sys" = nchan ] && ! le "$(calc "0.9 * $rate")" "$PUB_RATE"; then
        NCHANPUB_CONNS=$((conns0 * 4))
        run_load "$sys" "$P2_CONNS" "$rate" $((rate * P2_SECS)) "$tag-$rate-conns$NCHANPUB_CONNS"
        NCHANPUB_CONNS=$conns0
        le "$(calc "0.9 * $rate")" "$PUB_RATE" ||
            P2_PUB_NOTE=" (the publisher reached only $(fmt "$PUB_RATE" 0) of $rate msg/s, also with $((conns0 * 4)) connections: this step measured the publisher, not Nchan)"
    fi
    passes "$rate" 100 && P2_PASS=1
    return 0
}

# p2_climb TAG: the P2 steps on birdfeed's stack as it is up, from P2_START
# ×1.5 until a step fails (or P2_STEPS); sets best, best_line, best_cpu,
# best_cmd, stop, go for p2_fig.
p2_climb() {
    local rate=$P2_START
    best=0; go=1; stop=""; best_line=""; best_cpu=0; best_cmd=""
    for _ in $(seq 1 "$P2_STEPS"); do
        p2_step bf "$rate" "$1"
        if [ "$P2_PASS" = 1 ]; then best=$rate; best_line=$LINE; best_cpu=$CPU_US; best_cmd=$LOAD_CMD; rate=$((rate * 3 / 2))
        else go=0; stop="$rate msg/s: $(describe), publisher $(fmt "$PUB_RATE" 0)/s"; break; fi
    done
}

p2_fig() {   # BEST BEST_LINE BEST_CMD STOP GO CPU → FIG
    local best=$1 line=$2 c=$3 stop=$4 go=$5 cpu=$6
    if [ "$best" = 0 ]; then FIG="below $P2_START msg/s (failed at $stop)"; return; fi
    cmd "$c"
    FIG="$best msg/s = $(calc "$best * $P2_CONNS") events/s, p99 $(fmt "$(kv p99_ms "$line")" 1) ms, server CPU $(fmt "$cpu" 1) µs/event $REF; $([ "$go" = 1 ] && echo "stopped by the bench's bound of $P2_STEPS steps (BENCH_P2_STEPS), not by a failure" || echo "next step $stop")"
}

# ---------------------------------------------------------------- P2
if want P2; then
    bf_fig=$BF_WHY; nc_fig=$NC_WHY; ratio="–"; met="–"
    bf_rate=$P2_START; nc_rate=$P2_START; bf_best=0; nc_best=0; bf_go=$BF_OK; nc_go=$NC_OK
    bf_best_line=""; nc_best_line=""; bf_stop=""; nc_stop=""
    for step in $(seq 1 "$P2_STEPS"); do
        [ "$bf_go" = 1 ] || [ "$nc_go" = 1 ] || break
        if [ "$bf_go" = 1 ]; then
            p2_step bf "$bf_rate" p2-birdfeed
            if [ "$P2_PASS" = 1 ]; then bf_best=$bf_rate; bf_best_line=$LINE; bf_best_cpu=$CPU_US; bf_best_cmd=$LOAD_CMD; bf_rate=$((bf_rate * 3 / 2))
            else bf_go=0; bf_stop="$bf_rate msg/s: $(describe), publisher $(fmt "$PUB_RATE" 0)/s"; fi
        fi
        if [ "$nc_go" = 1 ]; then
            p2_step nchan "$nc_rate" p2-nchan
            if [ "$P2_PASS" = 1 ]; then nc_best=$nc_rate; nc_best_line=$LINE; nc_best_cpu=$CPU_US; nc_best_cmd=$LOAD_CMD; nc_rate=$((nc_rate * 3 / 2))
            else nc_go=0; nc_pub_note=$P2_PUB_NOTE; nc_stop="$nc_rate msg/s: $(describe), publisher $(fmt "$PUB_RATE" 0)/s$P2_PUB_NOTE"; fi
        fi
    done
    if [ "$BF_OK" = 1 ]; then p2_fig "$bf_best" "$bf_best_line" "${bf_best_cmd:-}" "$bf_stop" "$bf_go" "${bf_best_cpu:-0}"; bf_fig=$FIG; fi
    if [ "$NC_OK" = 1 ]; then p2_fig "$nc_best" "$nc_best_line" "${nc_best_cmd:-}" "$nc_stop" "$nc_go" "${nc_best_cpu:-0}"; nc_fig=$FIG; fi
    [ "$BF_OK" = 1 ] && WS_P2[nginx]="$bf_best msg/s"
    [ "$NC_OK" = 1 ] && WS_P2[Nchan]="$nc_best msg/s$([ -n "${nc_pub_note:-}" ] && echo " (the next step was publisher-bound)")"
    if [ "$BF_OK" = 1 ] && [ "$NC_OK" = 1 ] && [ "$bf_best" = 0 ] && [ "$nc_best" != 0 ]; then
        ratio="< $(fmt "$(calc "$P2_START / $nc_best")" 2) (rate)"; met=no
    elif [ "$BF_OK" = 1 ] && [ "$NC_OK" = 1 ] && [ "$nc_best" != 0 ]; then
        ratio="$(fmt "$(calc "$bf_best / $nc_best")" 2) (rate)"
        if le 3 "$(calc "$bf_best / $nc_best")"; then met=yes; else met=no; fi
    fi
    row "P2: highest rate, $P2_CONNS subscribers, 100 % and p99 ≤ 100 ms (steps ×1.5 from $P2_START msg/s, ${P2_SECS} s each, a failed step tried twice)" \
        "$bf_fig" "$nc_fig" "$ratio" "≥ 3 × Nchan" "$met"
    # birdfeed direct: the same climb with the subscribers on the
    # responders' --stream-listen port; then the nginx stack again.
    if [ "$BF_OK" = 1 ] && [ "${BENCH_DIRECT:-1}" != 0 ]; then
        ratio="–"; met="–"
        bf_down
        if ! bf_up direct; then FIG=$BF_WHY
        else
            p2_climb p2-direct
            p2_fig "$best" "$best_line" "$best_cmd" "$stop" "$go" "$best_cpu"
            WS_P2[direct]="$best msg/s"
            if [ "$NC_OK" = 1 ] && [ "$nc_best" != 0 ]; then
                ratio="$(fmt "$(calc "$best / $nc_best")" 2) (rate)"
                if le 3 "$(calc "$best / $nc_best")"; then met=yes; else met=no; fi
            fi
        fi
        bf_down
        if ! bf_up; then BF_OK=0; bf_down; log "birdfeed: $BF_WHY"; fi
        row "P2 direct: highest rate on the responders' own port (--stream-listen, no web server), $P2_CONNS subscribers, 100 % and p99 ≤ 100 ms" \
            "$FIG" "as in the P2 row" "$ratio" "≥ 3 × Nchan" "$met"
    fi
fi

# ---------------------------------------------------------------- P4 (uses the history P1/P2 left)
if want P4; then
    bf_fig=$BF_WHY; nc_fig=$NC_WHY; met="–"; ratio="–"; bf_c=""; nc_c=""
    p4_cmd() { echo "sseload --conns $P4_TRIES --ramp 10 --expect 500 --duration 30 '$1'"; }
    if [ "$BF_OK" = 1 ]; then
        "$BF" gen --canonical --stamp --rate 5000 --count 600 | "$BF" ingest >/dev/null 2>&1
        "$SSELOAD" --conns "$P4_TRIES" --ramp 10 --expect 500 --duration 30 \
            "http://127.0.0.1:$BF_FRONT_PORT/stream?preload=500" >"$LOGS/p4-birdfeed.load" 2>&1
        LINE=$(grep '^conns=' "$LOGS/p4-birdfeed.load")
        if [ "$(kv delivered_pct "$LINE")" = "100.00" ]; then
            bf_c=$(kv complete_p50_ms "$LINE")
            cmd "$(p4_cmd '/stream?preload=500')"
            bf_fig="500th event after $(fmt "$bf_c" 1) ms (median of $P4_TRIES, max $(fmt "$(kv complete_max_ms "$LINE")" 1)) $REF"
            if le "$bf_c" 30; then met=yes; else met=no; fi
        else bf_fig="failed: $(head -n 1 "$LOGS/p4-birdfeed.load")"; met=no; fi
    fi
    if [ "$NC_OK" = 1 ]; then
        "$NCHANPUB" --size "$MSG_SIZE" --rate 5000 --count 500 "http://127.0.0.1:$NCHAN_PORT/pub-preload" >"$LOGS/p4-nchan.pub" 2>&1
        "$SSELOAD" --conns "$P4_TRIES" --ramp 10 --expect 500 --duration 30 \
            "http://127.0.0.1:$NCHAN_PORT/sub-preload" >"$LOGS/p4-nchan.load" 2>&1
        LINE=$(grep '^conns=' "$LOGS/p4-nchan.load")
        if [ "$(kv delivered_pct "$LINE")" = "100.00" ]; then
            nc_c=$(kv complete_p50_ms "$LINE")
            cmd "nchanpub --size $MSG_SIZE --rate 5000 --count 500 …/pub-preload; $(p4_cmd '/sub-preload')"
            nc_fig="500th event after $(fmt "$nc_c" 1) ms (median of $P4_TRIES, max $(fmt "$(kv complete_max_ms "$LINE")" 1)) $REF"
        else nc_fig="failed: $(head -n 1 "$LOGS/p4-nchan.load")"; fi
    fi
    [ -n "$bf_c" ] && [ -n "$nc_c" ] && ratio="$(fmt "$(calc "$nc_c / ($bf_c > 0 ? $bf_c : 0.001)")" 2) (time)"
    row "P4: preload of 500 through nginx" "$bf_fig" "$nc_fig" "$ratio" "500th event ≤ 30 ms" "$met"
fi

# ---------------------------------------------------------------- P3 helpers
# Each subscriber sends what Chromium sends for an EventSource (token
# cookie, Last-Event-ID: 920 bytes): nginx keeps the request head's
# buffers for the stream's life, so a bare request would flatter both.
P3_HEAD=${BENCH_P3_HEAD:-tests/bench/chromium-stream.head}
# group_delta LINE PIDS: bytes per connected subscriber that PIDS grew by.
group_delta() {
    local line=$1 pids=",$2," sum=0 entry pid before idle
    for entry in $(kv rss_pids "$line" | tr ',' ' '); do
        IFS=: read -r pid before idle <<<"$entry"
        case "$pids" in *",$pid,"*) [ "$idle" -ge 0 ] && sum=$((sum + idle - before));; esac
    done
    calc "$sum * 1024 / $(kv connected "$line")"
}
p3_run() {   # SYS URL PIDS TAG [TREE_ROOT] → LINE (and TREE_DELTA_KB with TREE_ROOT)
    local ready=$LOGS/ready.$4 lp tree0=0
    CPU_US=""; CPU_SPLIT=""; PERF_SPLIT=""; TREE_DELTA_KB=""
    [ -n "${5:-}" ] && tree0=$(tree_rss "$5")
    rm -f "$ready"
    "$SSELOAD" --conns "$p3_n" --ramp 2000 --expect 1 --duration $((p3_n / 2000 + 90)) --settle 1000 \
        -H @"$P3_HEAD" --pid-rss "$3" --ready-file "$ready" "$2" >"$LOGS/$4.load" 2>&1 &
    lp=$!
    LINE=""
    if ! wait_until $((p3_n / 2000 + 60)) test -e "$ready"; then log "$4: no plateau"; stop_proc "$lp"; return 1; fi
    [ -n "${5:-}" ] && TREE_DELTA_KB=$(( $(tree_rss "$5") - tree0 ))
    publish "$1" 1 1 >"$LOGS/$4.pub" 2>&1
    wait "$lp"
    LINE=$(grep '^conns=' "$LOGS/$4.load")
    log "$4: $(head -n 1 "$LOGS/$4.load")"
    [ -n "$LINE" ] && [ "$(kv plateau "$LINE")" = 1 ]
}

# ---------------------------------------------------------------- P3 (fresh stacks)
if want P3; then
    ratio="–"; bf_per=""; nc_per=""
    # Per process: sseload 1 fd a subscriber; nginx 2 (birdfeed: client + FastCGI)
    # or 1 (Nchan), spread over $WORKERS workers; a responder process 1, over $WORKERS.
    p3_n=$P3_WANT
    lim=$((FDMAX - 100)); [ "$lim" -lt "$p3_n" ] && p3_n=$lim
    lim=$(( (FDMAX - 1000) * WORKERS / 2 * 9 / 10 )); [ "$lim" -lt "$p3_n" ] && p3_n=$lim
    P3_NOTE="P3 used $p3_n subscribers, the most the file descriptor limits allow up to the $P3_WANT wanted (limit $FDMAX per process: sseload 1 fd per stream, nginx 2 per birdfeed stream and 1 per Nchan stream over $WORKERS workers, responder 1 per stream over $WORKERS processes)"
    p3_cmd="sseload --conns $p3_n --ramp 2000 --expect 1 --settle 1000 -H @$P3_HEAD --pid-rss PIDS --ready-file F URL; one message published at the plateau"
    bf_mem=$BF_WHY; bf_bc=$BF_WHY; nc_mem=$NC_WHY; nc_bc=$NC_WHY; met_mem="–"; met_bc="–"; ratio_bc="–"
    if [ "$BF_OK" = 1 ]; then
        bf_down
        if bf_up; then
            resp=$(family "$BF_FCGI_PID"); ngx=$(family "$BF_FRONT_PID")
            if p3_run bf "http://127.0.0.1:$BF_FRONT_PORT/stream?preload=0" "$resp,$ngx" p3-birdfeed; then
                bf_per=$(group_delta "$LINE" "$resp"); bf_ngx=$(group_delta "$LINE" "$ngx")
                bf_tot=$(calc "$bf_per + $bf_ngx")
                cmd "$p3_cmd"
                bf_mem="responder $(fmt "$bf_per" 0) B + nginx $(fmt "$bf_ngx" 0) B = $(fmt "$bf_tot" 0) B per subscriber, $(kv connected "$LINE") connected $REF"
                WS_P3[nginx]="$(fmt "$bf_tot" 0) B"; WS_HELD[nginx]="$(kv connected "$LINE") of $p3_n tried"
                bf_bc="$(describe) $REF"; bf_bc_p99=$(kv p99_ms "$LINE")
                if [ "$(kv delivered_pct "$LINE")" = "100.00" ] && le "$bf_bc_p99" 250; then met_bc=yes; else met_bc=no; fi
            else bf_mem="failed: $(head -n 1 "$LOGS/p3-birdfeed.load" 2>/dev/null)"; bf_bc=$bf_mem; met_mem=no; met_bc=no; fi
        else bf_mem=$BF_WHY; bf_bc=$BF_WHY; met_mem=no; met_bc=no; fi
        bf_down
    fi
    if [ "$NC_OK" = 1 ]; then
        nchan_down
        if nchan_up; then
            ngx=$(family "$NCHAN_PID")
            if p3_run nchan "http://127.0.0.1:$NCHAN_PORT/sub" "$ngx" p3-nchan; then
                nc_per=$(group_delta "$LINE" "$ngx")
                cmd "$p3_cmd"
                nc_mem="nginx+Nchan $(fmt "$nc_per" 0) B per subscriber, $(kv connected "$LINE") connected $REF"
                WS_P3[Nchan]="$(fmt "$nc_per" 0) B"; WS_HELD[Nchan]="$(kv connected "$LINE") of $p3_n tried"
                nc_bc="$(describe) $REF"; nc_bc_p99=$(kv p99_ms "$LINE")
            else nc_mem="failed: $(head -n 1 "$LOGS/p3-nchan.load" 2>/dev/null)"; nc_bc=$nc_mem; fi
        fi
        nchan_down
    fi
    if [ -n "$bf_per" ] && [ -n "$nc_per" ]; then
        ratio="$(fmt "$(calc "$nc_per / ($bf_tot > 0 ? $bf_tot : 1)")" 2) (memory, responder+nginx)"
        if le "$bf_tot" "$nc_per"; then met_mem=yes; else met_mem=no; fi
    fi
    [ -n "${bf_bc_p99:-}" ] && [ -n "${nc_bc_p99:-}" ] && ratio_bc="$(fmt "$(calc "$nc_bc_p99 / ($bf_bc_p99 > 0 ? $bf_bc_p99 : 0.001)")" 2) (p99)"
    row "P3a: memory per idle subscriber, $p3_n subscribers (*)" "$bf_mem" "$nc_mem" "$ratio" "nginx + responders ≤ nginx + Nchan (same generic nginx tuning)" "$met_mem"
    row "P3b: one broadcast to the $p3_n idle subscribers" "$bf_bc" "$nc_bc" "$ratio_bc" "p99 ≤ 250 ms" "$met_bc"
fi
bf_down; nchan_down

# ---------------------------------------------------------------- P3+ (100 000 subscribers)
# tests/bench/subscribers.sh: its own stacks (12 nginx workers, 8 responders,
# Nchan with 8 workers), 8 client processes from 8 source addresses, a ramp
# and a reconnect storm, memory per subscriber; it raises somaxconn and
# tcp_max_syn_backlog for the run and restores them (not with BENCH_QUICK).
if want P3+; then
    sn=$([ -n "${BENCH_QUICK:-}" ] && echo 4000 || echo "${BENCH_SUBS:-100000}")
    SCALE_SUBS=$sn SCALE_SYSCTL=$([ -n "${BENCH_QUICK:-}" ] && echo 0 || echo 1) SCALE_LOGS=$LOGS/subscribers \
        bash tests/bench/subscribers.sh >"$LOGS/p3plus.out" 2>&1
    cmd "SCALE_SUBS=$sn${SCALE_ONLY:+ SCALE_ONLY=\"$SCALE_ONLY\"}${SCALE_BATCH_US:+ SCALE_BATCH_US=$SCALE_BATCH_US} bash tests/bench/subscribers.sh"
    p3_ran() {   # SYS: subscribers.sh ran it (SCALE_ONLY, default "birdfeed nchan direct")
        case " ${SCALE_ONLY:-birdfeed nchan direct} " in *" $1 "*) return 0;; esac; return 1
    }
    p3p() {   # SYS PHASE → a figure
        local l
        p3_ran "$1" || { echo "not run (SCALE_ONLY)"; return; }
        l=$(grep "^P3+ $1 phase=$2 " "$LOGS/p3plus.out") || { echo "failed: $(tail -n 2 "$LOGS/p3plus.out" | tr '\n' ' ')"; return; }
        echo "all $(kv subscribers "$l") open at once: $([ "$(kv plateaus "$l")" = "$(kv clients "$l")/$(kv clients "$l")" ] && echo yes || echo "no ($(kv plateaus "$l") client processes got all theirs)") after $(kv all_open_after_s "$l") s, $(kv retries "$l") retries; broadcast $(kv delivered_pct "$l") % delivered, p99 $(fmt "$(kv p99_ms "$l")" 0) ms (p50 $(fmt "$(kv p50_ms "$l")" 0), max $(fmt "$(kv max_ms "$l")" 0)), its CPU $(kv bcast_cpu_ms "$l") ms ($(tr ' ' '\n' <<<"$l" | sed -n 's/^bcast_cpu_\(.*\)_ms=\(.*\)/\1 \2/p' | paste -sd, - | sed 's/,/, /g')): no sooner than $(kv bcast_floor_ms "$l") ms on $(nproc) cores$([ "$2" = ramp ] && echo "; memory per subscriber: $(tr ' ' '\n' <<<"$l" | sed -n 's/^mem_\(.*\)_b=\(.*\)/\1 \2 B/p' | paste -sd, - | sed 's/,/, /g'), kernel Slab $(kv kernel_slab_b "$l") B") $REF"
    }
    p3p_met() {   # SYS PHASE → yes/no
        local l
        l=$(grep "^P3+ $1 phase=$2 " "$LOGS/p3plus.out") || { echo no; return; }
        [ "$(kv plateaus "$l")" = "$(kv clients "$l")/$(kv clients "$l")" ] && [ "$(kv delivered_pct "$l")" = "100.00" ] && le "$(kv p99_ms "$l")" 1000 && echo yes || echo no
    }
    for ph in ramp storm; do
        if p3_ran birdfeed || p3_ran nchan; then
            row "P3+: $sn subscribers, $([ "$ph" = ramp ] && echo "connected with a ramp" || echo "a reconnect storm (all at once)"), one broadcast" \
                "$(p3p birdfeed "$ph")" "$(p3p nchan "$ph")" "–" "all connected, a broadcast reaches all, p99 ≤ 1 s" \
                "$(p3_ran birdfeed && p3p_met birdfeed "$ph" || echo –)"
        fi
        # The responders alone (direct streams).
        p3_ran direct &&
            row "P3+ direct: $sn subscribers on the responders' own port (no web server), $([ "$ph" = ramp ] && echo "connected with a ramp" || echo "a reconnect storm (all at once)"), one broadcast" \
                "$(p3p direct "$ph")" "as in the P3+ row" "–" "all connected, a broadcast reaches all, p99 ≤ 1 s" "$(p3p_met direct "$ph")"
    done
fi

# ---------------------------------------------------------------- P8 (lighttpd, Apache)
# The birdfeed stack behind each of the other two shipped web server configs:
# P1, the P2 climb and P3 (memory per idle stream, a broadcast), the most
# streams the shipped config holds. nginx's figures come from P1–P3 above.
if want P8; then
    for front in ${BENCH_P8_SERVERS:-lighttpd apache}; do
        bf_down
        label=$([ "$front" = apache ] && echo Apache || echo lighttpd)
        if ! bf_check || ! bf_up "$front"; then
            row "P8: behind $label" "$BF_WHY" "–" "–" "P1–P3 measured" "–"; bf_down; continue
        fi
        # P1
        if run_load bf "$P1_CONNS" "$P1_RATE" "$P1_COUNT" "p8-$front-p1"; then
            cmd "$LOAD_CMD"; fig="$(describe) $REF"; WS_P1[$label]=$(short_p1)
            if [ "$(kv delivered_pct "$LINE")" = "100.00" ] && le "$(kv p99_ms "$LINE")" 20; then met=yes; else met=no; fi
        else fig="failed: see $LOGS/p8-$front-p1.*"; met=no; fi
        row "P8: behind $label, P1: $P1_CONNS subscribers, $P1_RATE msg/s × $P1_COUNT" "$fig" "–" "–" "100 %, p99 ≤ 20 ms" "$met"
        # P2
        p2_climb "p8-$front-p2"
        p2_fig "$best" "$best_line" "$best_cmd" "$stop" "$go" "$best_cpu"
        WS_P2[$label]="$best msg/s"
        row "P8: behind $label, P2: highest rate, $P2_CONNS subscribers, 100 % and p99 ≤ 100 ms" "$FIG" "–" "–" "measured" "–"
        # P3 on a fresh stack, as many streams as the shipped config holds.
        bf_down
        if bf_up "$front"; then
            cap=$(front_capacity)
            p3_n=$P3_WANT
            [ "${cap:-0}" -gt 0 ] && [ "$cap" -lt "$p3_n" ] && p3_n=$cap
            lim=$((FDMAX - 100)); [ "$lim" -lt "$p3_n" ] && p3_n=$lim
            [ "$front" = lighttpd ] && lim=$(( (FDMAX - 200) / 2 )) && [ "$lim" -lt "$p3_n" ] && p3_n=$lim
            resp=$(family "$BF_FCGI_PID"); web=$(family "$BF_FRONT_PID")
            if p3_run bf "http://127.0.0.1:$BF_FRONT_PORT/stream?preload=0" "$resp,$web" "p8-$front-p3" "$BF_FRONT_PID"; then
                per_r=$(group_delta "$LINE" "$resp"); per_w=$(calc "$TREE_DELTA_KB * 1024 / $(kv connected "$LINE")")
                cmd "sseload --conns $p3_n --ramp 2000 --expect 1 --settle 1000 -H @$P3_HEAD --pid-rss PIDS --ready-file F URL; one message published at the plateau"
                fig="responder $(fmt "$per_r" 0) B + $label $(fmt "$per_w" 0) B = $(fmt "$(calc "$per_r + $per_w")" 0) B per subscriber, $(kv connected "$LINE") of $p3_n connected (the shipped config holds $cap); broadcast: $(describe) $REF"
                WS_P3[$label]="$(fmt "$(calc "$per_r + $per_w")" 0) B"; WS_HELD[$label]="$(kv connected "$LINE") of $p3_n tried (config: $cap)"
            else fig="failed: $(head -n 1 "$LOGS/p8-$front-p3.load" 2>/dev/null)"; fi
        else fig=$BF_WHY; fi
        row "P8: behind $label, P3: idle subscribers, memory and one broadcast" "$fig" "–" "–" "measured" "–"
        bf_down
    done
fi

# ---------------------------------------------------------------- P5
if want P5; then
    if [ -f tests/bench/ingest.sh ]; then
        bash tests/bench/ingest.sh >"$LOGS/p5.out" 2>&1; rc=$?
        cmd "bash tests/bench/ingest.sh"
        fig="$(tail -n 3 "$LOGS/p5.out" | paste -sd';' - | tr '|' '/') (exit $rc) $REF"
        row "P5: ingest of canonical tweets from a file" "$fig" "n/a (Redis itself is the peer)" "in the figure" "≥ 80 % of redis-benchmark; ≥ 30 000/s for v1.1" \
            "$(if grep -q '^P5 met' "$LOGS/p5.out"; then echo yes; elif grep -q '^P5 NOT met' "$LOGS/p5.out"; then echo no; else echo "see figure"; fi)"
    elif "$BF" ingest --help >/dev/null 2>&1 && "$BF" gen --help >/dev/null 2>&1; then
        n=$([ -n "${BENCH_QUICK:-}" ] && echo 50000 || echo 200000)
        unset REDIS_PORT; start_redis; p5_redis=$REDIS_PID
        "$BF" gen --canonical --count "$n" >"$T/p5.ndjson" 2>"$LOGS/p5-gen.err"
        lines=$(wc -l <"$T/p5.ndjson")
        t0=$(date +%s%N); "$BF" ingest "$T/p5.ndjson" >"$LOGS/p5-ingest.out" 2>&1; rc=$?; t1=$(date +%s%N)
        ing=$(calc "$lines / (($t1 - $t0) / 1e9)")
        rcli DEL "${BIRDFEED_PREFIX}tweets" >/dev/null
        script="local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2]) redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]) return id"
        sha=$(rcli SCRIPT LOAD "$script")
        sample=$(head -n 1 "$T/p5.ndjson")
        redis-benchmark -p "$REDIS_PORT" -n "$n" -c 1 -P 512 -q EVALSHA "$sha" 2 "${BIRDFEED_PREFIX}tweets" "${BIRDFEED_PREFIX}live" 100000 "$sample" >"$LOGS/p5-redis-benchmark.out" 2>&1
        rb=$(tr '\r' '\n' <"$LOGS/p5-redis-benchmark.out" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1)
        stop_proc "$p5_redis"
        if [ "$rc" = 0 ] && [ -n "$rb" ]; then
            r=$(calc "$ing / $rb")
            cmd "birdfeed gen --canonical --count $n > F; time birdfeed ingest F"; r1=$REF
            cmd "redis-benchmark -n $n -c 1 -P 512 EVALSHA <XADD+PUBLISH script> 2 tweets live 100000 '<tweet>'"; r2=$REF
            row "P5: ingest of $lines canonical tweets from a file" \
                "$(fmt "$ing" 0) tweets/s $r1" \
                "redis-benchmark, same script: $(fmt "$rb" 0)/s $r2" \
                "$(fmt "$r" 2) (of Redis)" "≥ 0.80 × redis-benchmark" "$(le 0.8 "$r" && echo yes || echo no)"
        else
            row "P5: ingest of canonical tweets from a file" "failed: ingest exit $rc, redis-benchmark '${rb}' (see $LOGS)" "–" "–" "≥ 0.80 × redis-benchmark" "no"
        fi
        nv=$((n / 4))
        "$BF" gen --count "$nv" >"$T/p5-v11.ndjson" 2>>"$LOGS/p5-gen.err"
        unset REDIS_PORT; start_redis; p5_redis=$REDIS_PID
        t0=$(date +%s%N); "$BF" ingest "$T/p5-v11.ndjson" >"$LOGS/p5-ingest-v11.out" 2>&1; rc=$?; t1=$(date +%s%N)
        stop_proc "$p5_redis"
        if [ "$rc" = 0 ]; then
            v11=$(calc "$nv / (($t1 - $t0) / 1e9)")
            cmd "birdfeed gen --count $nv > F; time birdfeed ingest F"
            row "P5: ingest of $nv full v1.1 objects ($(calc "$(wc -c <"$T/p5-v11.ndjson") / $nv" | cut -d. -f1) B) from a file" \
                "$(fmt "$v11" 0) tweets/s $REF" "–" "–" "≥ 30 000/s" "$(le 30000 "$v11" && echo yes || echo no)"
        else
            row "P5: ingest of full v1.1 objects" "failed: ingest exit $rc (see $LOGS/p5-ingest-v11.out)" "–" "–" "≥ 30 000/s" "no"
        fi
    else
        row "P5: ingest from a file" "not available: 'birdfeed ingest' / 'birdfeed gen' are not in main yet" "–" "–" "≥ 80 % of redis-benchmark" "–"
    fi
fi

# ------------------------------------------- P5, the normaliser alone, per input format
# One core, no Redis: how many lines of each format tweet_norm_line turns into
# canonical tweets per second (built-in synthetic inputs of each format's shape).
if want P5; then
    TWEET_BENCH=$BIRDFEED_BUILD/tests/bench/tweet_bench
    if [ -x "$TWEET_BENCH" ]; then
        "$TWEET_BENCH" >"$LOGS/p5-normalise.out" 2>&1; rc=$?
        cmd "build/tests/bench/tweet_bench"
        for fmt in "v1.1:Twitter v1.1 objects" "jetstream:Bluesky Jetstream post events" "mastodon:Mastodon statuses (streaming update events)"; do
            key=${fmt%%:*} label=${fmt#*:}
            line=$(grep "^$key (built-in)" "$LOGS/p5-normalise.out")
            rate=$(sed -n 's/^[^ ]* (built-in) *\([0-9]*\) tweets\/s.*avg \([0-9]*\) B.*/\1/p' <<<"$line")
            size=$(sed -n 's/.*avg \([0-9]*\) B.*/\1/p' <<<"$line")
            if [ "$rc" = 0 ] && [ -n "$rate" ]; then
                row "P5: normalise $label (${size} B), one core" "$rate lines/s $REF" "–" "–" "(figure only)" "–"
            else
                row "P5: normalise $label" "failed: tweet_bench exit $rc (see $LOGS/p5-normalise.out)" "–" "–" "(figure only)" "–"
            fi
        done
    else
        row "P5: normalise per input format" "not available: build/tests/bench/tweet_bench is not built" "–" "–" "(figure only)" "–"
    fi
fi

# ---------------------------------------------------------------- P6
if want P6; then
    if [ -x "$MATCH_BENCH" ]; then
        "$MATCH_BENCH" >"$LOGS/p6.out" 2>&1; rc=$?
        us=$(sed -n 's/.* \([0-9.]*\) us\/tweet.*/\1/p' "$LOGS/p6.out" | tail -n 1)
        if [ "$rc" = 0 ] && [ -n "$us" ]; then
            cmd "build/tests/bench/match_bench"
            row "P6: matching, 10 000 filters" "$us µs per tweet per process ($(head -n 1 "$LOGS/p6.out" | sed 's/^match_bench: //')) $REF" "–" "–" "≤ 20 µs/tweet" "$(le "$us" 20 && echo yes || echo no)"
        else
            row "P6: matching, 10 000 filters" "failed: match_bench exit $rc: $(tail -n 1 "$LOGS/p6.out")" "–" "–" "≤ 20 µs/tweet" "no"
        fi
    else
        row "P6: matching, 10 000 filters" "not available: build/tests/bench/match_bench (filters) is not in main yet" "–" "–" "≤ 20 µs/tweet" "–"
    fi
fi

# ---------------------------------------------------------------- P7
# Its own Redis master, replicas and Sentinels on 127.0.0.2-4 (tests/multihost.sh).
if want P7; then
    bash tests/bench/failover.sh >"$LOGS/p7.out" 2>&1; rc=$?
    cmd "bash tests/bench/failover.sh"
    if [ "$rc" = 0 ] && grep -q '^P7 ' "$LOGS/p7.out"; then
        while IFS= read -r line; do
            case $line in
                "P7 master"*) row "P7: Redis master SIGKILLed under load (Sentinel)" "${line#P7 } $REF" "–" "–" "next tweet ≤ 3 s, nothing lost or repeated" \
                                  "$(case $line in *"target ≤ 3 s: met"*) echo yes;; *) echo no;; esac)" ;;
                "P7 detail"*) ;;
                P7w*) row "P7: ingest --wait-replicas 1 vs plain ingest" "${line#P7w } $REF" "–" "–" "(measured)" "–" ;;
                P7f*) row "P7: fan-out from replicas vs the master" "${line#P7f } $REF" "–" "–" "(measured)" "–" ;;
            esac
        done < <(grep '^P7' "$LOGS/p7.out")
    else
        row "P7: Redis master SIGKILLed under load (Sentinel)" "failed: failover.sh exit $rc: $(tail -n 1 "$LOGS/p7.out")" "–" "–" "next tweet ≤ 3 s" "no"
    fi
fi

# ---------------------------------------------------------------- report
{
    echo "### birdfeed vs Nchan — $(date -u '+%Y-%m-%d %H:%M UTC'), $(( $(date +%s) - BENCH_START )) s"
    echo
    echo "Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB," \
         "Linux $(uname -r), $(nginx -v 2>&1 | sed 's/.*: //'), Nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null)," \
         "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $(lighttpd -v 2>&1 | head -n 1 | cut -d' ' -f1), $(apache2 -v 2>/dev/null | sed -n 's/^Server version: //p'); $WORKERS nginx workers for both, $WORKERS responder processes, the web server → birdfeed-fcgi over $([ "$FCGI_VIA" = unix ] && echo "a unix socket" || echo "loopback TCP") (BENCH_FCGI); lighttpd and Apache with their shipped configs (P8)."
    echo "Load average (1 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1 /proc/loadavg) — the machine is shared, so figures move with it."
    echo "Ratio: Nchan ÷ birdfeed for costs (latency, time, memory, CPU), birdfeed ÷ Nchan for rates; above 1 means birdfeed is ahead."
    echo "Server CPU/event: user+system CPU of the serving processes (birdfeed: responders + nginx + Redis; birdfeed direct: responders + Redis; Nchan: nginx) during the run ÷ events delivered."
    echo
    echo "| workload | birdfeed | Nchan | ratio | target | met? |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}" | sort -s -t: -k1,1 | while IFS= read -r r; do echo "| ${r//|/ | } |"; done
    echo
    [ -n "${P3_NOTE:-}" ] && echo "(*) $P3_NOTE." && echo
    if [ "${#WS_P1[@]}${#WS_P2[@]}${#WS_P3[@]}" != 000 ]; then
        echo "#### Which web server (the shipped configs, this run)"
        echo
        echo "| | P1: delivered, p99, server CPU per event | P2: highest rate | P3: memory per idle stream (web server + responders) | streams held in P3 |"
        echo "|---|---|---|---|---|"
        for w in nginx lighttpd Apache Nchan; do
            echo "| $w | ${WS_P1[$w]:-–} | ${WS_P2[$w]:-–} | ${WS_P3[$w]:-–} | ${WS_HELD[$w]:-–} |"
        done
        [ -n "${WS_P1[direct]:-}${WS_P2[direct]:-}" ] &&
            echo "| none: direct streams (--stream-listen) | ${WS_P1[direct]:-–} | ${WS_P2[direct]:-–} | – | – |"
        echo
    fi
    echo "Commands (sseload and nchanpub are build/tests/bench/*; URLs on loopback ports chosen per run):"
    for i in "${!CMDS[@]}"; do echo "- [$((i + 1))] \`${CMDS[$i]}\`"; done
} | tee "$BIRDFEED_BUILD/bench-table.md"

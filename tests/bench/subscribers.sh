#!/bin/bash
# tests/bench/subscribers.sh — P3+: 100 000 concurrent subscribers on this
# machine, birdfeed (nginx + responders) and nginx + Nchan in the same run,
# and "direct": the responders alone, serving the streams on their own port
# (birdfeed-fcgi --stream-listen), no web server in between.
# A benchmark: never part of make test or CI. make bench runs it as "P3+"
# (BENCH_QUICK=1: 4 000 subscribers); alone:
#
#   bash tests/bench/subscribers.sh            # 100 000: birdfeed, Nchan, direct
#   SCALE_ONLY=direct bash tests/bench/subscribers.sh   # direct streams only
#   SCALE_SUBS=4000 SCALE_SYSCTL=0 bash tests/bench/subscribers.sh   # a small try
#
# For each system, on a stack started for it:
#   1. ramp   SCALE_CLIENTS sseload processes open SCALE_SUBS streams in all
#             (SCALE_RAMP a second each), from SCALE_SOURCES loopback source
#             addresses (each gives ~28 000 ephemeral ports toward the one
#             server port), every one sending the recorded Chromium request;
#             a stream refused or ended early is opened again (sseload
#             --retry), as EventSource does. Once every process has all its
#             streams open and idle, the RSS of every serving process is
#             taken, then one tweet is broadcast.
#   2. storm  the same number of subscribers again, all at once (ramp 0),
#             against the same stack: what a restart's reconnect storm looks
#             like. Everyone must get in (retrying), then one broadcast.
# Reported: connected (all at once, at the plateau), retries, broadcast
# delivered and its latency over all subscribers (p50, p99, max: the client
# processes' histograms merged by sseload --hist-merge), the CPU time the
# broadcast took in each group of processes, servers and clients
# (SCALE_BCAST_S seconds after it, less as many idle seconds before it) and
# that total divided by the cores — a floor under the last delivery, since
# the work cannot finish sooner — memory per subscriber of each serving
# process group and of the kernel (Slab, system-wide), and the open
# descriptors of the least and the most busy responder at the plateau
# (responder_fds: how evenly the streams were spread over the processes).
#
# File descriptors (the hard limit here is 20 000 per process): nginx needs
# two per birdfeed stream, so SCALE_NGINX_WORKERS ≥ 11 for 100 000; the
# responders one each (SCALE_RESPONDERS ≥ 6); Nchan's nginx one
# (SCALE_NCHAN_WORKERS ≥ 6); the responders of "direct", which share one
# listen socket (--workers N), one each too (SCALE_DIRECT_RESPONDERS ≥ 6,
# default SCALE_RESPONDERS); each sseload one (SCALE_CLIENTS ≥ 6). The
# script checks these, for the systems it runs, before it starts.
# SCALE_SYSCTL=1 (the default) raises net.core.somaxconn and
# net.ipv4.tcp_max_syn_backlog to 65535 for the run and restores them on
# exit; SCALE_SYSCTL=0 leaves the kernel alone. SCALE_ONLY (default
# "birdfeed nchan direct") names the systems to run, in that order.
#
# The clients share the 2 cores with the servers, and on one machine a
# client's wake-up is paid by the server: the loopback hands each write to
# the receiving socket inside the sender's system call, and waking the
# client waiting on it is part of that call (perf, 100 000 direct streams:
# 16 % of the responders' broadcast CPU). A browser on another machine
# costs the server no such wake-up. So each sseload pauses SCALE_BATCH_US
# (default 1000) µs after a wait that found events, and the events that
# arrive meanwhile wake it once; each latency measured grows by up to that
# pause. SCALE_BATCH_US=0 gives the old clients, which woke once an event.
#
# Output: a human summary and one "P3+ SYSTEM key=value…" line per system
# and phase (run.sh reads them).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
. tests/bench/lib.sh
set -u

N=${SCALE_SUBS:-100000}
CLIENTS=${SCALE_CLIENTS:-8}
SOURCES=${SCALE_SOURCES:-8}
NGINX_WORKERS=${SCALE_NGINX_WORKERS:-12}
RESPONDERS=${SCALE_RESPONDERS:-8}
DIRECT_RESPONDERS=${SCALE_DIRECT_RESPONDERS:-$RESPONDERS}
NCHAN_WORKERS=${SCALE_NCHAN_WORKERS:-8}
RAMP=${SCALE_RAMP:-1500}
ONLY=${SCALE_ONLY:-birdfeed nchan direct}
HEAD_FILE=${SCALE_HEAD:-tests/bench/chromium-stream.head}
LOGS=${SCALE_LOGS:-$BIRDFEED_BUILD/bench-logs/subscribers}
BCAST_S=${SCALE_BCAST_S:-5}    # seconds of CPU accounting before and after the broadcast
BATCH_US=${SCALE_BATCH_US:-1000}   # the clients' pause after a wake-up that found events (sseload --batch-us)
mkdir -p "$LOGS"

say() { echo "subscribers: $*" >&2; }
die() { say "$*"; exit 2; }
for p in "$SSELOAD" "$BF" "$BF_FCGI"; do [ -x "$p" ] || die "$p missing (make bench builds it)"; done

ulimit -n "$(ulimit -Hn)" 2>/dev/null
FDMAX=$(ulimit -n)
per() { echo $(( ($1 + $2 - 1) / $2 )); }   # ceil(A / B)
runs() { case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }
for sys in $ONLY; do
    case $sys in birdfeed|nchan) ;; direct) direct_available || die "direct: $DIRECT_WHY";; *) die "SCALE_ONLY: unknown system $sys";; esac
done
if runs birdfeed; then
    [ $(( 2 * $(per "$N" "$NGINX_WORKERS") + 1000 )) -le "$FDMAX" ] || die "nginx: 2 fds a stream over $NGINX_WORKERS workers exceeds the limit $FDMAX (raise SCALE_NGINX_WORKERS)"
    [ $(( $(per "$N" "$RESPONDERS") + 200 )) -le "$FDMAX" ] || die "responders: $N streams over $RESPONDERS processes exceed the limit $FDMAX (raise SCALE_RESPONDERS)"
fi
if runs nchan; then
    [ $(( $(per "$N" "$NCHAN_WORKERS") + 200 )) -le "$FDMAX" ] || die "Nchan: $N streams over $NCHAN_WORKERS workers exceed the limit $FDMAX (raise SCALE_NCHAN_WORKERS)"
fi
if runs direct; then
    [ $(( $(per "$N" "$DIRECT_RESPONDERS") + 200 )) -le "$FDMAX" ] || die "direct: $N streams over $DIRECT_RESPONDERS responders exceed the limit $FDMAX (raise SCALE_DIRECT_RESPONDERS)"
fi
[ $(( $(per "$N" "$CLIENTS") + 100 )) -le "$FDMAX" ] || die "clients: $N streams over $CLIENTS sseload processes exceed the limit $FDMAX (raise SCALE_CLIENTS)"
read -r port_lo port_hi < /proc/sys/net/ipv4/ip_local_port_range
[ "$(per "$N" "$SOURCES")" -le $(( (port_hi - port_lo) * 9 / 10 )) ] || die "$N streams from $SOURCES source addresses need more than 90 % of the ephemeral ports ($port_lo-$port_hi) each (raise SCALE_SOURCES)"
SRC=$(seq 2 $((SOURCES + 1)) | sed 's/^/127.0.0./' | paste -sd, -)

# ---- kernel settings, restored on exit -----------------------------------------
SAVED=()
sysctl_restore() {
    local kv
    for kv in "${SAVED[@]}"; do sysctl -q -w "$kv" >/dev/null 2>&1 || say "could not restore $kv"; done
    SAVED=()
}
trap 'sysctl_restore; bf_cleanup' EXIT
if [ "${SCALE_SYSCTL:-1}" = 1 ]; then
    for kv in net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535; do
        k=${kv%%=*}; old=$(sysctl -n "$k") || die "cannot read $k"
        [ "$old" -ge "${kv#*=}" ] && continue
        SAVED+=("$k=$old")
        sysctl -q -w "$kv" >/dev/null || die "cannot set $kv (run as root, or SCALE_SYSCTL=0)"
        say "$k: $old -> ${kv#*=} for this run (restored on exit)"
    done
fi

# ---- helpers ---------------------------------------------------------------------
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }

STACK_PIDS=""   # "name=pid,pid;name=pid…" groups of serving processes
PUBLISH=""      # a command that broadcasts one stamped message
URL=""
birdfeed_up() {
    local d=$T/birdfeed port
    mkdir -p "$d"
    start_redis >/dev/null
    # --max-clients (default 10 000 a process) up to the descriptor limit:
    # the kernel does not share connections evenly among the processes.
    # Heartbeats 10 min apart: the run's windows then hold the broadcast
    # alone, as Nchan's do (nchan.conf sets no ping interval). With the
    # default 15 s, the first streams of a ramp get their ': ping' in the
    # seconds before the broadcast, which the CPU accounting subtracts.
    FCGI_UNIX=1 start_fcgi --workers "$RESPONDERS" --max-clients $((FDMAX - 200)) --heartbeat-ms 600000
    port=$(free_port)
    bench_site deploy/nginx/birdfeed.conf "$FCGI_ADDR" "127.0.0.1:$port reuseport backlog=65535" "$d" >"$d/site.conf"
    nginx_site_conf "$d" "$NGINX_WORKERS" "$FDMAX" "$d/site.conf"
    nginx_run "$d" "$port" || die "nginx for birdfeed did not start"
    NGX=$NGINX_RUN_PID
    sleep 0.5
    URL="http://127.0.0.1:$port/stream?preload=0"
    STACK_PIDS="nginx=$(family "$NGX");responders=$(family "$FCGI_PID");redis=$REDIS_PID"
    PUBLISH="'$BF' gen --canonical --stamp --count 1 | '$BF' ingest"
}
# direct_up: Redis and SCALE_DIRECT_RESPONDERS responders sharing one
# --stream-listen socket; the clients connect there (no web server). The
# same --max-clients and heartbeats as birdfeed_up.
direct_up() {
    start_redis >/dev/null
    start_direct --workers "$DIRECT_RESPONDERS" --max-clients $((FDMAX - 200)) --heartbeat-ms 600000
    wait_workers "$FCGI_PID" "$DIRECT_RESPONDERS" || die "direct: $DIRECT_RESPONDERS responders did not all start"
    NGX=""
    URL=$DIRECT_URL
    STACK_PIDS="responders=$(family "$FCGI_PID");redis=$REDIS_PID"
    PUBLISH="'$BF' gen --canonical --stamp --count 1 | '$BF' ingest"
}
nchan_up() {
    local d=$T/nchan port
    mkdir -p "$d"
    port=$(free_port)
    sed -e "s#@DIR@#$d#g; s#@PORT@#$port#g; s#@WORKERS@#$NCHAN_WORKERS#g; s#@GENERIC@#$(generic_tuning)#" \
        -e "s#^worker_rlimit_nofile .*#worker_rlimit_nofile $FDMAX;#" \
        -e "s#worker_connections .*#worker_connections $((FDMAX - 1000));#" \
        -e "s#listen 127.0.0.1:$port reuseport;#listen 127.0.0.1:$port reuseport backlog=65535;#" \
        tests/bench/nchan.conf >"$d/nginx.conf"
    nginx_run "$d" "$port" || die "nginx+Nchan did not start"
    NGX=$NGINX_RUN_PID
    sleep 0.5
    URL="http://127.0.0.1:$port/sub"
    STACK_PIDS="nginx+Nchan=$(family "$NGX")"
    PUBLISH="curl -s -o /dev/null -X POST --data-binary \"{\\\"sent_us\\\":\$(date +%s%6N)}\" http://127.0.0.1:$port/pub"
}
stack_down() {
    [ -n "$NGX" ] && { kill -TERM "$NGX" 2>/dev/null; wait "$NGX" 2>/dev/null; }
    [ -n "${FCGI_PID:-}" ] && { kill -TERM "$FCGI_PID" 2>/dev/null; wait "$FCGI_PID" 2>/dev/null; FCGI_PID=""; }
    [ -n "${REDIS_PID:-}" ] && { kill_redis; REDIS_PID=""; unset REDIS_PORT; }
}
rss_groups() {   # → "name:kB name:kB …"
    local g out=""
    for g in ${STACK_PIDS//;/ }; do
        local name=${g%%=*} pids=${g#*=}
        out="$out $name:$(tree_rss "${pids%%,*}")"     # children counted now
    done
    echo "$out"
}

# cpu_groups CLIENT_PIDS: "name:ms …", the CPU time each group of serving
# processes and the clients have used so far.
cpu_groups() {
    local g out=""
    for g in ${STACK_PIDS//;/ }; do out="$out ${g%%=*}:$(cpu_ms "${g#*=}")"; done
    echo "$out clients:$(cpu_ms "$1")"
}
# responder_fds: "MIN-MAX", the open descriptors of the least and the most
# busy responder worker now (one a stream: how evenly the streams were
# spread over the processes); "" when the stack has no responders.
responder_fds() {
    local g p n min="" max=0 list
    for g in ${STACK_PIDS//;/ }; do
        [ "${g%%=*}" = responders ] || continue
        list=${g#*=}
        [ "$list" = "${list#*,}" ] || list=${list#*,}     # the workers, not their master
        for p in ${list//,/ }; do
            n=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
            [ -z "$min" ] || [ "$n" -lt "$min" ] && min=$n
            [ "$n" -gt "$max" ] && max=$n
        done
    done
    [ -n "$min" ] && echo "$min-$max"
}
# group_val "name:v …" NAME: NAME's value.
group_val() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2://p"; }

# phase SYSTEM NAME RAMP: one round of clients; sets RESULT (key=value words).
phase() {
    local sys=$1 name=$2 ramp=$3 i pids=() per_c dur slab0 rss0 rss1 slab1
    per_c=$(per "$N" "$CLIENTS")
    dur=$(( N / (CLIENTS * (ramp > 0 ? ramp : 100000)) + 150 ))
    rm -f "$T"/ready.* "$LOGS/$sys-$name-"*.out "$LOGS/$sys-$name-"*.hist
    rss0=$(rss_groups); slab0=$(slab_kb)
    for i in $(seq 1 "$CLIENTS"); do
        "$SSELOAD" --conns "$per_c" --ramp "$ramp" --retry --batch-us "$BATCH_US" --source "$SRC" --expect 1 --linger $((BCAST_S * 1000 + 2000)) --duration "$dur" \
            --settle 2000 -H @"$HEAD_FILE" --ready-file "$T/ready.$i" --hist-out "$LOGS/$sys-$name-$i.hist" "$URL" >"$LOGS/$sys-$name-$i.out" 2>&1 &
        pids+=($!)
    done
    local t0=$SECONDS
    if ! wait_until $((dur - 20)) bash -c "[ \$(ls '$T'/ready.* 2>/dev/null | wc -l) -ge $CLIENTS ]"; then
        say "$sys $name: not every client reached its plateau in $((SECONDS - t0)) s"
    fi
    local plateau_s=$((SECONDS - t0)) fds
    rss1=$(rss_groups); slab1=$(slab_kb); fds=$(responder_fds)
    # The broadcast's CPU: what each group used in the BCAST_S seconds from
    # the publish on, less what it used in as many seconds just before
    # (idle streams: heartbeats, the clients' timers). The clients keep
    # their streams open 2 s past that window (--linger), so closing them is
    # not counted.
    local cpids c0 c1 c2
    cpids=$(IFS=,; echo "${pids[*]}")
    c0=$(cpu_groups "$cpids"); sleep "$BCAST_S"; c1=$(cpu_groups "$cpids")
    bash -c "$PUBLISH" >/dev/null 2>&1
    sleep "$BCAST_S"; c2=$(cpu_groups "$cpids")
    for i in "${pids[@]}"; do wait "$i"; done
    # Sum the clients' counts; the latency from their merged histograms.
    local conn=0 ev=0 ret=0 plat=0 line f lat
    for f in "$LOGS/$sys-$name-"*.out; do
        line=$(grep '^conns=' "$f") || continue
        conn=$((conn + $(kv connected "$line"))); ev=$((ev + $(kv events "$line"))); ret=$((ret + $(kv retries "$line")))
        plat=$((plat + $(kv plateau "$line")))
    done
    lat=$("$SSELOAD" --hist-merge "$LOGS/$sys-$name-"*.hist) || lat=""
    RESULT="phase=$name subscribers=$((per_c * CLIENTS)) clients=$CLIENTS plateaus=$plat/$CLIENTS all_open_after_s=$plateau_s connected_at_end=$conn retries=$ret delivered=$ev delivered_pct=$(awk -v e="$ev" -v n="$((per_c * CLIENTS))" 'BEGIN { printf "%.2f", 100 * e / n }') p50_ms=$(kv p50_ms "$lat") p99_ms=$(kv p99_ms "$lat") max_ms=$(kv max_ms "$lat")${fds:+ responder_fds=$fds}"
    local g k d sum=0
    for g in $c2; do
        k=${g%%:*}
        d=$(( ${g#*:} - 2 * $(group_val "$c1" "$k") + $(group_val "$c0" "$k") ))
        [ "$d" -lt 0 ] && d=0
        sum=$((sum + d))
        RESULT="$RESULT bcast_cpu_${k//+/_}_ms=$d"
    done
    RESULT="$RESULT bcast_cpu_ms=$sum bcast_floor_ms=$((sum / $(nproc)))"
    if [ "$name" = ramp ]; then
        local before after
        for g in $rss1; do
            k=${g%%:*}; after=${g#*:}; before=$(group_val "$rss0" "$k")
            RESULT="$RESULT mem_${k//+/_}_b=$(( (after - before) * 1024 / (per_c * CLIENTS) ))"
        done
        RESULT="$RESULT kernel_slab_b=$(( (slab1 - slab0) * 1024 / (per_c * CLIENTS) ))"
    fi
}

say "$N subscribers, $CLIENTS client processes from $SOURCES source addresses, ramp $RAMP/s each; nginx $NGINX_WORKERS workers, $RESPONDERS responders, Nchan $NCHAN_WORKERS workers, direct $DIRECT_RESPONDERS responders; systems: $ONLY; load $(cut -d' ' -f1-3 /proc/loadavg)"
for sys in $ONLY; do
    case $sys in birdfeed) birdfeed_up;; nchan) nchan_up;; direct) direct_up;; esac
    for ph in ramp storm; do
        phase "$sys" "$ph" "$([ "$ph" = ramp ] && echo "$RAMP" || echo 0)"
        echo "P3+ $sys $RESULT load=$(cut -d' ' -f1 /proc/loadavg)"
    done
    stack_down
done

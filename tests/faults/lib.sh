# tests/faults/lib.sh — helpers for the fault suite, on top of tests/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# proc_fds PID: open file descriptors other than connections to Redis;
# redis_conns PID: those connections. Acceptor threads connect to Redis
# lazily, on their first request, so when a baseline was taken depends on
# which threads had served one: the two counts are checked apart (streams
# and files must return to the baseline exactly; Redis connections must stay
# within REDIS_CONNS_MAX, one per acceptor thread plus the hub's two and the
# metrics publisher's one, so a leak still fails). With redis-read set, each
# acceptor thread holds a second connection, to the read server, and the
# hub's two go there too: per server the count stays within this bound
# (master: acceptors + 1, read server: acceptors + 2).
REDIS_CONNS_MAX=${REDIS_CONNS_MAX:-7}
redis_conns() { ss -tanpH state established "( dport = :$REDIS_PORT )" 2>/dev/null | grep -c "pid=$1,"; }
proc_fds() {
    local all redis
    all=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
    redis=$(redis_conns "$1")
    echo $((all - redis))
}
proc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# rss_ok KB BASE_KB MB: is KB within BASE_KB + MB megabytes? Under ASan
# (quarantine, redzones) the allowance is 8 times larger.
RSS_FACTOR=1
ldd "$BF_FCGI" 2>/dev/null | grep -q libasan && RSS_FACTOR=8
rss_ok() { [ "$1" -le $(( $2 + $3 * 1024 * RSS_FACTOR )) ]; }
# workers: the responder's worker pids (children of the master), sorted.
workers() { pgrep -P "$FCGI_PID" | sort -n; }
# settle_fds PID WANT [SECONDS]: wait until PID has at most WANT fds besides
# its Redis connections, and at most REDIS_CONNS_MAX of those; on failure
# print what it holds (its sockets with their peers).
settle_fds() {
    local t=0
    while [ "$t" -lt "$(( ${3:-10} * 10 ))" ]; do
        [ "$(proc_fds "$1")" -le "$2" ] && [ "$(redis_conns "$1")" -le "$REDIS_CONNS_MAX" ] && return 0
        sleep 0.1; t=$((t + 1))
    done
    echo "pid $1: $(proc_fds "$1") fds besides $(redis_conns "$1") Redis connections (at most $REDIS_CONNS_MAX)" >&2
    ls -l "/proc/$1/fd" >&2
    ss -tanp 2>/dev/null | grep "pid=$1," >&2
    return 1
}

# warm_rest: 40 REST requests at once, so that every acceptor thread of every
# worker has made (or, after a Redis restart, remade) the Redis connection it
# opens lazily on first use: fd counts compare equal before and after a fault.
warm_rest() {
    seq 1 40 | xargs -P 40 -I{} curl -s -o /dev/null "$BASE_URL/api/filters"
}
# sse_clients N OUTDIR FROM UNTIL [TIMEOUT [sseclient options…]]: start N reconnecting SSE clients
# through nginx in the background (sets SSE_PID), each resuming after stream id
# FROM and stopping at UNTIL; client K writes its event ids to OUTDIR/K.ids.
sse_clients() {
    mkdir -p "$2"
    python3 "$BF_ROOT/tests/faults/sseclient.py" "127.0.0.1:$NGINX_PORT" "/stream" "$2" "$1" \
        --from "$3" --until "$4" --timeout "${5:-60}" "${@:6}" >"$2/summary" 2>&1 &
    SSE_PID=$!
    bf_track "$SSE_PID"
}
# wait_clients: the clients all reached UNTIL (exit 0) within their timeout.
wait_clients() { wait "$SSE_PID" || fail "SSE clients: $(cat "$1/summary")"; }
# check_ids OUTDIR WANTFILE: every client's ids equal WANTFILE (no loss, no
# duplicate, same order).
check_ids() {
    local f
    [ -s "$2" ] || fail "check_ids: $2 (the ids wanted) is missing or empty"
    for f in "$1"/*.ids; do
        [ -f "$f" ] || fail "check_ids: no client wrote its ids into $1 (see $1/summary)"
        cmp -s "$f" "$2" || fail "$(basename "$f"): $(wc -l <"$f") ids, want $(wc -l <"$2"); first difference: $(diff "$f" "$2" | head -3 | tr '\n' ' ')"
    done
}

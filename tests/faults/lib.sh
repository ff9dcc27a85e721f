# tests/faults/lib.sh — helpers for the fault suite, on top of tests/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# proc_fds PID / proc_rss_kb PID: open file descriptors and resident memory.
proc_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
proc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# rss_ok KB BASE_KB MB: is KB within BASE_KB + MB megabytes? Under ASan
# (quarantine, redzones) the allowance is 8 times larger.
RSS_FACTOR=1
ldd "$BF_FCGI" 2>/dev/null | grep -q libasan && RSS_FACTOR=8
rss_ok() { [ "$1" -le $(( $2 + $3 * 1024 * RSS_FACTOR )) ]; }
# workers: the responder's worker pids (children of the master), sorted.
workers() { pgrep -P "$FCGI_PID" | sort -n; }
# settle_fds PID WANT [SECONDS]: wait until PID has at most WANT fds; on
# failure print what it holds (its sockets with their peers).
settle_fds() {
    wait_until "${3:-10}" bash -c "[ \$(ls /proc/$1/fd | wc -l) -le $2 ]" && return 0
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
    for f in "$1"/*.ids; do
        cmp -s "$f" "$2" || fail "$(basename "$f"): $(wc -l <"$f") ids, want $(wc -l <"$2"); first difference: $(diff "$f" "$2" | head -3 | tr '\n' ' ')"
    done
}

#!/bin/bash
# Redis killed (SIGKILL) and restarted from its AOF in the middle of an
# ingest: every tweet ingest reports as ingested is in the stream, none is
# there twice, and a tail running across the restart misses nothing.
. "$(dirname "$0")/../lib.sh"
start_redis --appendonly yes --appendfsync always

# tweet ids of the stream entries, one a line
stream_ids() { rcli --raw XRANGE bft:tweets - + | awk 'NR % 3 == 0' | sed -n 's/^{"id":"\([0-9]*\)".*/\1/p'; }

check_run() {   # check_run WHAT N INPUT ERRFILE
    local what=$1 n=$2 input=$3 err=$4
    grep -q "ingested $n, skipped 0, rejected 0" "$err" || fail "$what: summary: $(tail -n 3 "$err")"
    assert_eq "$(rcli XLEN bft:tweets)" "$n" "$what: XLEN"
    stream_ids | sort >"$T/got.ids"
    assert_eq "$(sort -u "$T/got.ids" | wc -l)" "$n" "$what: distinct tweets in the stream"
    sed -n 's/^{"id":"\([0-9]*\)".*/\1/p' "$input" | sort >"$T/want.ids"
    cmp -s "$T/want.ids" "$T/got.ids" || fail "$what: stream holds other tweets than the input"
}

# 1. Paced ingest (small batches), Redis killed and restarted while it runs;
#    a tail subscriber lives through the restart.
N=6000
"$BF" gen --canonical --count $N --seed 11 >"$T/paced.ndjson" || fail "gen"
"$BF" tail --ids --count $N --backoff-max-ms 200 --retries 50 >"$T/tail.out" 2>"$T/tail.err" &
tail_pid=$!; bf_track $tail_pid
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB bft:live | tail -n 1)\" = 1 ]" || fail "tail did not subscribe"
"$BF" ingest --rate 3000 --backoff-max-ms 200 --retries 50 "$T/paced.ndjson" 2>"$T/paced.err" &
ing=$!; bf_track $ing
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" -ge 1500 ]" || fail "ingest did not start"
kill_redis
sleep 0.3
restart_redis
wait $ing; rc=$?
assert_eq "$rc" 0 "paced ingest exit code across the restart"
grep -q 'pub.disconnected' "$T/paced.err" || fail "ingest did not notice the restart"
check_run "paced" $N "$T/paced.ndjson" "$T/paced.err"
ok "paced ingest across a Redis SIGKILL + AOF restart: $N in the stream, none twice"

wait_until 30 sh -c "! kill -0 $tail_pid" || fail "tail across the restart printed $(wc -l <"$T/tail.out") of $N"
wait $tail_pid; rc=$?
assert_eq "$rc" 0 "tail exit code"
rcli --raw XRANGE bft:tweets - + | awk 'NR % 3 == 1 { id = $0 } NR % 3 == 0 { print id " " $0 }' >"$T/stream.out"
cmp -s "$T/stream.out" "$T/tail.out" || fail "tail across the restart differs from the stream"
ok "tail across the restart printed every tweet once, in stream order"

# 2. Full-speed ingest (big pipelined batches, replies in flight when Redis dies).
rcli DEL bft:tweets >/dev/null
N=80000
"$BF" gen --canonical --count $N --seed 12 >"$T/fast.ndjson" || fail "gen"
"$BF" ingest --history 1000000 --batch 2000 --backoff-max-ms 200 --retries 50 "$T/fast.ndjson" 2>"$T/fast.err" &
ing=$!; bf_track $ing
wait_until 20 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" -ge 20000 ]" || fail "fast ingest did not start"
kill_redis
sleep 0.3
restart_redis
wait $ing; rc=$?
assert_eq "$rc" 0 "fast ingest exit code across the restart"
kill -0 $ing 2>/dev/null && fail "ingest still running"
check_run "fast" $N "$T/fast.ndjson" "$T/fast.err"
found=$(sed -n 's/.*found_in_stream=\([0-9]*\).*/\1/p' "$T/fast.err" | awk '{ s += $1 } END { print s + 0 }')
ok "full-speed ingest across a Redis SIGKILL + AOF restart: $N in the stream, none twice (found after lost replies: ${found:-0})"

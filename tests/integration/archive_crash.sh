#!/bin/bash
# The archiver killed with SIGKILL in the middle of its work, three times,
# then restarted: every tweet is archived exactly once, on SQLite and on
# PostgreSQL. Also: SIGTERM stops it cleanly after its batch.
. "$(dirname "$0")/../lib.sh"
start_redis
start_postgres -c fsync=off
N=40000

for engine in sqlite postgres; do
    export BIRDFEED_PREFIX="crash_$engine:"
    KEY="${BIRDFEED_PREFIX}tweets"
    if [ $engine = sqlite ]; then
        DB="sqlite:$T/crash.db"
        count() { sqlite3 "$T/crash.db" 'SELECT count(*) FROM tweets'; }
        ids() { sqlite3 "$T/crash.db" 'SELECT id FROM tweets ORDER BY ms, seq'; }
        distinct() { sqlite3 "$T/crash.db" 'SELECT count(DISTINCT tweet_id) FROM tweets'; }
    else
        DB=$PG_URL
        count() { pg_sql 'SELECT count(*) FROM tweets'; }
        ids() { pg_sql 'SELECT id FROM tweets ORDER BY ms, seq'; }
        distinct() { pg_sql 'SELECT count(DISTINCT tweet_id) FROM tweets'; }
    fi
    "$BF" migrate --db "$DB" >/dev/null || fail "$engine: migrate"
    fill_tweets $N 7
    killed_with_pending=0
    for round in 1 2 3; do
        # Small batches: many transactions, so the kill lands in the middle of one.
        "$BF" archive --db "$DB" --batch 20 --consumer c1 2>>"$T/$engine.log" &
        pid=$!
        target=$((round * N / 4))
        for _ in $(seq 1 1800); do [ "$(count)" -ge "$target" ] && break; sleep 0.05; done
        kill -KILL "$pid"; wait "$pid" 2>/dev/null
        p=$(rcli XPENDING "$KEY" archive | head -n1)
        [ "${p:-0}" -gt 0 ] && killed_with_pending=$((killed_with_pending + 1))
        n=$(count)
        assert_ge "$n" "$target" "$engine: rows after kill $round"
    done
    # At least one kill landed between reading a batch and acknowledging it.
    assert_ge "$killed_with_pending" 1 "$engine: kills with delivered, unacknowledged entries"
    "$BF" archive --once --db "$DB" --consumer c1 2>"$T/$engine.final.log" || fail "$engine: final run"
    assert_eq "$(count)" "$N" "$engine: every tweet archived"
    assert_eq "$(distinct)" "$N" "$engine: no tweet twice"
    rcli --raw XRANGE "$KEY" - + | awk 'NR % 3 == 1' >"$T/stream.ids"
    ids >"$T/db.ids"
    cmp -s "$T/stream.ids" "$T/db.ids" || fail "$engine: archived ids differ from the stream's: $(diff "$T/stream.ids" "$T/db.ids" | head -3)"
    assert_eq "$(rcli XPENDING "$KEY" archive | head -n1)" 0 "$engine: nothing pending"
    assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}archive:archive" lag)" 0 "$engine: no lag"
    ok "$engine: SIGKILL three times mid-run ($killed_with_pending with a batch in flight), restart: all $N exactly once"

    # Tweets published again under new stream ids (a publisher resending a
    # batch after a Redis failover): one row per tweet stays, the first one;
    # the resent entries are counted as duplicates and acknowledged.
    resend() {   # resend FIRST COUNT: entries FIRST.. of the stream, XADDed again
        rcli --raw XRANGE "$KEY" - + COUNT $(($1 + $2 - 1)) | awk 'NR % 3 == 0' | tail -n "$2" | python3 -c '
import sys
key = sys.argv[1].encode()
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    args = [b"XADD", key, b"*", b"t", line.rstrip(b"\n")]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
' "$KEY" | rcli --pipe >/dev/null
    }
    resend 1 500
    "$BF" archive --once --db "$DB" --consumer c1 2>"$T/$engine.dup.log" || fail "$engine: archive the resent batch"
    assert_contains "$(grep 'event=archive.stop' "$T/$engine.dup.log")" "archived=0 duplicates=500 lost=0 rejected=0" \
        "$engine: 500 resent entries skipped as duplicates"
    assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}archive:archive" duplicates)" 500 "$engine: duplicates published"
    # Resent again, and the archiver killed while it skips them: still one row per tweet.
    resend 1001 3000
    rcli HDEL "${BIRDFEED_PREFIX}archive:archive" duplicates >/dev/null   # the next archiver's own count
    "$BF" archive --db "$DB" --batch 20 --consumer c1 2>>"$T/$engine.log" &
    pid=$!
    wait_until 60 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET '${BIRDFEED_PREFIX}archive:archive' duplicates)\" -ge 100 ]" \
        || fail "$engine: the archiver did not get to the resent entries"
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    "$BF" archive --once --db "$DB" --consumer c1 2>"$T/$engine.dup2.log" || fail "$engine: final run after the kill"
    assert_eq "$(count)" "$N" "$engine: still one row per tweet"
    assert_eq "$(distinct)" "$N" "$engine: no tweet twice"
    ids >"$T/db.ids"
    cmp -s "$T/stream.ids" "$T/db.ids" || fail "$engine: rows are not the tweets' first entries: $(diff "$T/stream.ids" "$T/db.ids" | head -3)"
    assert_eq "$(rcli XPENDING "$KEY" archive | head -n1)" 0 "$engine: resent entries acknowledged"
    ok "$engine: 3500 tweets published again under new stream ids (one kill among them): each archived once, its first entry kept"
done

# SIGTERM: the service finishes its batch, publishes its state and exits 0.
export BIRDFEED_PREFIX="term:"
"$BF" migrate --db "sqlite:$T/term.db" >/dev/null
"$BF" archive --db "sqlite:$T/term.db" 2>"$T/term.log" &
pid=$!
fill_tweets 500 8
wait_until 30 bash -c "[ \"\$(sqlite3 '$T/term.db' 'SELECT count(*) FROM tweets')\" = 500 ]" || fail "service archived new tweets"
kill -TERM "$pid"
wait_until 5 bash -c "! kill -0 $pid" || fail "SIGTERM did not stop the archiver"
wait "$pid"; assert_eq "$?" 0 "exit status after SIGTERM"
assert_contains "$(cat "$T/term.log")" "event=archive.stop archived=500" "stop logged"
assert_eq "$(rcli HGET term:archive:archive archived)" 500 "state published on stop"
ok "service mode: archives new entries as they come, SIGTERM stops it cleanly"

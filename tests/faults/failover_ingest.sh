#!/bin/bash
# The Redis master SIGKILLed while `birdfeed ingest --wait-replicas 1`
# publishes through the Sentinels (master and two replicas on 127.0.0.2/.3/.4,
# three Sentinels): ingest follows the failover to the promoted replica,
# looks its unconfirmed tweets up there by tweet id, resends only the
# missing ones and exits 0; the new master's stream holds every input tweet
# exactly once, and the ids go on above the old ones. `birdfeed tail` and
# `birdfeed filters`, also given the Sentinel URL, follow by themselves.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
redis_trio
key=${BIRDFEED_PREFIX}tweets
N=3000
"$BF" gen --count "$N" --seed 31 --canonical >"$T/in.ndjson"

"$BF" tail --ids --retries 50 >"$T/tail.out" 2>"$T/tail.err" & tail_pid=$!
bf_track "$tail_pid"
wait_until 10 sh -c "redis-cli -h 127.0.0.2 -p ${RN_PORT[m]} PUBSUB NUMSUB ${BIRDFEED_PREFIX}live | tail -1 | grep -qx 1" \
    || fail "tail did not subscribe"
"$BF" ingest --wait-replicas 1 --rate 300 --retries 50 "$T/in.ndjson" >"$T/ingest.out" 2>&1 & ing=$!
bf_track "$ing"
sleep 3
old=$(rn m)
before=$(rn_cli m XLEN "$key")
rn_kill m
wait_failover "$old" 40 || fail "no failover within 40 s (see $T/sentinel-0/sentinel.log)"
new=$(sentinel_master); newname=$(rn_name "$new")
wait_pid "$ing" 120; rc=$?
assert_eq "$rc" 0 "ingest exit status across the failover ($(tail -3 "$T/ingest.out" | tr '\n' ' '))"
assert_contains "$(cat "$T/ingest.out")" "ingested $N, skipped 0, rejected 0" "ingest summary"
grep -q 'pub.recovered' "$T/ingest.out" || fail "ingest never recovered (was the master killed mid-run? $before entries then)"
stream_each_once "$newname" "$T/in.ndjson"
ok "master SIGKILLed after $before of $N tweets: ingest followed the failover to $newname, exit 0, all $N once on the new master"

# tail followed: it printed the new master's entries after the failover, in order.
last=$(rn_cli "$newname" XREVRANGE "$key" + - COUNT 1 | head -1)
wait_until 30 grep -q "^$last " "$T/tail.out" || fail "tail did not reach the last entry $last: $(tail -3 "$T/tail.err")"
cut -d' ' -f1 "$T/tail.out" | sort -c -t- -k1,1n -k2,2n 2>/dev/null || fail "tail printed ids out of order"
ok "tail followed the failover to the end of the stream, ids in order"

"$BF" filters add --name after-failover --track alpha >/dev/null || fail "filters add after the failover"
assert_eq "$(rn_cli "$newname" HGET "${BIRDFEED_PREFIX}filters" 1 | grep -c after-failover)" 1 "filter on the new master"
ok "filters add after the failover went to the new master"

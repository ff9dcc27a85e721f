#!/bin/bash
# ingest --wait-replicas: a master with two replicas on 127.0.0.2/.3/.4.
# (1) WAIT 2: when ingest exits 0, both replicas already hold every tweet.
# (2) A replica frozen (SIGSTOP) for 3 s mid-run with --wait-replicas 2: the
#     short WAITs are asked again, not counted as losses; exit 0 once it
#     thaws, every tweet once on the master.
# (3) No replica alive, --wait-replicas 1 --wait-timeout 2000 (and the
#     master told to take writes without replicas): ingest stops within a
#     bounded time, exit 3, each tweet written but not confirmed listed as
#     "FILE:LINE: not confirmed: …", and the counts add up.
# (4) The same with the shipped min-replicas-to-write 1: the master refuses
#     (NOREPLICAS), ingest retries, then exit 3 with each tweet "not published".
# The servers run the shipped deploy/redis.conf + deploy/redis-ha.conf.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
redis_node m 127.0.0.2
redis_node r1 127.0.0.3 m
redis_node r2 127.0.0.4 m
wait_until 10 sh -c "redis-cli -h 127.0.0.2 -p ${RN_PORT[m]} INFO replication | grep -c 'state=online' | grep -qx 2" \
    || fail "replicas did not come online"
export BIRDFEED_REDIS="redis://$(rn m)/0"
key=${BIRDFEED_PREFIX}tweets

# ---- (1) ---------------------------------------------------------------------
"$BF" gen --count 2000 --seed 21 --canonical >"$T/a.ndjson"
"$BF" ingest --wait-replicas 2 "$T/a.ndjson" 2>"$T/a.err" || fail "ingest --wait-replicas 2: $(cat "$T/a.err")"
for n in r1 r2; do   # no waiting here: WAIT promised they have it
    assert_eq "$(rn_cli $n XLEN "$key")" 2000 "stream length on $n right after ingest exited"
done
ok "--wait-replicas 2: both replicas held all 2000 tweets when ingest exited 0"

# ---- (2) ---------------------------------------------------------------------
rn_cli m DEL "$key" >/dev/null
"$BF" gen --count 1500 --seed 22 --canonical >"$T/b.ndjson"
"$BF" ingest --wait-replicas 2 --wait-timeout 20000 --rate 500 "$T/b.ndjson" >"$T/b.out" 2>&1 & ing=$!
bf_track "$ing"
sleep 1
kill -STOP "${RN_PID[r2]}"
sleep 3
kill -CONT "${RN_PID[r2]}"
wait_pid "$ing" 120; rc=$?
assert_eq "$rc" 0 "ingest across a replica frozen for 3 s ($(tail -2 "$T/b.out" | tr '\n' ' '))"
grep -q 'pub.replicas_behind' "$T/b.out" || fail "ingest never saw a short WAIT (the replica was not frozen long enough?)"
assert_eq "$(rn_cli m XLEN "$key")" 1500 "stream length"
rn_cli m --raw XRANGE "$key" - + | grep '^{' | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
sys.exit(0 if len(ids) == len(set(ids)) == 1500 else 1)' || fail "tweets not all once in the stream"
ok "a replica frozen for 3 s: short WAITs retried, exit 0, all 1500 tweets once"

# ---- (3) ---------------------------------------------------------------------
rn_kill r1
rn_kill r2
rn_cli m CONFIG SET min-replicas-to-write 0 >/dev/null
"$BF" gen --count 300 --seed 23 --canonical >"$T/c.ndjson"
start=$(date +%s)
(cd "$T" && timeout 60 "$BF" ingest --wait-replicas 1 --wait-timeout 2000 c.ndjson) >"$T/c.out" 2>&1; rc=$?
took=$(( $(date +%s) - start ))
assert_eq "$rc" 3 "ingest with no replica alive ($(tail -3 "$T/c.out" | tr '\n' ' '))"
[ "$took" -lt 30 ] || fail "ingest took ${took}s to give up (--wait-timeout 2000)"
assert_contains "$(cat "$T/c.out")" "only 0 of 1 replicas confirmed the tweets written within 2000 ms" "reason"
unconf=$(grep -c '^c.ndjson:[0-9]*: not confirmed: in the master.s stream, but fewer than 1 replicas' "$T/c.out" || true)
notpub=$(grep -c '^c.ndjson:[0-9]*: not published' "$T/c.out" || true)
ingested=$(sed -n 's/^ingested \([0-9]*\),.*/\1/p' "$T/c.out")
assert_ge "$unconf" 1 "tweets listed as not confirmed"
assert_eq "$((ingested + unconf + notpub))" 300 "ingested ($ingested) + not confirmed ($unconf) + not published ($notpub)"
assert_eq "$ingested" 0 "ingested with no replica to confirm"
assert_contains "$(cat "$T/c.out")" "$unconf tweets not confirmed" "summary"
ok "no replica alive: exit 3 after ${took}s, $unconf tweets listed as not confirmed, none counted as ingested"

# ---- (4) ---------------------------------------------------------------------
rn_cli m CONFIG SET min-replicas-to-write 1 >/dev/null
(cd "$T" && timeout 60 "$BF" ingest --wait-replicas 1 --retries 2 c.ndjson) >"$T/d.out" 2>&1; rc=$?
assert_eq "$rc" 3 "ingest refused by a master without replicas ($(tail -2 "$T/d.out" | tr '\n' ' '))"
assert_contains "$(cat "$T/d.out")" "NOREPLICAS" "reason"
assert_eq "$(grep -c '^c.ndjson:[0-9]*: not published' "$T/d.out")" 300 "tweets listed as not published"
ok "min-replicas-to-write 1 and no replica: NOREPLICAS retried, then exit 3 with all 300 tweets listed as not published"

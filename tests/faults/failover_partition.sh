#!/bin/bash
# A master cut off rather than killed: while `birdfeed ingest
# --wait-replicas 1` publishes through the Sentinels, the master starts
# refusing every new client (CONFIG SET requirepass) and drops the
# Sentinels' and the replicas' connections, so the Sentinels see it down and
# promote a replica, while ingest's connection — made before — still works,
# like a client on the master's side of a network partition.
# The old master loses its replicas; ingest's WAITs come back short, it asks
# the Sentinels, learns that another server is master and moves there,
# resending what the new master lacks: exit 0, every tweet once on the new
# master. (Without --wait-replicas it would have written into the isolated
# master until it was demoted, losing those tweets.) `birdfeed tail`,
# subscribed on the old master through a connection that also survives,
# hears nothing more there; a Sentinel's +switch-master notice moves it.
# `birdfeed archive`, reading the old master the same way, finds nothing new
# there, asks the Sentinels, moves, and ends with every tweet once.
# The old master keeps taking writes while cut off (min-replicas-to-write
# 0, Redis's default, not the shipped 1): the worst case, where only the
# Sentinels can tell the clients that it is no longer the master.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
REDIS_NODE_ARGS=(--min-replicas-to-write 0)
redis_trio
key=${BIRDFEED_PREFIX}tweets
N=2500
"$BF" gen --count "$N" --seed 41 --canonical >"$T/in.ndjson"
"$BF" migrate --db "sqlite:$T/a.db" >/dev/null || fail "migrate"
"$BF" archive --db "sqlite:$T/a.db" --block-ms 200 >"$T/archive.log" 2>&1 & arch=$!
bf_track "$arch"
"$BF" tail --ids --retries 50 >"$T/tail.out" 2>"$T/tail.err" & tail_pid=$!
bf_track "$tail_pid"
wait_until 10 sh -c "redis-cli -h 127.0.0.2 -p ${RN_PORT[m]} PUBSUB NUMSUB ${BIRDFEED_PREFIX}live | tail -1 | grep -qx 1" \
    || fail "tail did not subscribe"
"$BF" ingest --wait-replicas 1 --wait-timeout 60000 --rate 250 --retries 50 "$T/in.ndjson" >"$T/ingest.out" 2>&1 & ing=$!
bf_track "$ing"
sleep 3
old=$(rn m)
before=$(rn_cli m XLEN "$key")
rn_cut_off m
wait_failover "$old" 40 || fail "no failover within 40 s (see $T/sentinel-0/sentinel.log)"
new=$(sentinel_master); newname=$(rn_name "$new")
wait_pid "$ing" 120; rc=$?
assert_eq "$rc" 0 "ingest exit status across the partition ($(tail -3 "$T/ingest.out" | tr '\n' ' '))"
grep -q 'pub.disconnected.*no longer the master' "$T/ingest.out" \
    || fail "ingest did not notice through the Sentinels that $old stopped being the master"
stream_each_once "$newname" "$T/in.ndjson"
isolated=$(rn_cut_cli m XLEN "$key")
ok "master cut off after $before of $N tweets: ingest moved to $newname by itself, exit 0, all $N once there ($isolated entries left on the isolated old master)"

last=$(rn_cli "$newname" XREVRANGE "$key" + - COUNT 1 | head -1)
wait_until 30 grep -q "^$last " "$T/tail.out" || fail "tail did not reach the new master's last entry $last: $(tail -3 "$T/tail.err")"
grep -q 'tail.failover' "$T/tail.err" || fail "tail did not move on a +switch-master notice: $(tail -3 "$T/tail.err")"
ok "tail, its connection to the isolated master intact, moved on the Sentinel's +switch-master notice and printed the new master's tweets"

wait_until 30 sh -c "[ \"\$(sqlite3 '$T/a.db' 'SELECT count(DISTINCT tweet_id) FROM tweets')\" = $N ]" \
    || fail "archive: $(sqlite3 "$T/a.db" 'SELECT count(*), count(DISTINCT tweet_id) FROM tweets') rows|tweets, want $N; $(grep -c 'no longer the master' "$T/archive.log") moves"
assert_eq "$(sqlite3 "$T/a.db" 'SELECT count(*) FROM tweets')" "$N" "archive rows"
grep -q 'no longer the master' "$T/archive.log" || fail "the archive never noticed that the master moved"
ok "the archive, left on the isolated master, asked the Sentinels, moved, and holds every tweet once"

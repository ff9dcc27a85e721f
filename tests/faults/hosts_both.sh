#!/bin/bash
# Three hosts (tests/multihost.sh); first the Redis master SIGKILLed
# mid-stream (Sentinel promotes a replica; the old master comes back, as a
# supervisor restarts it, and rejoins as a replica), then the whole host of
# the new master SIGKILLed (nginx, responders, its archiver if it has one,
# Redis, Sentinel): a second failover with a host gone. Ingest exits 0;
# every tweet once on the last master; every client got every entry exactly
# once in stream order, those of the dead host resuming elsewhere; the
# archive holds every tweet once.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
N=6000   # 20 s at 300/s: the second failover comes while ingest still runs
hosts_begin "$N"
hosts_kill_master
first=$KILLED
rn_restart "$first"
wait_until 30 sh -c "redis-cli -h ${RN_ADDR[$first]} -p ${RN_PORT[$first]} ROLE | head -1 | grep -qx slave" \
    || fail "$first did not rejoin as a replica"
new=$(rn_name "$(sentinel_master)")
ok "master $first SIGKILLed, $new promoted, $first back as a replica"
sleep 2
case ${RN_ADDR[$new]} in 127.0.0.3) victim=b;; 127.0.0.4) victim=c;; *) fail "the new master $new is on host a";; esac
old=$(sentinel_master)
kill -0 "$HOSTS_INGEST" 2>/dev/null || fail "ingest finished before the host kill: the second failover would not be mid-stream"
host_kill "$victim"
wait_failover "$old" 60 || fail "no second failover within 60 s after host $victim died"
ok "host $victim, holding the new master $new, SIGKILLed; the Sentinels promoted $(rn_name "$(sentinel_master)")"
hosts_check "$N"

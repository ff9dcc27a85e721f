#!/bin/bash
# make run-hosts — a three-host birdfeed deployment on this one machine, in
# one command, to see (and break) what README "Several hosts" describes.
# Each loopback address plays one host:
#
#   host a  127.0.0.2   nginx + birdfeed-fcgi, Redis (the first master), Sentinel, archiver
#   host b  127.0.0.3   nginx + birdfeed-fcgi, Redis replica, Sentinel, archiver
#   host c  127.0.0.4   nginx + birdfeed-fcgi, Redis replica, Sentinel
#   PostgreSQL beside host a; synthetic tweets through `birdfeed ingest
#   --wait-replicas 1`; every program finds the master through the Sentinels,
#   the responders read from a replica (the one on their host first).
#
# The Redis servers and Sentinels run the shipped deploy/redis.conf,
# deploy/redis-ha.conf and deploy/sentinel.conf; nginx the shipped site. It
# prints each host's URL and how to kill the master or a whole host; Ctrl-C
# stops everything. State and logs go to a directory it names (kept after
# the end). The same machinery runs the multi-host fault tests
# (tests/multihost.sh, tests/faults/hosts_*.sh).
#
# Environment: BIRDFEED_RATE (tweets per second, default 20),
# BIRDFEED_RUN_SKIP_SETUP=1 (don't install packages or build).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RATE=${BIRDFEED_RATE:-20}
case $RATE in ''|*[!0-9]*) echo "three-hosts: BIRDFEED_RATE must be a whole number of tweets per second, got '$RATE'" >&2; exit 2;; esac
if [ -z "${BIRDFEED_RUN_SKIP_SETUP:-}" ]; then
    sh "$ROOT/deploy/install-deps.sh" || exit 1
    make -s -C "$ROOT" all || exit 1
fi
export BF_KEEP=1                                  # keep state and logs after the end
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/multihost.sh"
export BIRDFEED_PREFIX=birdfeed:
trap 'exit 0' INT                                 # Ctrl-C is how it is meant to end

hosts_start
"$BF" filters add --name "Owls and herons" --track owl --track heron >/dev/null 2>&1
mkfifo "$T/feed"
"$BF" ingest --wait-replicas 1 --retries 1000 <"$T/feed" >>"$T/ingest.log" 2>&1 &
bf_track $!; FEED=$!
"$BF" gen --rate "$RATE" --count 0 --seed "$RANDOM" >"$T/feed" 2>>"$T/gen.log" &
bf_track $!; GEN=$!

# Who runs where, for the kill commands below.
{
    for h in a b c; do for p in ${HOST_PIDS[$h]}; do echo "$h $p"; done; done
    for n in m r1 r2; do
        case ${RN_ADDR[$n]} in 127.0.0.2) h=a;; 127.0.0.3) h=b;; *) h=c;; esac
        echo "$h ${RN_PID[$n]} redis $(rn "$n")"
    done
    for i in "${!SENT_PID[@]}"; do
        case ${SENT_ADDR[$i]} in 127.0.0.2) h=a;; 127.0.0.3) h=b;; *) h=c;; esac
        echo "$h ${SENT_PID[$i]} sentinel ${SENT_ADDR[$i]}:${SENT_PORT[$i]}"
    done
} >"$T/pids"

cat >&2 <<EOF

  birdfeed on three "hosts" — open any of
    host a   http://127.0.0.2:${HOST_PORT[a]}/
    host b   http://127.0.0.3:${HOST_PORT[b]}/
    host c   http://127.0.0.4:${HOST_PORT[c]}/

  Redis         $SENTINEL_URL  (master now: $(sentinel_master))
  PostgreSQL    $PG_URL
  feed          birdfeed gen --rate $RATE | birdfeed ingest --wait-replicas 1
  health        curl http://127.0.0.3:${HOST_PORT[b]}/api/health
  state, logs   $T

  Try a failure (the page keeps streaming; README "Several hosts" says what to expect):
    the Redis master     kill -9 \$(awk -v m="\$(redis-cli -h 127.0.0.2 -p ${SENT_PORT[0]} SENTINEL get-master-addr-by-name bf | paste -sd: -)" '\$3 == "redis" && \$4 == m {print \$2}' $T/pids)
    a whole host (b)     kill -9 \$(awk '\$1 == "b" {print \$2}' $T/pids)

  Ctrl-C stops everything.

EOF
while kill -0 "$FEED" 2>/dev/null && kill -0 "$GEN" 2>/dev/null; do sleep 1; done
echo "three-hosts: the feed stopped (see $T/ingest.log); stopping" >&2
exit 1

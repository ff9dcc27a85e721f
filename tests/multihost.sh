# tests/multihost.sh — helpers for tests that run Redis replication, Redis
# Sentinel and several "hosts" on loopback addresses (127.0.0.2, 127.0.0.3,
# …: all of 127.0.0.0/8 reaches this machine, so each address plays one
# host). Source it after tests/lib.sh (or tests/faults/lib.sh). Everything
# started here is tracked by bf_track and stopped on exit.
#
#   redis_node NAME ADDR [MASTER]   a redis-server at ADDR (a replica of node MASTER)
#   sentinels MASTER ADDR…          one Sentinel per ADDR watching node MASTER as "bf";
#                                   sets SENTINEL_URL and exports BIRDFEED_REDIS
#   sentinel_master                 "addr:port" the Sentinels name now
#   wait_failover OLD SECONDS       until the Sentinels name a master other than OLD
#                                   ("addr:port") and it answers ROLE as master
#   publish_on NAME ID JSON         publish_tweet on node NAME
#   rn_cut_off NAME                 the node partitioned off, still running

# Sentinel timings: down-after 2000 ms holds under ASan on 2 cores (a slow
# PING reply is not taken for a dead master); failover-timeout bounds a
# failover that stalls.
SENTINEL_DOWN_MS=${SENTINEL_DOWN_MS:-2000}
SENTINEL_FAILOVER_MS=${SENTINEL_FAILOVER_MS:-10000}
MASTER_NAME=bf

# free_port_on ADDR: a TCP port nobody listens on at ADDR (below the
# ephemeral range, like free_port).
free_port_on() { free_port "$1"; }

declare -A RN_ADDR RN_PORT RN_PID RN_MASTER

# redis_node NAME ADDR [MASTER]: a redis-server bound to ADDR on a free port,
# data and log in $T/redis-NAME, with the shipped configuration
# (deploy/redis.conf + deploy/redis-ha.conf; port, address, paths and the
# announced address set here). With MASTER (another node's NAME), a replica
# of it. REDIS_NODE_ARGS (an array) adds settings to every node.
REDIS_NODE_ARGS=()
# Started through bf_start (tests/lib.sh): a port lost to another process
# is chosen anew; a restart keeps its port (the Sentinels know it there) and
# waits for it instead.
redis_node() {
    local name=$1 addr=$2 master=${3:-} dir=$T/redis-$1 fixed=${RN_PORT[$1]:-}
    mkdir -p "$dir"
    RN_ADDR[$name]=$addr
    RN_MASTER[$name]=$master
    BF_START_SAME_PORT=${fixed:+1} bf_start "redis node $name" "$dir/redis.log" redis_node_once "$name" "$fixed"
}
redis_node_once() {
    local name=$1 addr=${RN_ADDR[$1]} master=${RN_MASTER[$1]} dir=$T/redis-$1
    RN_PORT[$name]=${2:-$(free_port_on "$addr")} || return 1
    # Copies, as /etc/redis holds them: Sentinel makes a server rewrite its
    # config file (CONFIG REWRITE); a restart reads it as rewritten.
    [ -f "$dir/redis.conf" ] || cp "$BF_ROOT/deploy/redis.conf" "$dir/redis.conf"
    [ -f "$dir/redis-ha.conf" ] || cp "$BF_ROOT/deploy/redis-ha.conf" "$dir/redis-ha.conf"
    local args=("$dir/redis.conf" --include "$dir/redis-ha.conf"
                --port "${RN_PORT[$name]}" --bind "$addr" --unixsocket "" --dir "$dir"
                --daemonize no --logfile "$dir/redis.log" --replica-announce-ip "$addr"
                --maxmemory 256mb "${REDIS_NODE_ARGS[@]}")
    [ -n "$master" ] && args+=(--replicaof "${RN_ADDR[$master]}" "${RN_PORT[$master]}")
    redis-server "${args[@]}" >>"$dir/redis.log" 2>&1 &
    RN_PID[$name]=$!; BF_START_PID=${RN_PID[$name]}
    bf_track "${RN_PID[$name]}"
    bf_wait_serving 10 "${RN_PID[$name]}" "${RN_PORT[$name]}" "$addr" &&
        redis-cli -h "$addr" -p "${RN_PORT[$name]}" ping >/dev/null 2>&1
}
# rn NAME: "addr:port" of node NAME; rn_cli NAME ARGS…: redis-cli to it.
rn() { echo "${RN_ADDR[$1]}:${RN_PORT[$1]}"; }
rn_cli() { local n=$1; shift; redis-cli -h "${RN_ADDR[$n]}" -p "${RN_PORT[$n]}" "$@"; }
# rn_kill NAME: SIGKILL the node.
rn_kill() { kill -KILL "${RN_PID[$1]}" 2>/dev/null; wait "${RN_PID[$1]}" 2>/dev/null; }
# rn_restart NAME: start a killed node again on its address and port, with
# what it had on disk (AOF) and as a master, the way a supervisor restarts
# it; the Sentinels turn it into a replica of the current master.
rn_restart() { local m=${RN_MASTER[$1]}; RN_MASTER[$1]=; redis_node "$1" "${RN_ADDR[$1]}"; RN_MASTER[$1]=$m; }
# rn_name ADDR:PORT: the node listening there.
rn_name() { local n; for n in "${!RN_ADDR[@]}"; do [ "$(rn "$n")" = "$1" ] && { echo "$n"; return 0; }; done; return 1; }
# publish_on NAME ID JSON: publish_tweet (lib.sh) on node NAME.
publish_on() { local n=$1; shift; publish_via "rn_cli $n" "$@"; }
# rn_cut_off NAME: cut the node off without stopping it, as a partition
# would: from now on it wants a password new clients lack (rn_cut_cli NAME
# ARGS… has it), and the Sentinels' and its replicas' connections are killed.
# Clients connected before keep their links, and ROLE still says master.
rn_cut_off() {
    local addr
    rn_cli "$1" CONFIG SET requirepass partitioned >/dev/null
    for addr in $(rn_cut_cli "$1" CLIENT LIST | sed -n 's/^id=[0-9]* addr=\([^ ]*\) .*name=sentinel-.*/\1/p'); do
        rn_cut_cli "$1" CLIENT KILL ADDR "$addr" >/dev/null
    done
    rn_cut_cli "$1" CLIENT KILL TYPE replica >/dev/null
}
rn_cut_cli() { local n=$1; shift; rn_cli "$n" --no-auth-warning -a partitioned "$@"; }

SENT_ADDR=(); SENT_PORT=(); SENT_PID=()
# sentinels MASTER ADDR…: one Sentinel per ADDR (on a free port there),
# monitoring node MASTER under the name bf with quorum 2. Sets SENTINEL_URL
# (redis+sentinel://addr:port,…/bf) and exports BIRDFEED_REDIS to it; waits
# until every Sentinel knows the master and its replicas.
sentinels() {
    local master=$1 addr i=0 hosts=""
    shift
    for addr in "$@"; do
        mkdir -p "$T/sentinel-$i"
        bf_start "Sentinel $i" "$T/sentinel-$i/sentinel.log" sentinel_once "$i" "$addr" "$master"
        hosts="$hosts${hosts:+,}$addr:${SENT_PORT[$i]}"
        i=$((i + 1))
    done
    SENTINEL_URL="redis+sentinel://$hosts/$MASTER_NAME"
    export BIRDFEED_REDIS=$SENTINEL_URL
    local replicas=0 n
    for n in "${!RN_MASTER[@]}"; do [ "${RN_MASTER[$n]}" = "$master" ] && replicas=$((replicas + 1)); done
    for i in "${!SENT_PORT[@]}"; do
        wait_until 20 sentinel_ready "$i" "$replicas" "$(($# - 1))" \
            || fail "Sentinel $i does not see the master, $replicas replicas and $(($# - 1)) other Sentinels (see $T/sentinel-$i/sentinel.log)"
    done
}
# sentinel_once I ADDR MASTER: one attempt at Sentinel I (bf_start).
sentinel_once() {
    local i=$1 addr=$2 master=$3 dir=$T/sentinel-$1 port
    port=$(free_port_on "$addr") || return 1
    # The shipped deploy/sentinel.conf, with this test's addresses, paths and timings.
    sed -e "s#^port .*#port $port#" -e "s#^bind .*#bind $addr#" -e "s#^dir .*#dir $dir#" \
        -e "s#^logfile .*#logfile $dir/sentinel.log#" \
        -e "s#^\# sentinel announce-ip .*#sentinel announce-ip $addr#" \
        -e "s#^sentinel monitor birdfeed .*#sentinel monitor $MASTER_NAME ${RN_ADDR[$master]} ${RN_PORT[$master]} 2#" \
        -e "s#^sentinel down-after-milliseconds birdfeed .*#sentinel down-after-milliseconds $MASTER_NAME $SENTINEL_DOWN_MS#" \
        -e "s#^sentinel failover-timeout birdfeed .*#sentinel failover-timeout $MASTER_NAME $SENTINEL_FAILOVER_MS#" \
        -e "s#^sentinel parallel-syncs birdfeed #sentinel parallel-syncs $MASTER_NAME #" \
        "$BF_ROOT/deploy/sentinel.conf" >"$dir/sentinel.conf"
    grep -q "^sentinel announce-ip $addr" "$dir/sentinel.conf" || fail "deploy/sentinel.conf: no announce-ip line to set"
    redis-server "$dir/sentinel.conf" --sentinel --daemonize no >>"$dir/sentinel.log" 2>&1 &
    SENT_PID[$i]=$!; SENT_ADDR[$i]=$addr; SENT_PORT[$i]=$port; BF_START_PID=${SENT_PID[$i]}
    bf_track "${SENT_PID[$i]}"
    bf_wait_serving 10 "${SENT_PID[$i]}" "$port" "$addr"
}
# sentinel_ready I REPLICAS OTHERS: Sentinel I knows the master, that many
# replicas up and that many other Sentinels.
sentinel_ready() {
    local s=(-h "${SENT_ADDR[$1]}" -p "${SENT_PORT[$1]}")
    redis-cli "${s[@]}" SENTINEL get-master-addr-by-name "$MASTER_NAME" | grep -q . || return 1
    [ "$(redis-cli "${s[@]}" SENTINEL replicas "$MASTER_NAME" | grep -cx 'slave')" -ge "$2" ] || return 1
    [ "$(redis-cli "${s[@]}" SENTINEL sentinels "$MASTER_NAME" | grep -cx 'sentinel')" -ge "$3" ]
}
# sentinel_master: "addr:port" of the master as the first Sentinel that answers names it.
sentinel_master() {
    local i out
    for i in "${!SENT_PORT[@]}"; do
        out=$(redis-cli -h "${SENT_ADDR[$i]}" -p "${SENT_PORT[$i]}" SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | paste -sd: -)
        [ -n "$out" ] && { echo "$out"; return 0; }
    done
    return 1
}
# wait_failover OLD SECONDS: until the Sentinels name a master other than OLD
# and that server says it is one.
wait_failover() {
    wait_until "$2" bash -c '
        m=$1; shift
        for s in "$@"; do
            out=$(redis-cli -h "${s%:*}" -p "${s##*:}" SENTINEL get-master-addr-by-name bf 2>/dev/null | paste -sd: -)
            [ -n "$out" ] && break
        done
        [ -n "$out" ] && [ "$out" != "$m" ] && redis-cli -h "${out%:*}" -p "${out##*:}" ROLE | head -1 | grep -qx master
    ' _ "$1" $(for i in "${!SENT_PORT[@]}"; do echo "${SENT_ADDR[$i]}:${SENT_PORT[$i]}"; done)
}

# wait_pid PID SECONDS: wait for PID (a child) to exit and return its status;
# after SECONDS, kill it and fail: a test never hangs on a stuck process.
wait_pid() {
    local end=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$SECONDS" -ge "$end" ]; then
            kill -KILL "$1" 2>/dev/null
            fail "process $1 still running after $2 s"
        fi
        sleep 0.1
    done
    wait "$1"
}

# ---- hosts: a web server, responders and an archiver per loopback address ----

declare -A HOST_ADDR HOST_PIDS HOST_PORT HOST_FCGI
# HOST_FCGI_ARGS (an array): what every host's birdfeed-fcgi gets besides
# --workers 2 and --listen (e.g. --redis-read replica).
HOST_FCGI_ARGS=()

# host_up NAME ADDR: host NAME at ADDR: birdfeed-fcgi (2 workers,
# BIRDFEED_NODE=ADDR: the node is named by its address, so that "the replica
# on this node" means the one announced at ADDR) and nginx in front of it
# (the shipped site), logs in $T/host-NAME. Sets HOST_PORT[NAME] (nginx's
# port at ADDR).
host_up() {
    local name=$1 addr=$2 dir=$T/host-$1
    mkdir -p "$dir"
    HOST_ADDR[$name]=$addr
    BIRDFEED_NODE=$addr FCGI_HOST=$addr FCGI_LOG=$dir/fcgi.log start_fcgi --workers 2 "${HOST_FCGI_ARGS[@]}"
    HOST_FCGI[$name]=$FCGI_ADDR
    HOST_PIDS[$name]=$FCGI_PID
    NGINX_HOST=$addr NGINX_DIR=$dir/nginx start_nginx
    HOST_PIDS[$name]+=" $NGINX_PID"
    HOST_PORT[$name]=$NGINX_PORT
}
# host_archiver NAME [archive args…]: `birdfeed archive` on host NAME into
# $PG_URL (BIRDFEED_NODE=its address, which is then its consumer name).
host_archiver() {
    local name=$1; shift
    BIRDFEED_NODE=${HOST_ADDR[$name]} "$BF" archive --db "$PG_URL" "$@" >>"$T/host-$name/archive.log" 2>&1 &
    bf_track $!
    HOST_PIDS[$name]+=" $!"
}
# host_kill NAME: SIGKILL everything on host NAME at once — its nginx and
# responders (with their workers), its archiver, and the Redis server and
# Sentinel at its address — as when the machine dies.
host_kill() {
    local name=$1 addr=${HOST_ADDR[$1]} pids=() p n i
    for p in ${HOST_PIDS[$name]}; do pids+=("$p" $(pgrep -P "$p")); done
    for n in "${!RN_ADDR[@]}"; do [ "${RN_ADDR[$n]}" = "$addr" ] && pids+=("${RN_PID[$n]}"); done
    for i in "${!SENT_ADDR[@]}"; do [ "${SENT_ADDR[$i]}" = "$addr" ] && pids+=("${SENT_PID[$i]}"); done
    kill -KILL "${pids[@]}" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    return 0
}
# host_urls NAME…: "addr:port,addr:port,…" of the hosts' web servers (for sseclient.py).
host_urls() { local n out=""; for n in "$@"; do out="$out${out:+,}${HOST_ADDR[$n]}:${HOST_PORT[$n]}"; done; echo "$out"; }

# ---- the three-host run (tests/faults/hosts_*.sh) ------------------------------
#
# Hosts a (127.0.0.2), b (.3), c (.4), each with nginx and responders; the
# Redis master on a, a replica on b and on c, a Sentinel on each; PostgreSQL
# beside a (a's own database server, never killed) with an archiver on a and
# on b in one consumer group. `ingest --wait-replicas 1` publishes N tweets
# through the Sentinels while EventSource-like clients (tests/faults/
# sseclient.py: Last-Event-ID, retry:, moving to another host when theirs is
# gone) read from all three hosts. The scenario function runs the faults.

# hosts_start: the servers and services above (no feed, no clients).
hosts_start() {
    redis_node m 127.0.0.2
    redis_node r1 127.0.0.3 m
    redis_node r2 127.0.0.4 m
    sentinels m 127.0.0.2 127.0.0.3 127.0.0.4
    start_postgres -c fsync=off
    "$BF" migrate --db "$PG_URL" >/dev/null 2>"$T/migrate.err" || fail "migrate: $(cat "$T/migrate.err")"
    export BIRDFEED_DB=$PG_URL          # the archive for every host's responders (GET /api/tweets) and archivers
    # Responders read from a replica when they can (the deployment the README
    # recommends across hosts: what a client sees then survives a failover).
    if "$BF_FCGI" --help 2>/dev/null | grep -q -- '--redis-read'; then HOST_FCGI_ARGS+=(--redis-read replica); fi
    HOST_FCGI_ARGS+=(--backoff-max-ms 1000 --heartbeat-ms 1000)
    host_up a 127.0.0.2
    host_up b 127.0.0.3
    host_up c 127.0.0.4
    host_archiver a --claim-idle-ms 3000 --block-ms 500
    host_archiver b --claim-idle-ms 3000 --block-ms 500
}
# hosts_setup: hosts_start, a start marker in the stream, and the clients
# reading through all three hosts. Sets HOSTS_CLIENTS (the clients' pid).
hosts_setup() {
    hosts_start
    HOSTS_START=1-0 HOSTS_END=$(( $(date +%s%3N) + 3600000 ))-0   # an hour ahead: after every tweet of the run
    hosts_publish "$HOSTS_START" '{"id":"start","text":"start","user":{"screen_name":"hosts"},"created_at":"2024-05-01T00:00:00Z"}'
    mkdir -p "$T/clients"
    python3 "$BF_ROOT/tests/faults/sseclient.py" "$(host_urls a b c)" /stream "$T/clients" "${HOSTS_NCLIENTS:-12}" \
        --from "$HOSTS_START" --until "$HOSTS_END" --timeout 240 --follow-retry --events >"$T/clients/summary" 2>&1 &
    HOSTS_CLIENTS=$!
    bf_track "$HOSTS_CLIENTS"
}
# hosts_begin N: hosts_setup, then hosts_ingest N, and 3 s of it before the faults.
hosts_begin() {
    hosts_setup
    hosts_ingest "$1"
    sleep 3
}
# hosts_publish ID JSON: one tweet with an explicit stream id through the
# current master (the start and end markers), XADD and PUBLISH in one
# script as every birdfeed publisher does. A master just promoted may refuse
# writes for a moment (NOREPLICAS until its replicas reconnect): asked again
# for up to 30 s, as a publisher retries.
hosts_publish() {
    local m n out end=$((SECONDS + 30))
    while :; do
        if m=$(sentinel_master) && n=$(rn_name "$m"); then
            out=$(rn_cli "$n" EVAL "local id = redis.call('XADD', KEYS[1], ARGV[1], 't', ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]) return id" 2 \
                "${BIRDFEED_PREFIX}tweets" "${BIRDFEED_PREFIX}live" "$1" "$2" 2>&1)
            [[ $out =~ ^[0-9]+-[0-9]+$ ]] && return 0
        fi
        [ "$SECONDS" -lt "$end" ] || fail "could not publish $1 on the master (${m:-none}): ${out:-no master}"
        sleep 0.2
    done
}
# hosts_ingest N: `birdfeed ingest --wait-replicas 1` of N tweets at
# HOSTS_RATE/s in the background (HOSTS_INGEST: its pid).
hosts_ingest() {
    "$BF" gen --count "$1" --seed 51 --canonical >"$T/in.ndjson"
    "$BF" ingest --wait-replicas 1 --rate "${HOSTS_RATE:-300}" --retries 100 --backoff-max-ms 1000 \
        "$T/in.ndjson" >"$T/ingest.out" 2>&1 &
    HOSTS_INGEST=$!
    bf_track "$HOSTS_INGEST"
}
# hosts_kill_master: SIGKILL the Redis master and wait for the failover.
# Sets KILLED (the node).
hosts_kill_master() {
    local old
    old=$(sentinel_master) || fail "no master to kill"
    KILLED=$(rn_name "$old")
    rn_kill "$KILLED"
    wait_failover "$old" 60 || fail "no failover within 60 s after the master $KILLED was killed"
}
# hosts_check N: the promises, after the faults: ingest exits 0 having
# ingested N; the master's stream holds each of them once; every client got
# exactly the stream's entries in order, with no answer but 200; the archive
# holds every tweet once.
hosts_check() {
    local n=$1 rc m mname want
    wait_pid "$HOSTS_INGEST" 240; rc=$?
    assert_eq "$rc" 0 "ingest exit status ($(tail -3 "$T/ingest.out" | tr '\n' ' '))"
    assert_contains "$(cat "$T/ingest.out")" "ingested $n, skipped 0, rejected 0" "ingest summary"
    hosts_publish "$HOSTS_END" '{"id":"end","text":"end","user":{"screen_name":"hosts"},"created_at":"2024-05-01T00:00:00Z"}'
    m=$(sentinel_master); mname=$(rn_name "$m")
    wait_pid "$HOSTS_CLIENTS" 240 || fail "SSE clients: $(cat "$T/clients/summary")"
    stream_each_once "$mname" "$T/in.ndjson" start end
    ok "ingest exit 0; the master ($mname) holds all $n tweets exactly once"
    rn_cli "$mname" XRANGE "${BIRDFEED_PREFIX}tweets" "($HOSTS_START" + | grep -E '^[0-9]+-[0-9]+$' >"$T/want"
    check_ids "$T/clients" "$T/want"
    for f in "$T"/clients/*.errors; do
        [ -e "$f" ] && fail "$(basename "$f" .errors): answers an EventSource gives up on: $(head -3 "$f" | tr '\n' ' ')"
    done
    ok "${HOSTS_NCLIENTS:-12} clients got every entry exactly once, in stream order, only 200 answers ($(cat "$T/clients/summary"))"
    want=$((n + 2))
    wait_until 60 sh -c "[ \"\$(psql -X -q -A -t -h 127.0.0.1 -p $PG_PORT -U postgres -d birdfeed -c 'SELECT count(*) FROM tweets')\" -ge $want ]" \
        || fail "archive: $(pg_sql 'SELECT count(*) FROM tweets') rows, want $want"
    sleep 1
    assert_eq "$(pg_sql 'SELECT count(*), count(DISTINCT tweet_id) FROM tweets')" "$want|$want" "archive rows | distinct tweets"
    ok "the archive holds every tweet exactly once ($want rows)"
    local l
    for l in "$T"/host-*/fcgi.log "$T"/host-*/archive.log; do no_sanitizer_report "$l"; done
}

# redis_trio: the Redis servers most tests use — master m on 127.0.0.2,
# replicas r1 on .3 and r2 on .4, one Sentinel on each address.
redis_trio() {
    redis_node m 127.0.0.2
    redis_node r1 127.0.0.3 m
    redis_node r2 127.0.0.4 m
    sentinels m 127.0.0.2 127.0.0.3 127.0.0.4
}
# stream_each_once NODE FILE [TWEET_ID…]: fail unless the stream on NODE
# holds each tweet of FILE (canonical NDJSON), and each extra TWEET_ID, once,
# and nothing else.
stream_each_once() {
    local node=$1 file=$2; shift 2
    rn_cli "$node" --raw XRANGE "${BIRDFEED_PREFIX}tweets" - + | grep '^{' | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
want = [json.loads(l)["id"] for l in open(sys.argv[1])] + sys.argv[2:]
dup = len(ids) - len(set(ids))
missing = set(want) - set(ids)
if dup or missing or len(ids) != len(want):
    sys.exit("stream: %d entries, %d duplicated tweet ids, %d tweets missing" % (len(ids), dup, len(missing)))' \
        "$file" "$@" || fail "the stream on $node does not hold each tweet once"
}

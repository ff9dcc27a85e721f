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

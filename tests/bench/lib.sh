# tests/bench/lib.sh — helpers the bench scripts share (run.sh, memory.sh,
# subscribers.sh, heartbeat.sh). Source it after tests/lib.sh, from the repository root.

# The SSE load client every scenario drives.
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload

# need_sseload SCRIPT: exit 2, saying how to build it, when sseload is missing.
need_sseload() {
    [ -x "$SSELOAD" ] || { echo "$1: $SSELOAD missing (make build/tests/bench/sseload)" >&2; exit 2; }
}

# direct_available: true when birdfeed-fcgi serves streams itself on a port
# of its own (--stream-listen, "direct streams"); else DIRECT_WHY says so.
direct_available() {
    "$BF_FCGI" --help 2>/dev/null | grep -q -- '--stream-listen' && return 0
    DIRECT_WHY="not available: birdfeed-fcgi has no --stream-listen (direct streams)"
    return 1
}

# start_direct [birdfeed-fcgi args…]: a responder on the unix socket
# $T/fcgi.sock (start_fcgi with FCGI_UNIX=1) that also serves GET /stream to
# clients itself on a free loopback port (--stream-listen): no web server in
# between. Sets DIRECT_PORT, DIRECT_URL (a stream with no preload) and what
# start_fcgi sets; waits until the stream port answers.
start_direct() { bf_start birdfeed-fcgi "${FCGI_LOG:-$T/fcgi.log}" start_direct_once "$@"; }
start_direct_once() {
    DIRECT_PORT=$(free_port) || return 1
    DIRECT_URL="http://127.0.0.1:$DIRECT_PORT/stream?preload=0"
    FCGI_UNIX=1 start_fcgi_once --stream-listen "127.0.0.1:$DIRECT_PORT" "$@" &&
        bf_wait_serving 10 "$FCGI_PID" "$DIRECT_PORT"
}

# wait_workers PID N: wait (10 s at most) until the responder PID has forked
# its N worker processes (--workers N), so that a list of its family taken
# next holds them all.
wait_workers() {
    [ "$2" -gt 1 ] || return 0
    wait_until 10 bash -c "[ \$(pgrep -c -P $1) -ge $2 ]"
}

# family PID: PID and its child processes, comma-separated.
family() { { echo "$1"; pgrep -P "$1"; } | paste -sd, -; }

# rss_kb PIDS: the summed RSS (kB) of the comma-separated PIDS, now.
rss_kb() {
    local p t=0
    for p in ${1//,/ }; do t=$((t + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0))); done
    echo "$t"
}

# tree_rss PID: the RSS (kB) of PID and its children as they are now (Apache
# starts children while streams arrive: a list taken earlier misses them).
tree_rss() { rss_kb "$(family "$1")"; }

# cpu_ms PIDS: user+system CPU time the comma-separated PIDS have used so far,
# in ms (a process that has ended counts 0).
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {
    local t=0 p
    for p in ${1//,/ }; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
    done
    echo $((t * 1000 / CLK_TCK))
}

# slab_kb: the kernel's Slab (kB), system-wide.
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

# generic_tuning [SITE]: the ">>> generic" block of the nginx site file
# (default deploy/nginx/birdfeed.conf) — nginx settings that are not about
# FastCGI — comments dropped, on one line: Nchan's server gets them too.
generic_tuning() {
    sed -n '/>>> generic/,/<<< generic/p' "${1:-deploy/nginx/birdfeed.conf}" |
        sed -e 's/#.*//' -e '/^[[:space:]]*$/d' | tr -s ' \n' ' '
}

# nginx_globals DIR WORKERS FDS: the top of an nginx.conf for the bench: the
# workers, their file descriptors, connections spread by the kernel, files in
# DIR, in the foreground.
nginx_globals() {
    cat <<EOF
worker_processes $2;
worker_rlimit_nofile $3;
pid $1/nginx.pid;
error_log $1/error.log warn;
daemon off;
$([ "$(id -u)" -eq 0 ] && echo "user root;")
events { worker_connections $(($3 - 1000)); multi_accept on; }
EOF
}

# bench_site SRC UPSTREAM LISTEN DIR: the nginx site file SRC on stdout with
# the responders at UPSTREAM (host:port or unix:PATH), `listen LISTEN;` and
# its logs in DIR.
bench_site() {
    sed -e "s#^\( *server \)[^ ;]*;#\1$2;#" -e "s#listen 80;#listen $3;#" -e "s#/var/log/nginx/#$4/#g" "$1"
}

# nginx_site_conf DIR WORKERS FDS SITE: nginx.conf in DIR around the site file
# SITE (already rendered), with temp paths in DIR and no access log.
nginx_site_conf() {
    local t
    { nginx_globals "$1" "$2" "$3"; echo "http { access_log off;"
      for t in client_body fastcgi proxy uwsgi scgi; do echo "  ${t}_temp_path $1/$t;"; done
      echo "  include $4; }"; } >"$1/nginx.conf"
}

# nginx_run DIR PORT: start nginx with DIR/nginx.conf, stopped on exit, and
# wait until PORT answers. Sets NGINX_RUN_PID; 1 (with the log's end on
# stderr) when it does not come up.
nginx_run() {
    nginx -p "$1" -e "$1/error.log" -c "$1/nginx.conf" >>"$1/stderr" 2>&1 &
    NGINX_RUN_PID=$!
    bf_track "$NGINX_RUN_PID"
    wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" && return 0
    echo "nginx did not start: $(tail -n 3 "$1/error.log" "$1/stderr" 2>/dev/null)" >&2
    return 1
}

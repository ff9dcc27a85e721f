#!/bin/bash
# The shipped deployment files are valid: systemd units pass
# `systemd-analyze verify` with no warning, deploy/redis.conf starts a Redis
# that persists and never evicts, the web-server configs pass their servers'
# own syntax checks.
. "$(dirname "$0")/../lib.sh"

# ---- systemd ---------------------------------------------------------------
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (deploy/install-deps.sh installs systemd)"
mkdir -p "$T/units"
cp "$BF_ROOT"/deploy/systemd/*.service "$BF_ROOT"/deploy/systemd/*.socket "$T/units/"
# verify checks that ExecStart= programs exist: point them at this build.
sed -i "s#/usr/local/bin/#$BIRDFEED_BUILD/#g" "$T"/units/*.service
units=(birdfeed-fcgi.socket birdfeed-fcgi.service birdfeed-archive.service)
verify() { (cd "$T/units" && systemd-analyze verify "${@/#/./}" 2>&1); }
out=$(verify "${units[@]}"); rc=$?
assert_eq "$rc" 0 "systemd-analyze verify exit code ($out)"
assert_eq "$out" "" "systemd-analyze verify output"
ok "systemd units verify cleanly: ${units[*]}"

# The verifier really looks: a misspelt directive is reported.
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$T/units/birdfeed-fcgi.service" > "$T/units/broken.service"
out=$(verify broken.service)
assert_contains "$out" "Unknown key 'NoNewPrivilege'" "verify reports a misspelt key"
ok "systemd-analyze verify catches a misspelt directive"

# Socket activation contract: the socket is handed over as fd 0, workers set.
svc="$BF_ROOT/deploy/systemd/birdfeed-fcgi.service"
grep -q '^StandardInput=socket$' "$svc" || fail "birdfeed-fcgi.service: StandardInput=socket missing"
grep -q '^ExecStart=.*birdfeed-fcgi .*--workers' "$svc" || fail "birdfeed-fcgi.service: --workers missing"
for u in birdfeed-fcgi.service birdfeed-archive.service; do
    for k in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes LimitNOFILE= RuntimeDirectory=; do
        grep -q "^$k" "$BF_ROOT/deploy/systemd/$u" || fail "$u: $k missing"
    done
done
ok "units hand the socket over as fd 0 and are hardened"

# The environment file example only names settings birdfeed knows.
while read -r var; do
    name=${var#BIRDFEED_}; name=$(echo "$name" | tr 'A-Z_' 'a-z-')
    "$BIRDFEED_BUILD/birdfeed-fcgi" --check-config 2>/dev/null | grep -q "^$name " \
        || fail "birdfeed.env.example names $var, which --check-config does not list"
done < <(sed -n 's/^#\? *\(BIRDFEED_[A-Z_]*\)=.*/\1/p' "$BF_ROOT/deploy/systemd/birdfeed.env.example" | sort -u)
ok "birdfeed.env.example names only known settings"

# ---- redis.conf ------------------------------------------------------------
# One attempt (bf_start): redis-server with the shipped file on port PORT
# (default a free one).
redis_conf_once() {
    port=${1:-$(free_port)} || return 1
    redis-server "$BF_ROOT/deploy/redis.conf" --port "$port" --dir "$T/r" --unixsocket "$T/r/redis.sock" \
        --logfile "$T/r/redis.log" --daemonize no &
    rpid=$!; BF_START_PID=$rpid
    bf_track "$rpid"
    bf_wait_serving 10 "$rpid" "$port" && redis-cli -p "$port" ping >/dev/null 2>&1
}
mkdir -p "$T/r"
bf_start "redis with deploy/redis.conf" "$T/r/redis.log" redis_conf_once
assert_eq "$(redis-cli -p "$port" config get appendonly | tail -1)" yes "appendonly"
assert_eq "$(redis-cli -p "$port" config get maxmemory-policy | tail -1)" noeviction "maxmemory-policy"
assert_contains "$(redis-cli -p "$port" config get bind | tail -1)" 127.0.0.1 "bind"
redis-cli -p "$port" xadd birdfeed:tweets '*' t '{"id":"1"}' >/dev/null
redis-cli -p "$port" hset birdfeed:filters 1 '{"id":"1"}' >/dev/null
kill -KILL "$rpid"; wait "$rpid" 2>/dev/null
BF_START_SAME_PORT=1 bf_start "redis with deploy/redis.conf, restarted" "$T/r/redis.log" redis_conf_once "$port"
wait_until 10 sh -c "[ \"\$(redis-cli -p $port xlen birdfeed:tweets)\" = 1 ]" || fail "stream lost across a SIGKILL restart"
assert_eq "$(redis-cli -p "$port" hlen birdfeed:filters)" 1 "filters after restart"
ok "deploy/redis.conf: AOF persistence survives SIGKILL, noeviction, loopback"

# ---- web-server configs: each server's own syntax check --------------------
sed -e "s#^var.birdfeed_state .*#var.birdfeed_state = \"$T\"#" \
    "$BF_ROOT/deploy/lighttpd/birdfeed.conf" > "$T/lighttpd.conf"
lighttpd -tt -f "$T/lighttpd.conf" >"$T/l.log" 2>&1 || fail "lighttpd -tt: $(cat "$T/l.log")"
ok "deploy/lighttpd/birdfeed.conf passes lighttpd -tt"
cat > "$T/httpd.conf" <<APACHE
ServerRoot "$T"
DefaultRuntimeDir "$T"
PidFile "$T/httpd.pid"
ServerName 127.0.0.1
Listen 127.0.0.1:$(free_port)
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
ErrorLog "$T/error.log"
Define APACHE_LOG_DIR $T
Include "$T/site.conf"
APACHE
sed -e "s#^Define BIRDFEED_WWW .*#Define BIRDFEED_WWW $BF_ROOT/deploy/www#" \
    "$BF_ROOT/deploy/apache/birdfeed.conf" > "$T/site.conf"
apache2 -t -f "$T/httpd.conf" >"$T/a.log" 2>&1 || fail "apache2 -t: $(cat "$T/a.log")"
ok "deploy/apache/birdfeed.conf passes apache2 -t"

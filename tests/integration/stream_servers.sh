#!/bin/bash
# The responder behind lighttpd (mod_fastcgi) and Apache (mod_proxy_fcgi),
# each mounted under a prefix: REST routes resolve whatever SCRIPT_NAME /
# PATH_INFO / REQUEST_URI convention the server uses, and stream events pass
# through one by one (lighttpd's server.stream-response-body = 2, Apache's
# flushpackets=on, as deploy/lighttpd and deploy/apache configure them).
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --heartbeat-ms 1000
n=0
check_server() {   # NAME BASE_URL
    local name=$1 base=$2 code
    wait_until 10 bash -c "curl -sf '$base/api/health' >/dev/null" || fail "$name: GET /api/health"
    code=$(curl -s -o "$T/b" -w '%{http_code}' "$base/api/nothing")
    assert_eq "$code" 404 "$name: unknown route"
    assert_contains "$(cat "$T/b")" '"code":"not_found"' "$name: 404 JSON"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/stream?preload=x")
    assert_eq "$code" 400 "$name: bad stream parameter"
    curl -sN "$base/stream?preload=0" >"$T/$name.s" &
    local cp=$!
    wait_until 10 grep -q '^retry:' "$T/$name.s" || fail "$name: stream did not start: $(cat "$T/$name.s")"
    for _ in 1 2 3; do
        n=$((n + 1))
        publish_tweet "6000-$n" "{\"id\":\"$n\",\"text\":\"via $name\"}"
        wait_until 10 grep -q "^id: 6000-$n" "$T/$name.s" || fail "$name: event $n not passed on at once"
    done
    kill "$cp"; wait "$cp" 2>/dev/null
    ok "$name: REST routes under a prefix, 400/404 JSON, events streamed one by one"
}

# lighttpd, prefix /bf
LPORT=$(free_port); mkdir -p "$T/lighttpd/www"
cat >"$T/lighttpd/lighttpd.conf" <<CONF
server.modules = ("mod_fastcgi")
server.document-root = "$T/lighttpd/www"
server.bind = "127.0.0.1"
server.port = $LPORT
server.errorlog = "$T/lighttpd/error.log"
server.stream-response-body = 2
fastcgi.server = ("/bf" => (("host" => "127.0.0.1", "port" => $FCGI_PORT, "check-local" => "disable")))
CONF
lighttpd -D -f "$T/lighttpd/lighttpd.conf" >"$T/lighttpd/out.log" 2>&1 &
bf_track $!
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LPORT" || fail "lighttpd did not start: $(cat "$T/lighttpd/out.log")"
check_server lighttpd "http://127.0.0.1:$LPORT/bf"

# Apache mod_proxy_fcgi, prefix /birdfeed
APORT=$(free_port); A=$T/apache; mkdir -p "$A"
M=/usr/lib/apache2/modules
cat >"$A/httpd.conf" <<CONF
ServerRoot "$A"
ServerName localhost
Listen 127.0.0.1:$APORT
PidFile "$A/httpd.pid"
ErrorLog "$A/error.log"
DefaultRuntimeDir "$A"
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_fcgi_module $M/mod_proxy_fcgi.so
User www-data
Group www-data
ProxyPass "/birdfeed/" "fcgi://127.0.0.1:$FCGI_PORT/" flushpackets=on timeout=3600
CONF
apache2 -f "$A/httpd.conf" -DFOREGROUND >"$A/out.log" 2>&1 &
bf_track $!
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$APORT" || fail "apache did not start: $(cat "$A/out.log" "$A/error.log")"
check_server apache "http://127.0.0.1:$APORT/birdfeed"

stop_fcgi

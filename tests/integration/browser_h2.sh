#!/bin/bash
# HTTP/2 + TLS, the browser's view: the shipped nginx site with its TLS lines
# turned on (a self-signed certificate made here, which Chromium accepts by its
# key only), headless Chromium (tests/browser/h2.js) opens ten EventSource
# streams to one origin. Over HTTP/2 all ten receive events; over HTTP/1.1
# the same page gets six and the others wait (and start when one closes);
# after a responder restart every h2 stream resumes with Last-Event-ID,
# missing and repeating nothing. curl checks the same over h2 for Apache
# (mod_http2) and, when lighttpd-mod-openssl is installed, lighttpd.
. "$(dirname "$0")/../lib.sh"

need_chromium

# A self-signed certificate for 127.0.0.1 and the SPKI hash Chromium trusts.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 || fail "openssl: $(cat "$T/openssl.log")"
SPKI=$(openssl x509 -in "$T/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

start_redis
FCGI_ARGS=(--workers 2 --heartbeat-ms 2000 --retry-ms 500)
start_fcgi "${FCGI_ARGS[@]}"
TLS_PORT=$(free_port)
grep -q '^ *#listen 443 ssl http2;' "$BF_ROOT/deploy/nginx/birdfeed.conf" || fail "the shipped nginx site has no commented TLS lines"
NGINX_SED="s|#listen 443 ssl http2;|listen 127.0.0.1:$TLS_PORT ssl http2;|; s|#ssl_certificate .*|ssl_certificate $T/cert.pem;|; s|#ssl_certificate_key .*|ssl_certificate_key $T/key.pem;|"
start_nginx
wait_until 10 curl -sfk "https://127.0.0.1:$TLS_PORT/api/health" || fail "nginx over TLS: no health (see $T/nginx/error.log)"
proto=$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$TLS_PORT/api/health")
assert_eq "$proto" 2 "nginx's TLS port speaks HTTP/2"

# Tweets flow all along (5 a second).
start_feed 5 7

fcgi_restart_script "$T/restart.sh" 1 "${FCGI_ARGS[@]}"
export BF_RESTART="bash $T/restart.sh"
export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '${BIRDFEED_PREFIX}tweets' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
export BF_SPKI=$SPKI BF_PROFILE=$T/chromium-profile BF_CHROMIUM=$CHROMIUM

timeout 150 node "$BF_ROOT/tests/browser/h2.js" "https://127.0.0.1:$TLS_PORT" "$BASE_URL" 2>&1 | tee "$T/h2.log"
rc=${PIPESTATUS[0]}
[ -s "$T/restart.sh.pid" ] && bf_track "$(cat "$T/restart.sh.pid")"
[ "$rc" -eq 0 ] || fail "Chromium check failed (exit $rc)"
log_grep "$T/nginx/birdfeed-access.log" -q '"GET /stream HTTP/2.0"' ||
    fail "nginx's access log shows no /stream over HTTP/2.0: $(tail -n 3 "$T/nginx/birdfeed-access.log")"
ok "nginx logged the streams as HTTP/2.0"

# h2_stream NAME URL: /stream over HTTP/2 answers 200 and carries tweets.
h2_stream() {
    curl -skN --http2 --max-time 4 -D "$T/$1.h" "$2/stream?preload=0" >"$T/$1.body" 2>/dev/null
    assert_contains "$(head -n 1 "$T/$1.h")" "HTTP/2 200" "$1: /stream over TLS"
    grep -q '^event: tweet' "$T/$1.body" || fail "$1: no tweet over h2 in 4 s: $(head -c 300 "$T/$1.body")"
}
# The shipped TLS lines, uncommented: config lines are commented as "#x"
# (no space), prose as "# x".
uncomment='/---- TLS and HTTP\/2/,/end of TLS and HTTP\/2/ s/^\( *\)#\([^ ]\)/\1\2/'

# Apache: the VirtualHost over TLS with Protocols h2 (mod_http2).
APACHE_SCHEME=https
APACHE_SED="$uncomment; s#/etc/ssl/certs/birdfeed.pem#$T/cert.pem#; s#/etc/ssl/private/birdfeed.key#$T/key.pem#"
start_apache
h2_stream apache "$APACHE_URL"
ok "Apache (mod_ssl + mod_http2, shipped TLS lines) streams events over HTTP/2"

# lighttpd: its TLS socket (needs Debian's lighttpd-mod-openssl).
if [ -f /usr/lib/lighttpd/mod_openssl.so ]; then
    LTLS_PORT=$(free_port)
    LIGHTTPD_SED="$uncomment; s#0.0.0.0:443#127.0.0.1:$LTLS_PORT#; s#/etc/ssl/certs/birdfeed.pem#$T/cert.pem#; s#/etc/ssl/private/birdfeed.key#$T/key.pem#"
    start_lighttpd
    h2_stream lighttpd "https://127.0.0.1:$LTLS_PORT"
    ok "lighttpd (mod_openssl, shipped TLS lines) streams events over HTTP/2"
else
    fail "lighttpd-mod-openssl is not installed (deploy/install-deps.sh installs it)"
fi

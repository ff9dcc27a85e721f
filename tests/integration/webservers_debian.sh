#!/bin/bash
# The documented install steps take effect on a stock Debian server: copies
# of this machine's /etc/nginx, /etc/apache2 and /etc/lighttpd (as the
# Debian packages install them) go to a temp root, deploy/install-web.sh
# runs against them, and each server starts from its own tree on a loopback
# port, its paths moved under the temp root (nothing else changed). Through
# each, /stream, /api/ and the page answer for any Host. First, the way the
# README used to say (the file dropped in, the default site left on) is
# shown failing, so the test knows what it fixes: nginx answers /stream
# with 404 for every Host, Apache reaches birdfeed only for
# Host: birdfeed.localhost.
. "$(dirname "$0")/../lib.sh"

for d in /etc/nginx /etc/apache2 /etc/lighttpd; do
    [ -d "$d" ] || fail "$d missing (deploy/install-deps.sh installs nginx, apache2, lighttpd)"
done
start_redis
publish_tweet "3000-1" '{"id":"1","text":"debian layout","user":{"screen_name":"deb"}}' || fail "publish"
start_fcgi --retry-ms 1500 --heartbeat-ms 1000     # Apache notices a gone client at its next write

R=$T/root                       # the fake machine: etc/, var/, run/, and birdfeed under usr/local/share
mkdir -p "$R/etc" "$R/var/log/nginx" "$R/var/log/apache2" "$R/var/log/lighttpd" "$R/var/lib/nginx" \
         "$R/run" "$R/usr/local/share/birdfeed"
cp -a /etc/nginx /etc/apache2 /etc/lighttpd "$R/etc/"
cp -R "$BF_ROOT/deploy" "$R/usr/local/share/birdfeed/"     # what `make install` puts there
chmod -R a+rX "$R"
# The log directories as the packages make them (lighttpd writes its logs as www-data).
for d in nginx apache2 lighttpd; do chown --reference="/var/log/$d" "$R/var/log/$d"; chmod --reference="/var/log/$d" "$R/var/log/$d"; done
INSTALL=$R/usr/local/share/birdfeed/deploy/install-web.sh

# relocate SERVER PORT: point every path of that server's tree at $R and
# its port 80 at PORT on loopback. Run after each change to the tree.
relocate() {
    local s=$1 port=$2 dir=$R/etc/$1 f l t
    [ "$s" = apache ] && dir=$R/etc/apache2
    # Absolute symlinks into the tree (Debian's sites-enabled/default) point into the copy.
    while IFS= read -r l; do
        t=$(readlink "$l")
        case $t in /etc/*) ln -sfn "$R$t" "$l";; esac
    done < <(find "$dir" -type l)
    while IFS= read -r f; do
        sed -i -E \
            -e "s#(^|[^A-Za-z0-9_/])/etc/(nginx|apache2|lighttpd)#\\1$R/etc/\\2#g" \
            -e "s#(^|[^A-Za-z0-9_/])/var/log/(nginx|apache2|lighttpd)#\\1$R/var/log/\\2#g" \
            -e "s#(^|[^A-Za-z0-9_/])/var/(run|lock)/apache2#\\1$R/var/\\2/apache2#g" \
            -e "s#(^|[^A-Za-z0-9_/])/run/(nginx|lighttpd)\\.pid#\\1$R/run/\\2.pid#g" \
            -e "s#(^|[^A-Za-z0-9_/])/var/cache/lighttpd#\\1$R/var/cache/lighttpd#g" \
            -e "s#^([[:space:]]*listen[[:space:]]+)80([ ;])#\\1127.0.0.1:$port\\2#" \
            -e "s#^([[:space:]]*listen[[:space:]]+)\\[::\\]:80([ ;])#\\1[::1]:$port\\2#" \
            -e "s#^Listen 80\$#Listen 127.0.0.1:$port#" \
            -e "s#<VirtualHost \\*:80>#<VirtualHost *:$port>#" \
            -e "s#^Define BIRDFEED_PORT .*#Define BIRDFEED_PORT   $port#" \
            -e "s#^(server.port[[:space:]]*=[[:space:]]*)80\$#\\1$port#" \
            -e "s#^server.bind .*#server.bind         = \"127.0.0.1\"#" \
            "$f"
    done < <(find "$dir" -type f)
}

PROBE=probe-token-$RANDOM$RANDOM     # sent as ?access_token=: must reach no log
# get URL HOST: status code and body of a GET (3 s at most: /stream never ends).
get() { CODE=$(curl -s -m 3 -o "$T/body" -w '%{http_code}' -H "Host: $2" "$1"); BODY=$(cat "$T/body"); }
# reach NAME BASE: /stream, /api/health and / answer birdfeed's for any Host.
reach() {
    local name=$1 base=$2 host
    for host in example.org 127.0.0.1 birdfeed.localhost; do
        get "$base/stream?preload=1&access_token=$PROBE" "$host"
        assert_eq "$CODE" 200 "$name: /stream for Host: $host"
        assert_contains "$BODY" "id: 3000-1" "$name: /stream for Host: $host"
        get "$base/api/health" "$host"
        assert_eq "$CODE" 200 "$name: /api/health for Host: $host ($BODY)"
        get "$base/" "$host"
        assert_contains "$BODY" '<script src="app.js"' "$name: the page for Host: $host"
    done
}

# ---- nginx ---------------------------------------------------------------------
NPORT=$(free_port)
# Test isolation only: nginx's compiled-in temporary directories are under /var/lib/nginx.
printf '%s_temp_path %s/var/lib/nginx/%s;\n' client_body "$R" body fastcgi "$R" fastcgi proxy "$R" proxy \
    uwsgi "$R" uwsgi scgi "$R" scgi >"$R/etc/nginx/conf.d/00-test-temp-paths.conf"
# Debian's prefix (/usr/share/nginx): the stock config loads modules relative to it.
run_nginx() {
    nginx -t -q -p /usr/share/nginx/ -c "$R/etc/nginx/nginx.conf" -e "$R/var/log/nginx/error.log" \
        >"$T/nginx-t.log" 2>&1 || fail "nginx -t on the Debian tree: $(cat "$T/nginx-t.log")"
    nginx -p /usr/share/nginx/ -c "$R/etc/nginx/nginx.conf" -e "$R/var/log/nginx/error.log" -g 'daemon off;' &
    NGINX_PID=$!
    bf_track "$NGINX_PID"
    wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NPORT" || fail "nginx on the Debian tree did not start"
}
stop_pid() { kill -TERM "$1"; wait_until 20 bash -c "! kill -0 $1" || fail "process $1 did not stop"; }

# Before: the file dropped into conf.d, Debian's default site still enabled.
sed -e "s#/usr/local/share/birdfeed#$R/usr/local/share/birdfeed#g" -e "s#127\\.0\\.0\\.1:9000#$FCGI_ADDR#" \
    "$BF_ROOT/deploy/nginx/birdfeed.conf" >"$R/etc/nginx/conf.d/birdfeed.conf"
relocate nginx "$NPORT"
run_nginx
get "http://127.0.0.1:$NPORT/stream" example.org
assert_eq "$CODE" 404 "nginx, default site left on: /stream (the default server takes it)"
stop_pid "$NGINX_PID"
rm "$R/etc/nginx/conf.d/birdfeed.conf"
ok "nginx: with Debian's default site enabled, /stream is a 404 for every Host (what install-web.sh fixes)"

"$INSTALL" --etc "$R/etc" --fcgi "$FCGI_ADDR" nginx >"$T/install-nginx.log" || fail "install-web.sh nginx: $(cat "$T/install-nginx.log")"
[ -e "$R/etc/nginx/sites-enabled/default" ] && fail "install-web.sh left the default site enabled"
relocate nginx "$NPORT"
run_nginx
reach nginx "http://127.0.0.1:$NPORT"
nginx -T -q -p /usr/share/nginx/ -c "$R/etc/nginx/nginx.conf" -e "$R/var/log/nginx/error.log" 2>/dev/null \
    | grep -q '^worker_shutdown_timeout 10s;' || fail "nginx: worker_shutdown_timeout not in effect"
ok "nginx: after install-web.sh, /stream, /api/ and / answer for any Host; worker_shutdown_timeout in effect"
stop_pid "$NGINX_PID"

# ---- Apache --------------------------------------------------------------------
APORT=$(free_port)
export APACHE_CONFDIR=$R/etc/apache2
run_apache() {
    (   # Debian's apache2ctl reads envvars the same way.
        . "$R/etc/apache2/envvars"
        mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
        apache2 -d "$R/etc/apache2" -f "$R/etc/apache2/apache2.conf" -t >"$T/apache-t.log" 2>&1 \
            || { echo "apache2 -t: $(cat "$T/apache-t.log")" >&2; exit 1; }
        exec apache2 -d "$R/etc/apache2" -f "$R/etc/apache2/apache2.conf" -DFOREGROUND
    ) >>"$T/apache.out" 2>&1 &
    APACHE_PID=$!
    bf_track "$APACHE_PID"
    wait_until 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$APORT" \
        || fail "apache on the Debian tree did not start: $(tail -n 5 "$T/apache.out" "$R"/var/log/apache2/*.log 2>/dev/null)"
}

# Before: the site enabled, 000-default left on.
"$INSTALL" --etc "$R/etc" --fcgi "$FCGI_ADDR" --keep-default-site apache >"$T/install-apache0.log" 2>&1 \
    || fail "install-web.sh apache --keep-default-site: $(cat "$T/install-apache0.log")"
assert_contains "$(cat "$T/install-apache0.log")" "000-default stays enabled" "the warning when keeping 000-default"
relocate apache "$APORT"
run_apache
get "http://127.0.0.1:$APORT/stream?preload=1" example.org
[ "$CODE" = 200 ] && fail "apache, 000-default left on: /stream reached birdfeed for Host: example.org"
get "http://127.0.0.1:$APORT/stream?preload=1" birdfeed.localhost
assert_eq "$CODE" 200 "apache, 000-default left on: /stream for Host: birdfeed.localhost"
stop_pid "$APACHE_PID"
ok "apache: with 000-default enabled, only Host: birdfeed.localhost reaches birdfeed (what install-web.sh fixes)"

"$INSTALL" --etc "$R/etc" --fcgi "$FCGI_ADDR" apache >"$T/install-apache.log" 2>&1 \
    || fail "install-web.sh apache: $(cat "$T/install-apache.log")"
[ -e "$R/etc/apache2/sites-enabled/000-default.conf" ] && fail "install-web.sh left 000-default enabled"
[ -e "$R/var/lib/apache2/site/enabled_by_admin/birdfeed" ] || fail "a2ensite's record is not under the temp root"
relocate apache "$APORT"
run_apache
reach apache "http://127.0.0.1:$APORT"
ok "apache: after install-web.sh, /stream, /api/ and / answer for any Host"
stop_pid "$APACHE_PID"

# ---- lighttpd ------------------------------------------------------------------
LPORT=$(free_port)
"$INSTALL" --etc "$R/etc" --fcgi "$FCGI_ADDR" lighttpd >"$T/install-lighttpd.log" || fail "install-web.sh lighttpd"
relocate lighttpd "$LPORT"
dropin=$R/etc/systemd/system/lighttpd.service.d/birdfeed.conf
[ -f "$dropin" ] || fail "no systemd drop-in for lighttpd"
# Run what the drop-in tells systemd to run (ExecStartPre, then ExecStart).
pre=$(sed -n 's/^ExecStartPre=\(.\+\)$/\1/p' "$dropin")
start=$(sed -n 's/^ExecStart=\(.\+\)$/\1/p' "$dropin")
assert_eq "$start" "/usr/sbin/lighttpd -D -f $R/etc/lighttpd/birdfeed.conf" "the drop-in's ExecStart"
$pre >"$T/lighttpd-tt.log" 2>&1 || fail "lighttpd -tt: $(cat "$T/lighttpd-tt.log")"
log_grep "$T/lighttpd-tt.log" -q WARNING && fail "lighttpd warns: $(cat "$T/lighttpd-tt.log")"
$start >>"$T/lighttpd.out" 2>&1 &
LPID=$!
bf_track "$LPID"
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LPORT" || fail "lighttpd did not start: $(cat "$T/lighttpd.out")"
reach lighttpd "http://127.0.0.1:$LPORT"
ok "lighttpd: the drop-in runs deploy's config; /stream, /api/ and / answer for any Host"
stop_pid "$LPID"

need_log "$R/var/log" "$T/fcgi.log"
hits=$(grep -rl -- "$PROBE" "$R/var/log" "$T/fcgi.log" 2>/dev/null)
assert_eq "$hits" "" "logs holding a ?access_token= (Debian's stock logs included)"
ok "no ?access_token= in any log of the three servers' Debian layouts"

# The system's own trees were only read.
for d in /etc/nginx/sites-enabled/default /etc/apache2/sites-enabled/000-default.conf; do
    [ -e "$d" ] || fail "$d is gone: the test touched the system's tree"
done
[ -e /var/lib/apache2/site/enabled_by_admin/birdfeed ] && fail "a2ensite wrote into the system's /var/lib/apache2"
ok "the machine's /etc and /var/lib/apache2 untouched"

#!/bin/sh
# Install birdfeed's web-server config into a Debian (or Ubuntu) layout.
#
#   deploy/install-web.sh [options] nginx|apache|lighttpd
#
#   --etc DIR           the configuration root (default /etc); for another
#                       root, a2enmod keeps its state in DIR/../var/lib/apache2
#   --share DIR         where birdfeed's deploy/ lives, served from there
#                       (default: the directory above this script's deploy/,
#                       /usr/local/share/birdfeed after `make install`)
#   --fcgi HOST:PORT    the responders' FastCGI address (default 127.0.0.1:9000)
#   --keep-default-site leave the distribution's default site enabled
#
# What it does, so you can do it by hand instead:
#   nginx     sites-available/birdfeed (+ symlink in sites-enabled/),
#             modules-enabled/90-birdfeed-main.conf (nginx.conf's top level
#             reads that directory: worker_shutdown_timeout lives there),
#             and removes sites-enabled/default: Debian's default site is
#             `listen 80 default_server; server_name _;` and would take every
#             request, so /stream would be a 404.
#   apache    sites-available/birdfeed.conf, a2enmod proxy proxy_fcgi headers
#             env alias asis, a2ensite birdfeed, a2dissite 000-default: the
#             first site is the default virtual host, and 000-default sorts
#             first, so only Host: birdfeed.localhost would reach birdfeed.
#   lighttpd  lighttpd/birdfeed.conf (a complete server config) and a systemd
#             drop-in, lighttpd.service.d/birdfeed.conf, that runs it instead
#             of lighttpd.conf (which stays as it is).
# Then check and reload the server (the script prints the commands).
# Run it again after upgrading birdfeed: it overwrites its own files only.
set -eu

usage() { sed -n '2,30s/^# \{0,1\}//p' "$0"; }
die() { echo "install-web.sh: $*" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
ETC=/etc
SHARE=$(dirname "$here")
FCGI=127.0.0.1:9000
KEEP_DEFAULT=0
while [ $# -gt 0 ]; do
    case $1 in
        --etc) [ $# -ge 2 ] || die "--etc needs a directory"; ETC=$2; shift 2 ;;
        --share) [ $# -ge 2 ] || die "--share needs a directory"; SHARE=$2; shift 2 ;;
        --fcgi) [ $# -ge 2 ] || die "--fcgi needs HOST:PORT"; FCGI=$2; shift 2 ;;
        --keep-default-site) KEEP_DEFAULT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }
server=$1
case $FCGI in *:*) ;; *) die "--fcgi: '$FCGI' is not HOST:PORT" ;; esac
[ -f "$SHARE/deploy/www/index.html" ] || die "$SHARE/deploy/www/index.html missing (is --share right?)"

# render SRC DEST: the shipped file with this host's paths and address.
render() {
    sed -e "s#/usr/local/share/birdfeed#$SHARE#g" \
        -e "s#127\.0\.0\.1:9000#$FCGI#g" \
        -e "s#^var.birdfeed_host .*#var.birdfeed_host   = \"${FCGI%:*}\"#" \
        -e "s#^var.birdfeed_port .*#var.birdfeed_port   = ${FCGI##*:}#" \
        "$1" >"$2.tmp"
    chmod 644 "$2.tmp"
    mv "$2.tmp" "$2"
    echo "installed $2"
}

case $server in
nginx)
    d=$ETC/nginx
    { [ -d "$d/sites-available" ] && [ -d "$d/sites-enabled" ]; } || die "$d has no sites-available/sites-enabled (not Debian's layout)"
    render "$here/nginx/birdfeed.conf" "$d/sites-available/birdfeed"
    ln -sfn ../sites-available/birdfeed "$d/sites-enabled/birdfeed"
    if grep -q '^[[:space:]]*include[[:space:]].*modules-enabled/\*\.conf' "$d/nginx.conf" 2>/dev/null; then
        render "$here/nginx/birdfeed-main.conf" "$d/modules-enabled/90-birdfeed-main.conf"
    else
        echo "note: $d/nginx.conf does not include modules-enabled/*.conf at its top level;" \
             "add the lines of $here/nginx/birdfeed-main.conf there yourself"
    fi
    if [ -e "$d/sites-enabled/default" ] || [ -L "$d/sites-enabled/default" ]; then
        if [ "$KEEP_DEFAULT" = 1 ]; then
            echo "warning: $d/sites-enabled/default stays enabled: it is the default server on port 80," \
                 "so birdfeed answers only requests whose Host no other site claims" >&2
        else
            rm -f "$d/sites-enabled/default"
            echo "disabled Debian's default site ($d/sites-enabled/default; undo: ln -s ../sites-available/default $d/sites-enabled/default)"
        fi
    fi
    echo "next: nginx -t && systemctl reload nginx"
    ;;
apache)
    d=$ETC/apache2
    [ -d "$d/sites-available" ] || die "$d/sites-available missing (not Debian's layout)"
    render "$here/apache/birdfeed.conf" "$d/sites-available/birdfeed.conf"
    export APACHE_CONFDIR="$d"
    # a2enmod records what the admin enabled under /var/lib/apache2: keep a
    # tree other than /etc apart from the system's records.
    if [ "$ETC" != /etc ] && [ -z "${APACHE_STATE_DIRECTORY:-}" ]; then
        APACHE_STATE_DIRECTORY=$(cd "$ETC/.." && pwd)/var/lib/apache2
        mkdir -p "$APACHE_STATE_DIRECTORY"
        export APACHE_STATE_DIRECTORY
    fi
    a2enmod -q proxy proxy_fcgi headers env alias asis
    a2ensite -q birdfeed
    if [ -e "$d/sites-enabled/000-default.conf" ]; then
        if [ "$KEEP_DEFAULT" = 1 ]; then
            echo "warning: 000-default stays enabled: it sorts first, so it is the default virtual host and" \
                 "only Host: birdfeed.localhost reaches birdfeed" >&2
        else
            a2dissite -q 000-default
            echo "disabled Debian's default site 000-default (undo: a2ensite 000-default)"
        fi
    fi
    echo "next: apache2ctl configtest && systemctl reload apache2"
    ;;
lighttpd)
    d=$ETC/lighttpd
    [ -d "$d" ] || die "$d missing"
    render "$here/lighttpd/birdfeed.conf" "$d/birdfeed.conf"
    mkdir -p "$ETC/systemd/system/lighttpd.service.d"
    cat >"$ETC/systemd/system/lighttpd.service.d/birdfeed.conf" <<EOF
# Written by birdfeed's deploy/install-web.sh: lighttpd runs birdfeed's
# complete server config instead of lighttpd.conf.
[Service]
ExecStartPre=
ExecStartPre=/usr/sbin/lighttpd -tt -f $d/birdfeed.conf
ExecStart=
ExecStart=/usr/sbin/lighttpd -D -f $d/birdfeed.conf
EOF
    echo "installed $ETC/systemd/system/lighttpd.service.d/birdfeed.conf"
    echo "next: lighttpd -tt -f $d/birdfeed.conf && systemctl daemon-reload && systemctl restart lighttpd"
    ;;
*) die "unknown server '$server': nginx, apache or lighttpd" ;;
esac

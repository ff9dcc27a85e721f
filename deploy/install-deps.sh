#!/bin/sh
# Install the Debian packages birdfeed needs to build, test and run.
# Idempotent: only what is missing is installed. Works as root or via sudo.
# BIRDFEED_DEPS_EXTRA adds packages (e.g. for benchmarks).
# libnginx-mod-nchan is the peer that make bench and the sseload test compare with.
# lighttpd-mod-openssl gives lighttpd TLS, so browsers can speak HTTP/2 to it.
# nghttp2-client (h2load) lets tests/bench/memory.sh measure streams over HTTP/2.
set -eu
PKGS="build-essential libfcgi-dev libhiredis-dev libjson-c-dev libicu-dev libsqlite3-dev libpq-dev libssl-dev libxml2-dev
libcurl4-openssl-dev libwebsockets-dev python3-websockets openssl
redis-server redis-tools nginx lighttpd apache2 spawn-fcgi postgresql
curl python3 procps psmisc iproute2 clang libclang-rt-14-dev valgrind
libnginx-mod-nchan systemd chromium lighttpd-mod-openssl nghttp2-client ${BIRDFEED_DEPS_EXTRA:-}"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js (for the browser/EventSource tests) only when no node is present.
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"

[ -z "$missing" ] && exit 0
echo "birdfeed: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Debian's packages would start their services under a real init; we never want that here.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

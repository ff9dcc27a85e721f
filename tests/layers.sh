#!/bin/sh
# tests/layers.sh — modules in layers: fails when the #include graph of lib/,
# fcgi/ or cli/ has a cycle, or when lib/ includes a header of fcgi/ or cli/.
#
# A module is NAME.c + NAME.h in one directory, with the files NAME_PART.c /
# NAME_PART.h beside them (one prefix: store_pg.c and store_engine.h are
# parts of store); module A depends on module B when a file of A includes a
# header of B (resolved as the compiler does: the including file's directory
# first, then lib/). Every dependency must point one way, so the modules can
# be read (and tested) bottom-up. `make unit` and
# `make test` run this; run it alone with `sh tests/layers.sh` (-v prints
# the edges).
cd "$(dirname "$0")/.." || exit 2
verbose=0
[ "${1:-}" = "-v" ] && verbose=1
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
fail=0

# module FILE: the module a file belongs to.
module() {
    local dir=${1%/*} base=${1##*/}
    base=${base%.*}
    case $base in *_*) [ -f "$dir/${base%%_*}.h" ] && base=${base%%_*};; esac
    echo "$dir/$base"
}

for f in lib/*.[ch] fcgi/*.[ch] cli/*.[ch]; do
    [ -f "$f" ] || continue
    dir=${f%/*}
    mod=$(module "$f")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
        if [ -f "$dir/$inc" ]; then target=$dir/$inc
        elif [ -f "lib/$inc" ]; then target=lib/$inc
        else continue                      # generated or system header
        fi
        target=$(realpath --relative-to=. "$target")
        tmod=$(module "$target")
        case "$mod:$tmod" in
            lib/*:fcgi/*|lib/*:cli/*)
                echo "layers: $f includes $inc ($target): lib/ must not depend on fcgi/ or cli/" >&2
                echo BAD >>"$edges" ;;
        esac
        [ "$tmod" = "$mod" ] || echo "$mod $tmod" >>"$edges"
    done
done

if grep -qx BAD "$edges"; then fail=1; fi
grep -vx BAD "$edges" | sort -u >"$edges.sorted"
mv "$edges.sorted" "$edges"
[ "$verbose" = 1 ] && cat "$edges"
# tsort reports the modules of each cycle it finds and exits non-zero.
if ! out=$(tsort "$edges" 2>&1 >/dev/null); then
    echo "layers: include cycle among modules:" >&2
    printf '%s\n' "$out" | sed -n -e 's/^tsort: .*input contains a loop:$/  a cycle:/p' \
                                  -e 's/^tsort: \([a-z]*\/[a-z_0-9]*\)$/    \1/p' >&2
    fail=1
fi
n=$(wc -l <"$edges")
if [ "$fail" -eq 0 ]; then
    echo "layers: $n dependencies between the modules of lib/, fcgi/, cli/; no cycle"
    echo "layers: 1 passed, 0 failed"
else
    echo "layers: 0 passed, 1 failed"
fi
exit "$fail"

#!/bin/bash
# The archive's disk fills up: `birdfeed archive` on a SQLite file in a 1 MB
# tmpfs fails with a clear error and a non-zero exit, never a crash, and
# acknowledges only what it committed; once there is room again, the next run
# archives the rest: every stream entry exactly once. Needs mount (root);
# where mounting is not permitted the test says so and checks nothing else.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=1m birdfeed-test "$T/disk" 2>"$T/mount.err"; then
    echo "cannot mount a tmpfs here ($(cat "$T/mount.err")): disk-full case not run"
    ok "skipped: mounting a small filesystem is not permitted on this machine"
    exit 0
fi
trap 'umount -l "$T/disk" 2>/dev/null; bf_cleanup' EXIT
start_redis
DB="sqlite:$T/disk/archive.db"
"$BF" migrate --db "$DB" >/dev/null 2>"$T/migrate.err" || fail "migrate into 1 MB: $(cat "$T/migrate.err")"
N=6000
fill_tweets "$N" 5
"$BF" archive --once --db "$DB" --group g --consumer c --batch 500 >"$T/a1.out" 2>&1; rc=$?
[ "$rc" -ne 0 ] || fail "archive into a full disk exited 0"
[ "$rc" -lt 128 ] || fail "archive crashed (exit $rc): $(tail -5 "$T/a1.out")"
grep -q "database or disk is full" "$T/a1.out" || fail "no clear disk-full error: $(tail -5 "$T/a1.out")"
rows() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute("select count(*), count(distinct id) from tweets").fetchone())' "$T/disk/archive.db"; }
r1=$(rows 2>/dev/null || echo "? ?")
echo "after the disk filled: rows (total, distinct) = $r1 of $N; $(grep -i full "$T/a1.out" | head -1)"
ok "disk full: archive exits $rc with 'database or disk is full' after $r1 rows, no crash"

mount -o remount,size=64m "$T/disk" || fail "remount bigger"
"$BF" archive --once --db "$DB" --group g --consumer c --batch 500 >"$T/a2.out" 2>&1 || fail "archive with room again: $(tail -5 "$T/a2.out")"
assert_eq "$(rows)" "$N $N" "rows and distinct ids after the rerun"
python3 - "$T/disk/archive.db" "$REDIS_PORT" "${BIRDFEED_PREFIX}tweets" <<'PY' || fail "archived ids differ from the stream's"
import sqlite3, subprocess, sys
db, port, key = sys.argv[1:]
got = [r[0] for r in sqlite3.connect(db).execute("select id from tweets order by id")]
out = subprocess.run(["redis-cli", "-p", port, "XRANGE", key, "-", "+"], capture_output=True, text=True).stdout.split("\n")
want = [l for l in out if l and l[0].isdigit() and "-" in l and l.replace("-", "").isdigit()]
key_of = lambda s: tuple(int(x) for x in s.split("-"))
sys.exit(0 if sorted(got, key=key_of) == sorted(want, key=key_of) else 1)
PY
ok "with room again the next run archived the rest: all $N stream entries exactly once"

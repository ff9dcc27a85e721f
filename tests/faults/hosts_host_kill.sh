#!/bin/bash
# Three hosts (tests/multihost.sh); one whole host — b: its nginx,
# responders, archiver, Redis replica and Sentinel — SIGKILLed mid-stream
# while `ingest --wait-replicas 1` publishes and 12 EventSource-like clients
# read through all three web servers. The clients of host b resume on
# another host with Last-Event-ID and lose nothing; the archiver on host a
# takes over what b's left unacknowledged; ingest exits 0; every client got
# every entry exactly once in stream order; the archive holds every tweet
# once.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
N=3000
hosts_begin "$N"
host_kill b
ok "host b (nginx, responders, archiver, Redis replica, Sentinel) SIGKILLed mid-stream"
hosts_check "$N"
moves=$(sed -n 's/.* moves=\([0-9]*\) .*/\1/p' "$T/clients/summary")
assert_ge "${moves:-0}" 4 "clients that moved to another host (4 started on b)"
ok "the clients of host b moved to another host ($moves moves)"

#!/bin/bash
# Three hosts (tests/multihost.sh: nginx and responders on 127.0.0.2/.3/.4,
# Redis master + two replicas + three Sentinels, PostgreSQL with an
# archiver on two hosts); the Redis master SIGKILLed mid-stream while
# `ingest --wait-replicas 1` publishes and 12 EventSource-like clients read
# through all three web servers. Ingest exits 0; the new master holds every
# tweet once; every client got every entry exactly once in stream order
# (nothing skipped, nothing repeated under another id); the archive holds
# every tweet once.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
N=3000
hosts_begin "$N"
hosts_kill_master
ok "master $KILLED SIGKILLed mid-stream; the Sentinels promoted $(rn_name "$(sentinel_master)")"
hosts_check "$N"

#!/usr/bin/env python3
"""Publish canonical tweets for the fault suite the way ingest does (XADD to
<prefix>tweets and PUBLISH on <prefix>live in one Lua call), with explicit
stream ids MS-0 for MS = BASE+1 … BASE+N, RATE per second.

  publisher.py REDIS_PORT PREFIX BASE N RATE [PAD_BYTES]

A Redis that goes away is waited for (reconnect every 50 ms) and the tweet
that failed is sent again; an id that is already in the stream (the call
went through before the connection died) is skipped, so each id is published
once. Prints the last id on success."""
import socket
import sys
import time

port, prefix, base, n, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
pad = "x" * (int(sys.argv[6]) if len(sys.argv) > 6 else 0)
SCRIPT = ("local ok, err = pcall(redis.call, 'XADD', KEYS[1], ARGV[1], 't', ARGV[2]) "
          "if not ok then return 'dup' end "
          "redis.call('PUBLISH', KEYS[2], ARGV[1] .. ' ' .. ARGV[2]) return 'ok'")


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def reply(f):
    line = f.readline()
    if not line:
        raise OSError("closed")
    if line[:1] == b"-":
        raise OSError(line.decode().strip())
    if line[:1] == b"$":
        size = int(line[1:])
        return f.read(size + 2)[:-2] if size >= 0 else None
    return line[1:].strip()


def connect():
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            return s, s.makefile("rb")
        except OSError:
            time.sleep(0.05)


s, f = connect()
t0 = time.time()
for i in range(1, n + 1):
    sid = "%d-0" % (base + i)
    tweet = ('{"id":"%d","text":"fault tweet %d %s","user":{"screen_name":"f"},'
             '"created_at":"2024-05-01T00:00:00Z","lang":"en","hashtags":[],"mentions":[],"urls":[]}' % (i, i, pad))
    while True:
        try:
            s.sendall(cmd("EVAL", SCRIPT, 2, prefix + "tweets", prefix + "live", sid, tweet))
            reply(f)
            break
        except OSError:
            s.close()
            s, f = connect()
    delay = t0 + i / rate - time.time()
    if delay > 0:
        time.sleep(delay)
print("%d-0" % (base + n))

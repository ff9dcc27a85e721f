#!/usr/bin/env python3
"""Open STREAMS SSE streams to BASE (nginx in front of birdfeed-fcgi), wait
until each has its `retry:` line and a first ping, publish one tweet as
ingest does (XADD and PUBLISH in one script, through redis-cli on
REDIS_PORT, keys under BIRDFEED_PREFIX), and time every line each stream
receives after it, on one monotonic clock.

Checks, with HB_MS the responder's --heartbeat-ms:
- every stream gets the tweet, then a first and a second `: ping`;
- each ping comes at least HB_MS (less 250 ms of slack for the client's
  own reading) after the stream's previous line, and at most HB_MS/4 + 1 s
  later (a loaded machine);
- the first pings of all streams spread over at least HB_MS/10 and at most
  HB_MS/4 + 0.5 s, and so do the second pings: before the spreading, all
  came in one pass, a few ms apart.
Prints one "ok …" line per check, exits 1 on the first failure."""
import os
import selectors
import socket
import subprocess
import sys
import time

HOST, PORT = os.environ["BASE"].split(":")
N = int(os.environ["STREAMS"])
HB = int(os.environ["HB_MS"]) / 1000.0
REDIS_PORT = os.environ["REDIS_PORT"]
PREFIX = os.environ.get("BIRDFEED_PREFIX", "birdfeed:")


def fail(msg):
    print("FAIL heartbeat_spread: " + msg, file=sys.stderr)
    sys.exit(1)


sel = selectors.DefaultSelector()
streams = []
for i in range(N):
    s = socket.create_connection((HOST, int(PORT)), timeout=10)
    s.sendall(b"GET /stream?preload=0 HTTP/1.1\r\nHost: birdfeed.test\r\n\r\n")
    s.setblocking(False)
    st = {"sock": s, "buf": b"", "lines": []}   # lines: (time, text)
    streams.append(st)
    sel.register(s, selectors.EVENT_READ, st)


def pump(until, done):
    while time.monotonic() < until and not done():
        for key, _ in sel.select(timeout=0.05):
            st = key.data
            data = st["sock"].recv(65536)
            if not data:
                fail("a stream ended")
            now = time.monotonic()
            st["buf"] += data
            while b"\n" in st["buf"]:
                line, st["buf"] = st["buf"].split(b"\n", 1)
                st["lines"].append((now, line.rstrip(b"\r").decode("utf-8", "replace")))
    return done()


def has(st, prefix, count=1):
    return sum(1 for _, l in st["lines"] if l.startswith(prefix)) >= count


if not pump(time.monotonic() + 10, lambda: all(has(st, "retry:") for st in streams)):
    fail("not every stream got its retry: line")
# The streams opened together, so their opening writes come due together
# too: wait for every stream's first ping, then the tweet is what all of
# them last got and no ping is pending.
if not pump(time.monotonic() + HB * 1.25 + 5, lambda: all(has(st, ": ping") for st in streams)):
    fail("not every stream got a ping after its opening lines")
for st in streams:
    st["lines"].clear()

# Publish with redis-cli while reading on, so no arrival is timed late.
pub = subprocess.Popen(["redis-cli", "-p", REDIS_PORT, "EVAL",
                        "local id = redis.call('XADD', KEYS[1], ARGV[1], 't', ARGV[2]) "
                        "redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]) return id", "2",
                        PREFIX + "tweets", PREFIX + "live", f"{int(time.time() * 1000)}-0",
                        '{"id":"1","text":"to everyone"}'], stdout=subprocess.PIPE, text=True)
pump(time.monotonic() + 10, lambda: pub.poll() is not None)
out = pub.communicate(timeout=10)[0]
if "-" not in out:
    fail("publishing the tweet: " + out)


def after_event(st):
    """The pings that came after the stream's one event, by position."""
    ids = [k for k, (_, l) in enumerate(st["lines"]) if l.startswith("id: ")]
    if not ids:
        return []
    return [t for t, l in st["lines"][ids[0] + 1:] if l.startswith(": ping")]


if not pump(time.monotonic() + 3 * HB + 5, lambda: all(len(after_event(st)) >= 2 for st in streams)):
    got = sum(1 for st in streams if len(after_event(st)) >= 2)
    fail(f"{got} of {N} streams got the tweet and two pings after it")
print(f"ok all {N} streams got the tweet and two pings after it")

# Times are when this client read the lines: a ping read promptly after an
# event read late can look up to SLACK early.
SLACK = 0.25
firsts, seconds = [], []
for idx, st in enumerate(streams):
    event = [t for t, l in st["lines"] if l.startswith("id: ")]
    if len(event) != 1:
        fail(f"stream {idx}: {len(event)} events, want 1")
    pings = after_event(st)
    prev = event[0]
    for k, p in enumerate(pings[:2]):
        gap = p - prev
        if gap < HB - SLACK:
            fail(f"stream {idx}: ping {k + 1} came {gap * 1000:.0f} ms after the line before it, before a period")
        if gap > HB * 1.25 + 1.0:
            fail(f"stream {idx}: ping {k + 1} came {gap * 1000:.0f} ms after the line before it")
        prev = p
    firsts.append(pings[0])
    seconds.append(pings[1])

for name, ts in (("first", firsts), ("second", seconds)):
    spread = max(ts) - min(ts)
    print(f"   {name} pings of {N} streams spread over {spread * 1000:.0f} ms")
    if spread < HB / 10:
        fail(f"the {name} pings all came within {spread * 1000:.0f} ms: one pass")
    if spread > HB / 4 + 0.5:
        fail(f"the {name} pings took {spread * 1000:.0f} ms, more than a quarter period")
print("ok first pings and second pings spread over at most a quarter period, each on time")

#!/usr/bin/env python3
"""Reconnecting SSE clients for the fault suite, like browsers' EventSource.

  sseclient.py HOST:PORT[,HOST:PORT…] PATH OUTDIR N --until ID [--from ID]
               [--timeout S] [--slow BYTES_PER_S] [--follow-retry] [--events]

Runs N clients (threads). Client k appends every event id it receives to
OUTDIR/k.ids, one a line. When its connection ends or fails (EOF, reset,
non-200), it waits a little and reconnects with Last-Event-ID, as EventSource
does. With --from, the first connection already sends Last-Event-ID: ID, so
what the client sees does not depend on when it connected. With --slow, each
client reads at most that many bytes a second (a slow link). It stops after
receiving the event with id ID.

Several hosts (a comma-separated list): client k starts on host k mod the
number of hosts and moves to the next one when its host cannot be reached
(connection refused or timed out) — a browser whose server is gone, sent
elsewhere by DNS or a load balancer. With --follow-retry, the wait before a
reconnect is the last `retry:` the server sent (EventSource's reconnection
time), else 0.2 s. With --events, client k also writes OUTDIR/k.events, one
line per event: "<stream id> <tweet id> <receive time, µs since the epoch>
<host> <sent_us>" (the tweet id and sent_us are the data JSON's "id" and
"sent_us", "-" when absent). Every answer other than 200
text/event-stream is written to OUTDIR/k.errors (a real EventSource would
give up on it).

Prints one summary line "clients=N reconnects=R moves=M non200=E" and exits 0
when every client saw ID within the timeout, else 1 (naming the clients that
did not)."""
import json
import os
import socket
import sys
import threading
import time

hosts = []
for h in sys.argv[1].split(","):
    name, port = h.rsplit(":", 1)
    hosts.append((name, int(port)))
path, outdir, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
until = sys.argv[sys.argv.index("--until") + 1]
start = sys.argv[sys.argv.index("--from") + 1] if "--from" in sys.argv else None
slow = float(sys.argv[sys.argv.index("--slow") + 1]) if "--slow" in sys.argv else 0.0
timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 60.0
follow_retry = "--follow-retry" in sys.argv
events = "--events" in sys.argv
deadline = time.time() + timeout
reconnects = [0] * n
moves = [0] * n
non200 = [0] * n
done = [False] * n


def client(k):
    last = start
    out = open(os.path.join(outdir, "%d.ids" % k), "a")
    evout = open(os.path.join(outdir, "%d.events" % k), "a") if events else None
    errout = None
    host = k % len(hosts)
    delay = 0.2
    first = True
    while not done[k] and time.time() < deadline:
        if not first:
            reconnects[k] += 1
            time.sleep(delay)
        first = False
        addr = hosts[host]
        try:
            s = socket.create_connection(addr, timeout=5)
        except OSError:
            if len(hosts) > 1:          # the host is gone: try the next one
                host = (host + 1) % len(hosts)
                moves[k] += 1
            continue
        s.settimeout(5)
        req = "GET %s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n" % path
        if last:
            req += "Last-Event-ID: %s\r\n" % last
        try:
            s.sendall((req + "\r\n").encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                c = s.recv(65536)
                if not c:
                    raise OSError("closed before headers")
                buf += c
            head, _, buf = buf.partition(b"\r\n\r\n")
            status = head.split(b"\r\n")[0]
            if b" 200 " not in status or b"text/event-stream" not in head.lower():
                non200[k] += 1
                if errout is None:
                    errout = open(os.path.join(outdir, "%d.errors" % k), "a")
                errout.write("%s:%d %s\n" % (addr[0], addr[1], status.decode(errors="replace")))
                errout.flush()
                raise OSError("status " + status.decode(errors="replace"))
            chunked = b"transfer-encoding: chunked" in head.lower()
            raw = bytearray(buf)
            body = b""
            ev_id = None
            ev_data = None
            while not done[k]:
                # De-chunk what we have (nginx sends HTTP/1.1 chunked); no
                # copies of the whole buffer per line, so big bursts stay cheap.
                if chunked:
                    pos, parts = 0, []
                    while True:
                        nl = raw.find(b"\r\n", pos)
                        if nl < 0:
                            break
                        size = int(raw[pos:nl].split(b";")[0] or b"0", 16)
                        if len(raw) < nl + 2 + size + 2:
                            break
                        if size == 0:
                            raise OSError("end of body")
                        parts.append(raw[nl + 2:nl + 2 + size])
                        pos = nl + 2 + size + 2
                    raw = raw[pos:]
                    body += b"".join(parts)
                else:
                    body += raw
                    raw = b""
                lines = body.split(b"\n")
                body = lines.pop()
                for line in lines:
                    line = line.rstrip(b"\r")
                    if line.startswith(b"id: "):
                        ev_id = line[4:].decode()
                    elif line.startswith(b"data: "):
                        ev_data = line[6:]
                    elif line.startswith(b"retry: ") and follow_retry:
                        delay = int(line[7:]) / 1000.0
                    elif line == b"" and ev_id is not None:
                        out.write(ev_id + "\n")
                        out.flush()
                        if evout is not None:
                            tid, sent = "-", "-"
                            try:
                                d = json.loads(ev_data)
                                tid = str(d.get("id", "-"))
                                sent = str(d.get("sent_us", "-"))
                            except (ValueError, TypeError, AttributeError):
                                pass
                            evout.write("%s %s %d %s:%d %s\n" % (ev_id, tid, int(time.time() * 1e6), addr[0], addr[1], sent))
                            evout.flush()
                        last = ev_id
                        if ev_id == until:
                            done[k] = True
                            break
                        ev_id = None
                        ev_data = None
                    elif line == b"":
                        ev_data = None
                if done[k]:
                    break
                c = s.recv(16384 if slow else 65536)
                if not c:
                    raise OSError("closed")
                raw += c
                if slow:
                    time.sleep(len(c) / slow)
        except (OSError, ValueError):
            pass
        finally:
            s.close()
    out.close()
    if evout is not None:
        evout.close()
    if errout is not None:
        errout.close()


threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(0.1, deadline - time.time()))
print("clients=%d reconnects=%d moves=%d non200=%d" % (n, sum(reconnects), sum(moves), sum(non200)))
missing = [k for k in range(n) if not done[k]]
if missing:
    print("clients that never saw %s: %s" % (until, missing), file=sys.stderr)
    sys.exit(1)

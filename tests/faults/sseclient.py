#!/usr/bin/env python3
"""Reconnecting SSE clients for the fault suite, like browsers' EventSource.

  sseclient.py HOST:PORT PATH OUTDIR N --until ID [--from ID] [--timeout S] [--slow BYTES_PER_S]

Runs N clients (threads). Client k appends every event id it receives to
OUTDIR/k.ids, one a line. When its connection ends or fails (EOF, reset,
non-200), it waits a little and reconnects with Last-Event-ID, as EventSource
does. With --from, the first connection already sends Last-Event-ID: ID, so
what the client sees does not depend on when it connected. With --slow, each
client reads at most that many bytes a second (a slow link). It stops after receiving the event with id ID. Prints one summary line
"clients=N reconnects=R" and exits 0 when every client saw ID within the
timeout, else 1 (naming the clients that did not)."""
import os
import socket
import sys
import threading
import time

host, port = sys.argv[1].split(":")
port = int(port)
path, outdir, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
until = sys.argv[sys.argv.index("--until") + 1]
start = sys.argv[sys.argv.index("--from") + 1] if "--from" in sys.argv else None
slow = float(sys.argv[sys.argv.index("--slow") + 1]) if "--slow" in sys.argv else 0.0
timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 60.0
deadline = time.time() + timeout
reconnects = [0] * n
done = [False] * n


def client(k):
    last = start
    out = open(os.path.join(outdir, "%d.ids" % k), "a")
    first = True
    while not done[k] and time.time() < deadline:
        if not first:
            reconnects[k] += 1
            time.sleep(0.2)
        first = False
        try:
            s = socket.create_connection((host, port), timeout=5)
        except OSError:
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
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise OSError("status " + head.split(b"\r\n")[0].decode())
            chunked = b"transfer-encoding: chunked" in head.lower()
            raw = bytearray(buf)
            body = b""
            ev_id = None
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
                    elif line == b"" and ev_id is not None:
                        out.write(ev_id + "\n")
                        out.flush()
                        last = ev_id
                        if ev_id == until:
                            done[k] = True
                            break
                        ev_id = None
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


threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(0.1, deadline - time.time()))
print("clients=%d reconnects=%d" % (n, sum(reconnects)))
missing = [k for k in range(n) if not done[k]]
if missing:
    print("clients that never saw %s: %s" % (until, missing), file=sys.stderr)
    sys.exit(1)

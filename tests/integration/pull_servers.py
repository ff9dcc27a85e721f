#!/usr/bin/python3
"""Local sources for tests/integration/pull.sh: they replay recorded events
(tests/samples/) on loopback and misbehave on cue, one step per connection.

  pull_servers.py jetstream PORT EVENTS LOG SCRIPT [CERT KEY]
      Bluesky Jetstream over WebSocket (python3-websockets). EVENTS is an
      NDJSON file of events with increasing time_us. A connection's
      `cursor=T` starts it at the first event with time_us >= T (so the
      event at T comes again, as Jetstream does).
  pull_servers.py sse PORT EVENTS LOG SCRIPT TOKEN [CERT KEY]
      A Mastodon streaming endpoint (Server-Sent Events): `event: NAME` and
      `data:` per event, `:thump` heartbeats; 401 unless the request has
      `Authorization: Bearer TOKEN`. EVENTS lines are statuses (sent as
      `update`) or streaming events {"event":…,"payload":…}. With the
      environment variable SSE_ID_BYTES=N each event also has an
      `id:` of N bytes or more (N letters, then `-` and its index).
  pull_servers.py ndjson PORT EVENTS LOG SCRIPT [CERT KEY]
      NDJSON over HTTP (chunked), every connection from the first line.

SCRIPT says what connection k does, steps separated by commas, the last one
repeating: `cut:N` sends N events (SSE: then half of the next one) and
drops the TCP connection; `stall:N` sends N events and then nothing, the
connection left open; `rest` sends everything left (SSE: then heartbeats
every 0.3 s; Jetstream: stays open; NDJSON: ends the answer cleanly);
`status:CODE` answers with that HTTP status. SSE and Jetstream are live
streams: what a connection did not send is gone for the next one, unless
a Jetstream cursor asks for it again.

LOG gets one line per connection: "conn K path=… cursor=… auth=…". With
CERT and KEY the server speaks TLS. The server prints "ready" once it
listens, and runs until killed.
"""
import asyncio
import http.server
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

mode, port, events_file, log_file, script = sys.argv[1:6]
rest_args = sys.argv[6:]
token = None
if mode == "sse":
    token, rest_args = rest_args[0], rest_args[1:]
cert = rest_args[0] if len(rest_args) >= 2 else None
key = rest_args[1] if len(rest_args) >= 2 else None
port = int(port)
events = [l for l in open(events_file, encoding="utf-8").read().split("\n") if l]
steps = script.split(",")
lock = threading.Lock()
conns = 0
live_pos = 0          # SSE: the live stream's position, shared by connections


def next_step():
    global conns
    with lock:
        conns += 1
        k = conns
    return k, steps[min(k, len(steps)) - 1]


def log(line):
    with lock:
        with open(log_file, "a") as f:
            f.write(line + "\n")


def tls_context():
    if not cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def count(step):
    return int(step.split(":")[1]) if ":" in step else None


# ---- Jetstream -------------------------------------------------------------

def run_jetstream():
    import websockets

    times = [json.loads(e)["time_us"] for e in events]

    async def handler(ws, path=None):
        path = ws.path
        k, step = next_step()
        q = parse_qs(urlparse(path).query)
        cursor = int(q["cursor"][0]) if "cursor" in q else None
        log("conn %d path=%s cursor=%s auth=%s" % (k, urlparse(path).path, cursor,
                                                   ws.request_headers.get("Authorization")))
        pos = 0 if cursor is None else next((i for i, t in enumerate(times) if t >= cursor), len(events))
        kind, n = step.split(":")[0], count(step)
        todo = events[pos:] if kind == "rest" else events[pos:pos + n]
        for e in todo:
            await ws.send(e)
        if kind == "cut":
            await asyncio.sleep(0.2)
            ws.transport.abort()          # no close frame: the connection just drops
            return
        await asyncio.sleep(3600)         # stall, or stay open after the rest

    async def main():
        async with websockets.serve(handler, "127.0.0.1", port, ssl=tls_context(), ping_interval=None):
            print("ready", flush=True)
            await asyncio.Future()

    asyncio.run(main())


# ---- HTTP: SSE and NDJSON ----------------------------------------------------

def sse_frame(line, i):
    o = json.loads(line)
    if "event" in o and "payload" in o:
        name, data = o["event"], o["payload"] if isinstance(o["payload"], str) else json.dumps(o["payload"])
    elif "type" in o and "account" in o and "content" not in o:
        name, data = "notification", line
    else:
        name, data = "update", line
    pad = int(os.environ.get("SSE_ID_BYTES", "0"))
    ident = "id: %s-%d\n" % ("i" * pad, i) if pad else ""
    return ("%sevent: %s\ndata: %s\n\n" % (ident, name, data)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def chunk(self, b):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.flush()

    def do_GET(self):
        global live_pos
        k, step = next_step()
        auth = self.headers.get("Authorization")
        log("conn %d path=%s cursor=None auth=%s last-event-id=%s" % (k, self.path, auth,
                                                                      self.headers.get("Last-Event-ID")))
        kind, n = step.split(":")[0], count(step)
        if kind == "status":
            self.send_response(n)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "sse" and auth != "Bearer " + token:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if mode == "sse" else "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if mode == "sse":
            self.chunk(b":)\n")
            with lock:
                start = live_pos
                end = len(events) if kind == "rest" else min(start + n, len(events))
                live_pos = end + (1 if kind == "cut" else 0)   # a cut loses the event it was sending
            for i in range(start, end):
                self.chunk(sse_frame(events[i], i))
                self.chunk(b":thump\n")
            if kind == "cut" and end < len(events):
                half = sse_frame(events[end], end)
                self.chunk(half[:len(half) // 2])
        else:
            todo = events if kind == "rest" else events[:n]
            for e in todo:
                self.chunk(e.encode() + b"\n")
            if kind == "cut" and n < len(events):
                self.chunk(events[n].encode()[:10])
        if kind == "cut":
            time.sleep(0.2)
            self.connection.shutdown(socket.SHUT_RDWR)   # mid-body: no final chunk
            self.close_connection = True
            return
        if kind == "stall":
            time.sleep(3600)
            return
        if mode == "sse":
            while True:                                   # live: heartbeats until killed
                time.sleep(0.3)
                try:
                    self.chunk(b":thump\n")
                except OSError:
                    return
        self.wfile.write(b"0\r\n\r\n")                    # NDJSON: the end of the answer
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def run_http():
    srv = Server(("127.0.0.1", port), Handler)
    ctx = tls_context()
    if ctx:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    open(log_file, "a").close()
    run_jetstream() if mode == "jetstream" else run_http()

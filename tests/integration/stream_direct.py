#!/usr/bin/env python3
"""Raw requests to birdfeed-fcgi's stream-listen port (tests/integration/stream_direct.sh).

    stream_direct.py PORT CASE

Each case sends bytes as they are and prints what came back (the status
line, then the body), or exits non-zero with the reason:
  garbage      a request line that is not HTTP
  version      HTTP/2.0 in the request line
  many-fields  100 header fields (over the 64 allowed)
  big-head     30 fields of 300 bytes: a head over 8 192 bytes
  body         a GET /stream with a Content-Length: 5 body
  two-lengths  Content-Length: 0, then Content-Length: 5 and a body
  no-host      an HTTP/1.1 request without a Host field
  half-close   a whole HEAD /stream, then shutdown(SHUT_WR): still answered
  chatty       a stream that sends bytes once it is open: the responder
               must end it
  slow-head    half a head, then nothing: the port must answer 408 by itself
  hold N       N connections each sending half a head, kept open for 3 s
                (run in the background while other requests are served);
                fails if any of them was answered meanwhile
  gone         half a head, then close: nothing to read, nothing to crash
  burst N S    N streams opened at once, each head sent with its connection;
               prints "served A full B" (streams that began with the usual
               retry: line, and those answered only "retry: 5000"), then
               holds them open for S seconds
"""
import socket
import sys
import time

port = int(sys.argv[1])
case = sys.argv[2]


def connect(send=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(send)
    return s


def connect_many(n, send):
    """n connections, each sending send as soon as it is open."""
    return [connect(send) for _ in range(n)]


def answer(s):
    data = b""
    s.settimeout(10)
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            sys.exit("no answer within 10 s: %r" % data[:200])
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode())
    print(body.decode(errors="replace"))


# The cases that send one request and print what came back.
ONE_REQUEST = {
    "garbage": b"HELLO THERE\r\n\r\n",
    "version": b"GET /stream HTTP/2.0\r\n\r\n",
    "many-fields": b"GET /stream HTTP/1.1\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 40) for i in range(100)) + b"\r\n",
    "big-head": b"GET /stream HTTP/1.1\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 300) for i in range(30)) + b"\r\n",
    "body": b"GET /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "two-lengths": b"GET /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
    "no-host": b"GET /stream HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n",
}

if case in ONE_REQUEST:
    s = connect(ONE_REQUEST[case])
    answer(s)
elif case == "half-close":
    s = connect(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    answer(s)
elif case == "chatty":
    s = connect(b"GET /stream?preload=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"retry:" not in data:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("the stream ended before it opened: %r" % data[:200])
        data += chunk
    s.sendall(b"more bytes after the head\r\n")
    answer(s)
    print("ended")
elif case == "slow-head":
    s = connect(b"GET /stream HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    answer(s)
    print("after %.1f s" % (time.monotonic() - t0))
elif case == "hold":
    socks = connect_many(int(sys.argv[3]), b"GET /stream HTTP/1.1\r\nHost: x\r\n")
    time.sleep(3)
    early = []
    for s in socks:
        s.setblocking(False)             # a socket with a timeout would wait for data
        try:
            got = s.recv(200)
            if got:
                early.append(got)
        except BlockingIOError:
            pass
        s.close()
    if early:
        sys.exit("%d of %d half heads were answered while held: %r" % (len(early), len(socks), early[0]))
    print("held %d" % len(socks))
elif case == "burst":
    socks = connect_many(int(sys.argv[3]), b"GET /stream?preload=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    served = full = 0
    for s in socks:
        data = b""
        while b"retry: " not in data or not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if b"retry: 5000" in data:
            full += 1
        elif b"retry: " in data:
            served += 1
    print("served %d full %d" % (served, full), flush=True)
    time.sleep(float(sys.argv[4]))
elif case == "gone":
    s = connect(b"GET /str")
    s.close()
    print("closed")
else:
    sys.exit("unknown case " + case)

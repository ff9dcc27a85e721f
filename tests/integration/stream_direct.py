#!/usr/bin/env python3
"""Raw requests to birdfeed-fcgi's stream-listen port (tests/integration/stream_direct.sh).

    stream_direct.py PORT CASE

Each case sends bytes as they are and prints what came back (the status
line, then the body), or exits non-zero with the reason:
  garbage      a request line that is not HTTP
  version      HTTP/2.0 in the request line
  big-head     9 000 bytes of header fields
  body         a GET /stream with a Content-Length: 5 body
  slow-head    half a head, then nothing: the port must answer 408 by itself
  hold N       N connections each sending half a head, kept open for 3 s
                (run in the background while other requests are served)
  gone         half a head, then close: nothing to read, nothing to crash
"""
import socket
import sys
import time

port = int(sys.argv[1])
case = sys.argv[2]


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


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


if case == "garbage":
    s = connect()
    s.sendall(b"HELLO THERE\r\n\r\n")
    answer(s)
elif case == "version":
    s = connect()
    s.sendall(b"GET /stream HTTP/2.0\r\n\r\n")
    answer(s)
elif case == "big-head":
    s = connect()
    s.sendall(b"GET /stream HTTP/1.1\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 80) for i in range(100)) + b"\r\n")
    answer(s)
elif case == "body":
    s = connect()
    s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    answer(s)
elif case == "slow-head":
    s = connect()
    s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    answer(s)
    print("after %.1f s" % (time.monotonic() - t0))
elif case == "hold":
    socks = []
    for _ in range(int(sys.argv[3])):
        s = connect()
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    time.sleep(3)
    for s in socks:
        s.close()
    print("held %d" % len(socks))
elif case == "gone":
    s = connect()
    s.sendall(b"GET /str")
    s.close()
    print("closed")
else:
    sys.exit("unknown case " + case)

#!/bin/sh
# birdfeed: lighttpd's error handler for /stream (deploy/lighttpd/birdfeed.conf,
# server.error-handler), run as a CGI by /bin/sh.
#
# EventSource gives up for good on any status but 200. When lighttpd cannot
# reach a responder (503, or 502/504), answer what the responder answers
# when it cannot serve a stream for now: 200, an event stream holding only
# "retry:", so the browser reconnects in 2 s with its Last-Event-ID. Any
# other error lighttpd raises on /stream (400, 413, 414, 500…) keeps its
# status, with a JSON body like the responder's errors, so the browser
# stops. lighttpd keeps a static error document's 5xx status, which is why
# this is a CGI: a CGI's Status: header sets the status.
# Apache does the same with retry.asis (no process per request).
case "${REDIRECT_STATUS:-}" in
502|503|504)
    printf 'Status: 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n'
    printf 'Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\nretry: 2000\n\n'
    ;;
[45][0-9][0-9])
    printf 'Status: %s\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n\r\n' \
        "$REDIRECT_STATUS"
    printf '{"error":{"code":"http_%s","message":"the web server refused this request (HTTP %s)"}}\n' \
        "$REDIRECT_STATUS" "$REDIRECT_STATUS"
    ;;
*)  # asked for directly, not as an error handler (lighttpd then sets 200)
    printf 'Status: 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\n\r\n'
    printf '{"error":{"code":"not_found","message":"no such resource"}}\n'
    ;;
esac

/* source_ws — one WebSocket connection to a source, with libwebsockets. See source.h.
 *
 * A context per connection (cheap, and everything is gone when it ends),
 * no listening port, TLS through the library (client_ssl_ca_filepath for
 * --cacert). Messages may come in fragments: they are joined, bounded to
 * max_record, and each whole text message is one record. A timer of the
 * library's own (lws_sul, every 50 ms: lws_service waits for its events
 * only) checks the stop flag and a stall (nothing received for stall_ms)
 * and publishes what is queued; to close, it asks for a writeable callback
 * and returns -1 there, as libwebsockets wants. */
#include "source.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

#define SERVICE_MS 50

typedef struct conn {
    lws_sorted_usec_list_t tick;  /* first: the timer callback finds the conn from it */
    struct lws_context *ctx;
    const source_opts *o;
    const source_sink *sink;
    struct lws *wsi;
    buf msg;                      /* the message being received */
    int binary, over;             /* ... is binary / over max_record */
    int established, done, closing, stopping, received, peer_closed;
    uint64_t last_rx_us, closing_us;
    char err[256];
} conn;

static void deliver(conn *c)
{
    char why[128];
    if (c->over) {
        snprintf(why, sizeof why, "WebSocket message longer than %zu bytes", c->o->max_record);
        c->sink->refused(c->sink->ctx, why);
    } else if (c->binary) {
        c->sink->refused(c->sink->ctx, "binary WebSocket message (compressed streams are not read: ask for JSON)");
    } else if (c->sink->record(c->sink->ctx, NULL, c->msg.data ? c->msg.data : "", c->msg.len) < 0) {
        c->stopping = 1;
    }
    buf_reset(&c->msg);
    c->binary = c->over = 0;
}

static void want_close(conn *c)
{
    if (c->closing || c->wsi == NULL) return;
    c->closing = 1;
    c->closing_us = now_us();
    lws_callback_on_writable(c->wsi);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    conn *c = (conn *)sul;
    uint64_t now = now_us();
    if (*c->o->stop || c->stopping) want_close(c);
    else if (now - c->last_rx_us > (uint64_t)c->o->stall_ms * 1000) {
        if (!c->err[0]) snprintf(c->err, sizeof c->err, "nothing received for %ld ms", c->o->stall_ms);
        want_close(c);
    }
    if (c->closing && now - c->closing_us > 3000000) c->done = 1;   /* the close handshake never ended */
    if (c->received && !c->done) c->sink->idle(c->sink->ctx);
    if (!c->done) lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, SERVICE_MS * LWS_US_PER_MS);
}

static int on_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    conn *c = lws_context_user(lws_get_context(wsi));
    (void)user;
    if (c == NULL) return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        if (c->o->bearer) {
            unsigned char **p = in, *end = *p + len;
            char value[4200];
            int n = snprintf(value, sizeof value, "Bearer %s", c->o->bearer);
            int rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)value, n, p, end);
            memset(value, 0, sizeof value);
            if (rc) return -1;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = 1;
        c->last_rx_us = now_us();
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        c->received = 1;
        c->last_rx_us = now_us();
        if (lws_frame_is_binary(wsi)) c->binary = 1;
        if (!c->over && c->msg.len + len > c->o->max_record) {
            c->over = 1;
            buf_reset(&c->msg);
        }
        if (!c->over && !c->binary) buf_append(&c->msg, in, len);
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) deliver(c);
        if (c->stopping) want_close(c);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c->closing ? -1 : 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (in) snprintf(c->err, sizeof c->err, "%.*s", (int)(len ? len : strlen(in)), (const char *)in);
        else snprintf(c->err, sizeof c->err, "connection failed");
        c->done = 1;
        c->wsi = NULL;
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        c->peer_closed = 1;
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->done = 1;
        c->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"birdfeed-pull", on_event, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

void source_ws_once(const source_opts *o, const char *url, const source_sink *sink, source_result *r)
{
    conn c = {.o = o, .sink = sink};
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    const char *scheme, *address, *path;
    char *copy = xstrdup(url), pathbuf[4096];
    int port;

    memset(r, 0, sizeof *r);
    lws_set_log_level(0, NULL);
    if (lws_parse_uri(copy, &scheme, &address, &port, &path) || (strcmp(scheme, "ws") && strcmp(scheme, "wss"))) {
        r->end = SOURCE_REFUSED;
        snprintf(r->err, sizeof r->err, "not a ws:// or wss:// URL");
        free(copy);
        return;
    }
    snprintf(pathbuf, sizeof pathbuf, "/%s", path);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = o->cacert;
    info.user = &c;
    info.fd_limit_per_thread = 16;
    info.gid = -1;
    info.uid = -1;
    struct lws_context *ctx = lws_create_context(&info);
    if (ctx == NULL) {
        r->end = SOURCE_FAILED;
        snprintf(r->err, sizeof r->err, "cannot start the WebSocket client");
        free(copy);
        return;
    }
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = address;
    ci.port = port;
    ci.path = pathbuf;
    ci.host = address;
    ci.origin = address;
    ci.ssl_connection = strcmp(scheme, "wss") == 0 ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "birdfeed-pull";
    ci.pwsi = &c.wsi;
    c.last_rx_us = now_us();
    if (lws_client_connect_via_info(&ci) == NULL && !c.done) {
        c.done = 1;
        snprintf(c.err, sizeof c.err, "cannot connect to %s", address);
    }
    c.ctx = ctx;
    lws_sul_schedule(ctx, 0, &c.tick, on_tick, SERVICE_MS * LWS_US_PER_MS);
    while (!c.done) lws_service(ctx, 0);
    lws_sul_cancel(&c.tick);
    lws_context_destroy(ctx);

    r->received = c.received;
    if (c.stopping || *o->stop) r->end = SOURCE_STOPPED;
    else if (c.closing) r->end = c.established ? SOURCE_STALLED : SOURCE_FAILED;
    else if (c.err[0]) r->end = SOURCE_FAILED;
    else if (!c.peer_closed) {
        r->end = SOURCE_FAILED;
        snprintf(c.err, sizeof c.err, "the connection dropped (no WebSocket close)");
    } else
        r->end = SOURCE_CLOSED;
    if (r->end == SOURCE_FAILED || r->end == SOURCE_STALLED) snprintf(r->err, sizeof r->err, "%s", c.err);
    if (r->end == SOURCE_FAILED && !r->err[0]) snprintf(r->err, sizeof r->err, "connection failed");
    buf_free(&c.msg);
    free(copy);
}

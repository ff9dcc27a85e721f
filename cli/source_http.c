/* source_http — one HTTP(S) connection to a source, with libcurl. See source.h.
 *
 * The body is framed by its Content-Type: `text/event-stream` as
 * Server-Sent Events (lib/sse, bounded to max_record per event), anything
 * else as NDJSON (lib/lines, bounded to max_record per line). Each chunk
 * curl hands over is framed and its records given to the sink at once;
 * then the sink's idle hook publishes them, so a slow source's posts go out
 * as they come. A stall is curl's low-speed limit (under 1 byte/s for
 * stall_ms); the stop flag is polled by the progress callback. */
#include "source.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "lines.h"
#include "sse.h"

typedef struct conn {
    const source_opts *o;
    const source_sink *sink;
    CURL *curl;
    int framed;                   /* the framing is chosen (first body bytes) */
    int sse;                      /* text/event-stream */
    sse_parser *events;
    size_t dropped;               /* events the SSE parser dropped so far */
    lines lines;
    buf last_id;                  /* SSE: the last event's id, whole */
    int stopping;                 /* the sink asked to stop */
    int received;
} conn;

void source_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void choose_framing(conn *c)
{
    char *type = NULL;
    curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &type);
    c->sse = type && strncasecmp(type, "text/event-stream", 17) == 0;
    if (c->sse) {
        c->events = sse_parser_new();
        sse_parser_limit(c->events, c->o->max_record);
    } else
        lines_init(&c->lines, c->o->max_record, 65536);
    c->framed = 1;
}

/* Records out of the SSE parser, until it needs more bytes. */
static void sse_records(conn *c)
{
    sse_event ev;
    while (!c->stopping && sse_parser_next(c->events, &ev)) {
        buf_reset(&c->last_id);
        buf_appends(&c->last_id, ev.id);
        if (c->sink->record(c->sink->ctx, ev.event, ev.data, ev.data_len) < 0) c->stopping = 1;
    }
    size_t dropped = sse_parser_dropped(c->events);
    for (; c->dropped < dropped; c->dropped++) {
        char why[96];
        snprintf(why, sizeof why, "event longer than %zu bytes", c->o->max_record);
        c->sink->refused(c->sink->ctx, why);
    }
}

/* Lines out of the splitter, until it needs more bytes. */
static void ndjson_records(conn *c)
{
    lines_item it;
    for (;;) {
        if (c->stopping) return;
        enum lines_kind k = lines_next(&c->lines, &it);
        if (k == LINES_AGAIN || k == LINES_END) return;
        if (k == LINES_LINE) {
            if (c->sink->record(c->sink->ctx, NULL, it.p, it.n) < 0) c->stopping = 1;
        } else if (it.first) {
            char why[96];
            snprintf(why, sizeof why, "line longer than %zu bytes", c->o->max_record);
            c->sink->refused(c->sink->ctx, why);
        }
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    conn *c = arg;
    size_t n = size * nmemb;
    if (!c->framed) choose_framing(c);
    c->received = 1;
    if (c->sse) {
        sse_parser_feed(c->events, data, n);
        sse_records(c);
    } else {
        for (size_t off = 0; off < n && !c->stopping;) {
            size_t room;
            char *p = lines_space(&c->lines, &room);
            size_t k = n - off < room ? n - off : room;
            memcpy(p, data + off, k);
            lines_commit(&c->lines, k);
            off += k;
            ndjson_records(c);
        }
    }
    if (c->stopping) return 0;       /* CURLE_WRITE_ERROR ends the transfer */
    c->sink->idle(c->sink->ctx);
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    conn *c = arg;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return *c->o->stop || c->stopping;   /* non-zero aborts */
}

void source_http_once(const source_opts *o, const char *url, const source_sink *sink, source_result *r)
{
    conn c = {.o = o, .sink = sink};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "", auth[4200];
    buf resume = BUF_INIT;
    long status = 0, stall_s = (o->stall_ms + 999) / 1000;

    memset(r, 0, sizeof *r);
    c.curl = curl_easy_init();
    if (!c.curl) {                     /* libcurl could not allocate its handle: worth a retry */
        r->end = SOURCE_FAILED;
        snprintf(r->err, sizeof r->err, "could not start an HTTP connection (curl_easy_init failed)");
        return;
    }
    headers = curl_slist_append(headers, "Accept: text/event-stream, application/x-ndjson, application/json");
    if (o->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->bearer);
        headers = curl_slist_append(headers, auth);
        memset(auth, 0, sizeof auth);  /* the slist has its copy */
    }
    if (o->last_event_id && o->last_event_id[0]) {   /* the parser keeps CR and LF out of ids */
        buf_printf(&resume, "Last-Event-ID: %s", o->last_event_id);
        headers = curl_slist_append(headers, resume.data);   /* a copy */
        buf_free(&resume);
    }
    curl_easy_setopt(c.curl, CURLOPT_URL, url);
    curl_easy_setopt(c.curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.curl, CURLOPT_FOLLOWLOCATION, 1L);   /* the token is not sent to another host */
    curl_easy_setopt(c.curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.curl, CURLOPT_CONNECTTIMEOUT_MS, o->stall_ms < 10000 ? o->stall_ms : 10000L);
    curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_TIME, stall_s > 0 ? stall_s : 1L);
    curl_easy_setopt(c.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c.curl, CURLOPT_USERAGENT, "birdfeed-pull/" BIRDFEED_VERSION);
    curl_easy_setopt(c.curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c.curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c.curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c.curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(c.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c.curl, CURLOPT_XFERINFODATA, &c);
    curl_easy_setopt(c.curl, CURLOPT_NOPROGRESS, 0L);
    if (o->cacert) curl_easy_setopt(c.curl, CURLOPT_CAINFO, o->cacert);

    CURLcode rc = curl_easy_perform(c.curl);
    curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && c.framed && !c.sse) {
        lines_eof(&c.lines);           /* a last line without '\n' */
        ndjson_records(&c);
    }
    if (c.framed) sink->idle(sink->ctx);
    r->received = c.received;
    r->last_event_id = c.last_id.len ? buf_detach(&c.last_id, NULL) : NULL;
    buf_free(&c.last_id);
    if (c.stopping || *o->stop) r->end = SOURCE_STOPPED;
    else if (rc == CURLE_OK) r->end = SOURCE_CLOSED;
    else if (rc == CURLE_OPERATION_TIMEDOUT && c.received) {
        r->end = SOURCE_STALLED;
        snprintf(r->err, sizeof r->err, "nothing received for %ld s", stall_s);
    }
    else {
        int permanent = rc == CURLE_HTTP_RETURNED_ERROR && status >= 400 && status < 500 && status != 408 &&
                        status != 429;
        r->end = permanent ? SOURCE_REFUSED : SOURCE_FAILED;
        if (rc == CURLE_OPERATION_TIMEDOUT && !c.received)
            snprintf(r->err, sizeof r->err, "nothing received for %ld s", stall_s);
        else
            snprintf(r->err, sizeof r->err, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_cleanup(c.curl);
    curl_slist_free_all(headers);
    if (c.framed && c.sse) sse_parser_free(c.events);
    else if (c.framed) lines_free(&c.lines);
}

#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"
#include "util.h"

frame *frame_raw(const char *data, size_t len)
{
    frame *f = xmalloc(sizeof *f + len + 1);
    f->refs = 1;
    f->is_tweet = 0;
    f->id.ms = f->id.seq = 0;
    f->slots = NULL;
    f->nslots = 0;
    f->json_off = f->json_len = 0;
    f->len = len;
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    return f;
}

frame *frame_tweet(bus_id id, const char *json, size_t len)
{
    buf b = BUF_INIT;
    char ids[BUS_ID_MAX];
    frame *f;
    sse_encode_event(&b, bus_id_format(id, ids), "tweet", json, len);
    f = frame_raw(b.data, b.len);
    f->is_tweet = 1;
    f->id = id;
    /* the JSON as it is, on one data line, when it has no line break and no
     * NUL (SSE drops NULs; canonical tweets have neither) */
    const char *d = strstr(f->data, "\ndata: ");
    if (d && memchr(json, '\n', len) == NULL && memchr(json, '\r', len) == NULL && memchr(json, '\0', len) == NULL) {
        f->json_off = (size_t)(d + 7 - f->data);
        f->json_len = len;
    }
    buf_free(&b);
    return f;
}

/* The tweet id of a JSON object that starts with "id" (as canonical tweets
 * do): the string token, quotes and escapes as they are; else "null". */
static void tweet_id_token(buf *out, const char *json, size_t len)
{
    static const char head[] = "{\"id\":\"";
    size_t i = sizeof head - 1;
    if (len < i || memcmp(json, head, i) != 0) {
        buf_appends(out, "null");
        return;
    }
    for (; i < len && json[i] != '"'; i++)
        if (json[i] == '\\') i++;
    if (i >= len) {
        buf_appends(out, "null");
        return;
    }
    buf_append(out, json + 6, i - 6 + 1);
}

frame *frame_matched(const frame *t, const char *members, size_t mlen)
{
    buf data = BUF_INIT, b = BUF_INIT;
    buf_appends(&data, "{\"id\":");
    tweet_id_token(&data, t->data + t->json_off, t->json_len);
    buf_appendc(&data, ',');
    buf_append(&data, members, mlen);
    buf_appendc(&data, '}');
    sse_encode_event(&b, NULL, "matched", data.data, data.len);
    frame *f = frame_raw(b.data, b.len);
    buf_free(&data);
    buf_free(&b);
    return f;
}

frame *frame_ref(frame *f)
{
    f->refs++;
    return f;
}

void frame_unref(frame *f)
{
    if (f == NULL) return;
    if (--f->refs == 0) {
        free(f->slots);
        free(f);
    }
}

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

#include "lines.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void lines_init(lines *l, size_t max_line, size_t chunk)
{
    memset(l, 0, sizeof *l);
    l->max_line = max_line;
    l->chunk = chunk ? chunk : 1;
    l->cap = max_line + l->chunk + 1;
    l->buf = xmalloc(l->cap);
}

void lines_free(lines *l)
{
    if (l == NULL) return;
    free(l->buf);
    l->buf = NULL;
}

char *lines_space(lines *l, size_t *room)
{
    if (l->start == l->end) {
        l->start = l->end = 0;
    } else if (l->cap - l->end < l->chunk) {
        /* What is left is an unfinished line of at most max_line bytes. */
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    *room = l->cap - l->end;
    return l->buf + l->end;
}

void lines_commit(lines *l, size_t n)
{
    l->end += n;
}

void lines_eof(lines *l)
{
    l->eof = 1;
}

static enum lines_kind piece(lines *l, lines_item *it, size_t n, int first, int last, size_t skip)
{
    it->p = l->buf + l->start;
    it->n = n;
    it->lineno = l->lineno;
    it->first = first;
    it->last = last;
    l->start += n + skip;
    l->skipping = !last;
    return LINES_LONG;
}

enum lines_kind lines_next(lines *l, lines_item *it)
{
    size_t have = l->end - l->start;
    char *nl = have ? memchr(l->buf + l->start, '\n', have) : NULL;

    if (l->skipping) {
        if (nl) return piece(l, it, (size_t)(nl - (l->buf + l->start)), 0, 1, 1);
        if (have) return piece(l, it, have, 0, 0, 0);
        if (l->eof) return piece(l, it, 0, 0, 1, 0);
        return LINES_AGAIN;
    }
    if (nl) {
        size_t n = (size_t)(nl - (l->buf + l->start));
        l->lineno++;
        if (n > l->max_line) return piece(l, it, n, 1, 1, 1);
        it->p = l->buf + l->start;
        it->n = n;
        it->lineno = l->lineno;
        it->first = it->last = 0;
        l->start += n + 1;
        return LINES_LINE;
    }
    if (have > l->max_line) {
        l->lineno++;
        return piece(l, it, have, 1, 0, 0);
    }
    if (l->eof) {
        if (have == 0) return LINES_END;
        l->lineno++;
        it->p = l->buf + l->start;
        it->n = have;
        it->lineno = l->lineno;
        it->first = it->last = 0;
        l->start = l->end;
        return LINES_LINE;
    }
    return LINES_AGAIN;
}

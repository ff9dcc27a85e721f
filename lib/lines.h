/* lines — split a byte stream into lines, with a bound on line length.
 * No I/O: the caller reads into lines_space(), commits what it read, and
 * takes lines out with lines_next() until it says LINES_AGAIN.
 *
 * A line longer than max_line bytes (without its '\n') is never held whole:
 * it comes out as LINES_LONG pieces — the first with first = 1 (report it
 * then), the last with last = 1 — so a caller can pass it through verbatim
 * (a dead-letter file) in bounded memory. Line numbers count every line,
 * long ones included, from 1. The buffer holds at most max_line + chunk + 1
 * bytes. */
#ifndef BIRDFEED_LINES_H
#define BIRDFEED_LINES_H

#include <stddef.h>

typedef struct lines {
    char *buf;
    size_t cap, start, end;     /* unread bytes are buf[start..end) */
    size_t max_line, chunk;
    unsigned long long lineno;
    int skipping;               /* inside a long line */
    int eof;
} lines;

enum lines_kind {
    LINES_AGAIN,   /* need more input (or lines_eof) */
    LINES_LINE,    /* a whole line, without its '\n' */
    LINES_LONG,    /* a piece of an over-long line */
    LINES_END      /* end of input, everything returned */
};

typedef struct lines_item {
    const char *p;              /* valid until the next lines_space/lines_next call */
    size_t n;
    unsigned long long lineno;
    int first, last;            /* LINES_LONG: first / last piece of the line */
} lines_item;

/* Prepare l for lines of at most max_line bytes, read chunk bytes at a time. */
void lines_init(lines *l, size_t max_line, size_t chunk);
void lines_free(lines *l);     /* l may be NULL */
/* Room to read into: returns where, and *room >= chunk bytes. */
char *lines_space(lines *l, size_t *room);
/* n bytes were written at lines_space(). */
void lines_commit(lines *l, size_t n);
/* The input ended: a last line without '\n' becomes a line. */
void lines_eof(lines *l);
/* The next line or piece into *it; returns its kind. */
enum lines_kind lines_next(lines *l, lines_item *it);

#endif

#include "httphead.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A token character (RFC 9110 §5.6.2). */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int fail(int *status, int code, char *err, size_t errlen, const char *why)
{
    *status = code;
    snprintf(err, errlen, "%s", why);
    return HTTPHEAD_ERROR;
}

/* "METHOD SP /target SP HTTP/1.x" in line[0..n). 0 ok, -1 with the status. */
static int request_line(const char *line, size_t n, httphead *h, int *status, char *err, size_t errlen)
{
    size_t i = 0, t0;
    while (i < n && is_tchar((unsigned char)line[i])) i++;
    if (i == 0 || i == n || line[i] != ' ') return fail(status, 400, err, errlen, "malformed request line");
    h->method.p = line;
    h->method.len = i;
    t0 = ++i;
    while (i < n && (unsigned char)line[i] > ' ' && (unsigned char)line[i] < 0x7f) i++;
    if (i == t0 || i == n || line[i] != ' ') return fail(status, 400, err, errlen, "malformed request line");
    if (line[t0] != '/') return fail(status, 400, err, errlen, "the request target must be a path (\"/stream?…\")");
    h->target.p = line + t0;
    h->target.len = i - t0;
    i++;
    if (n - i != 8 || memcmp(line + i, "HTTP/", 5) != 0 || line[i + 6] != '.' || line[i + 5] < '0' ||
        line[i + 5] > '9' || line[i + 7] < '0' || line[i + 7] > '9')
        return fail(status, 400, err, errlen, "malformed HTTP version in the request line");
    if (line[i + 5] != '1' || line[i + 7] > '1')
        return fail(status, 505, err, errlen, "only HTTP/1.0 and HTTP/1.1 are served here");
    h->minor = line[i + 7] - '0';
    return 0;
}

/* "name: value" in line[0..n). 0 ok, -1 with the status. */
static int field_line(const char *line, size_t n, httphead *h, int *status, char *err, size_t errlen)
{
    size_t i = 0, v0, v1;
    if (line[0] == ' ' || line[0] == '\t')
        return fail(status, 400, err, errlen, "obsolete line folding in a header field");
    while (i < n && is_tchar((unsigned char)line[i])) i++;
    if (i == 0 || i == n || line[i] != ':')
        return fail(status, 400, err, errlen, "malformed header field (a name, then ':')");
    if (h->nf == HTTPHEAD_FIELDS) return fail(status, 431, err, errlen, "too many header fields");
    v0 = i + 1;
    while (v0 < n && (line[v0] == ' ' || line[v0] == '\t')) v0++;
    v1 = n;
    while (v1 > v0 && (line[v1 - 1] == ' ' || line[v1 - 1] == '\t')) v1--;
    for (size_t k = v0; k < v1; k++) {
        unsigned char c = (unsigned char)line[k];
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return fail(status, 400, err, errlen, "a control byte in a header field's value");
    }
    h->f[h->nf].name.p = line;
    h->f[h->nf].name.len = i;
    h->f[h->nf].value.p = line + v0;
    h->f[h->nf].value.len = v1 - v0;
    h->nf++;
    return 0;
}

/* RFC 9112 §3.2: an HTTP/1.1 request names its Host, and no request names
 * two (an empty value is allowed). */
static int host_check(const httphead *h, int *status, char *err, size_t errlen)
{
    size_t hosts = 0;
    for (size_t i = 0; i < h->nf; i++) hosts += (size_t)httphead_is(&h->f[i], "Host");
    if (hosts > 1) return fail(status, 400, err, errlen, "more than one Host header field");
    if (hosts == 0 && h->minor == 1) return fail(status, 400, err, errlen, "an HTTP/1.1 request without a Host header field");
    return HTTPHEAD_DONE;
}

int httphead_parse(const char *data, size_t len, httphead *h, int *status, char *err, size_t errlen)
{
    size_t pos = 0;
    int have_line = 0;

    memset(h, 0, sizeof *h);
    for (;;) {
        size_t avail = len - pos, n;
        const char *nl = memchr(data + pos, '\n', avail > HTTPHEAD_MAX - pos ? HTTPHEAD_MAX - pos : avail);
        if (nl == NULL) {
            if (len < HTTPHEAD_MAX) return HTTPHEAD_MORE;
            return have_line ? fail(status, 431, err, errlen, "the request head is over 8192 bytes")
                             : fail(status, 414, err, errlen, "the request line is over 8192 bytes");
        }
        n = (size_t)(nl - (data + pos));
        if (n > 0 && data[pos + n - 1] == '\r') n--;
        if (memchr(data + pos, '\r', n) != NULL || memchr(data + pos, '\0', n) != NULL)
            return fail(status, 400, err, errlen, "a stray CR or NUL in the request head");
        if (n == 0) {
            if (have_line) {
                h->len = (size_t)(nl - data) + 1;
                return host_check(h, status, err, errlen);
            }
            /* an empty line before the request line is ignored (RFC 9112 §2.2) */
        } else if (!have_line) {
            if (request_line(data + pos, n, h, status, err, errlen) < 0) return HTTPHEAD_ERROR;
            have_line = 1;
        } else if (field_line(data + pos, n, h, status, err, errlen) < 0) {
            return HTTPHEAD_ERROR;
        }
        pos = (size_t)(nl - data) + 1;
    }
}

int httphead_is(const httphead_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name.len == n && strncasecmp(f->name.p, name, n) == 0;
}

int httphead_same_name(const httphead_field *a, const httphead_field *b)
{
    return a->name.len == b->name.len && strncasecmp(a->name.p, b->name.p, a->name.len) == 0;
}

const httphead_span *httphead_get(const httphead *h, const char *name)
{
    for (size_t i = 0; i < h->nf; i++)
        if (httphead_is(&h->f[i], name)) return &h->f[i].value;
    return NULL;
}

/* html — the text a reader sees in an HTML fragment. See html.h.
 *
 * libxml2's HTML parser does the parsing (tags, attributes, character
 * references, the HTML entity table, broken markup); this file only decides
 * what of it becomes text. SAX keeps it to one pass without a tree. The tag
 * limit bounds the parser's work: closing tags are matched against the
 * stack of open ones, so a fragment of many unclosed tags costs the square
 * of their number. libxml2 also ends the document where its root element
 * ends: a fragment that closes it (`</html>`) would hide the text after it,
 * so that end tag is renamed to one the parser ignores before parsing. */
#include "html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "util.h"

typedef struct state {
    buf *out;
    size_t start;             /* where this fragment's text begins in out */
    int pending;              /* line breaks owed before the next text */
    int hidden;               /* depth inside <script>/<style> */
    html_link_fn on_link;
    void *ctx;
} state;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
    xmlInitParser();
}

static int name_is(const xmlChar *name, const char *lit)
{
    return xmlStrcasecmp(name, (const xmlChar *)lit) == 0;
}

/* Does the space-separated list s hold word? */
static int has_word(const xmlChar *s, const char *word)
{
    size_t n = strlen(word);
    const char *p = (const char *)s;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') p++;
        size_t len = strcspn(p, " \t\n\r\f");
        if (len == n && strncasecmp(p, word, n) == 0) return 1;
        p += len;
    }
    return 0;
}

/* 2: a paragraph-like block; 1: a line (<li>); 0: inline. */
static int block_kind(const xmlChar *name)
{
    static const char *const para[] = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4",
                                       "h5", "h6", "table", "tr", "hr", "dl", "figure", "section", "article"};
    if (name_is(name, "li") || name_is(name, "dt") || name_is(name, "dd")) return 1;
    for (size_t i = 0; i < sizeof para / sizeof para[0]; i++)
        if (name_is(name, para[i])) return 2;
    return 0;
}

static void want_break(state *st, int n)
{
    if (st->out->len > st->start && st->pending < n) st->pending = n;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    state *st = ctx;
    if (name_is(name, "script") || name_is(name, "style")) {
        st->hidden++;
        return;
    }
    if (name_is(name, "br")) {
        if (st->out->len > st->start) st->pending++;
        return;
    }
    int kind = block_kind(name);
    if (kind) {
        want_break(st, kind);
        return;
    }
    if (!name_is(name, "a") || st->on_link == NULL || atts == NULL) return;
    const xmlChar *href = NULL;
    for (size_t i = 0; atts[i]; i += 2) {
        const xmlChar *v = atts[i + 1];
        if (v == NULL) continue;
        if (name_is(atts[i], "href")) href = v;
        else if (name_is(atts[i], "class") && (has_word(v, "mention") || has_word(v, "hashtag"))) return;
        else if (name_is(atts[i], "rel") && has_word(v, "tag")) return;
    }
    if (href && *href) st->on_link((const char *)href, strlen((const char *)href), st->ctx);
}

static void on_end(void *ctx, const xmlChar *name)
{
    state *st = ctx;
    if (name_is(name, "script") || name_is(name, "style")) {
        if (st->hidden) st->hidden--;
        return;
    }
    int kind = block_kind(name);
    if (kind) want_break(st, kind);
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    state *st = ctx;
    size_t n = len > 0 ? (size_t)len : 0, i;
    if (st->hidden || n == 0) return;
    if (st->pending || st->out->len == st->start) {
        /* white space between blocks, or before any text, is not shown */
        for (i = 0; i < n && (ch[i] == ' ' || ch[i] == '\n' || ch[i] == '\r' || ch[i] == '\t'); i++) {}
        if (i == n) return;
    }
    if (st->out->len > st->start)
        for (; st->pending > 0; st->pending--) buf_appendc(st->out, '\n');
    st->pending = 0;
    /* a NUL (the parser's answer to &#0; in some versions) is not text */
    const char *s = (const char *)ch;
    for (const char *z; (z = memchr(s, '\0', n)) != NULL; n -= (size_t)(z - s) + 1, s = z + 1)
        buf_append(st->out, s, (size_t)(z - s));
    buf_append(st->out, s, n);
}

static void ignore_text(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx;
    (void)ch;
    (void)len;
}

static void ignore_message(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int html_to_text(const char *html, size_t n, buf *out, html_link_fn on_link, void *ctx, char *err, size_t errlen)
{
    size_t tags = 0;
    for (const char *p = html; (p = memchr(p, '<', n - (size_t)(p - html))) != NULL; p++)
        if (++tags > HTML_TAGS_MAX) {
            if (errlen) snprintf(err, errlen, "more than %d HTML tags", HTML_TAGS_MAX);
            return -1;
        }
    if (n == 0) return 0;
    pthread_once(&init_once, init_libxml);

    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.cdataBlock = ignore_text;
    sax.warning = ignore_message;
    sax.error = ignore_message;
    sax.fatalError = ignore_message;

    state st = {out, out->len, 0, 0, on_link, ctx};
    htmlParserCtxtPtr pc = htmlCreatePushParserCtxt(&sax, &st, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (pc == NULL) {
        if (errlen) snprintf(err, errlen, "HTML parser unavailable");
        return -1;
    }
    htmlCtxtUseOptions(pc, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    char *copy = NULL;
    for (const char *p = html; (p = memmem(p, n - (size_t)(p - html), "</", 2)) != NULL; p += 2)
        if (n - (size_t)(p - html) >= 6 && strncasecmp(p + 2, "html", 4) == 0) {
            if (copy == NULL) copy = xstrndup(html, n);
            copy[p - html + 2] = '_';
        }
    /* the fragment is a body's content: a stray end tag first would otherwise end the document */
    htmlParseChunk(pc, "<html><body>", 12, 0);
    /* chunks below INT_MAX; the caller bounds lines far lower */
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
        off += chunk;
        htmlParseChunk(pc, (copy ? copy : html) + off - chunk, (int)chunk, off == n);
    }
    htmlFreeParserCtxt(pc);
    free(copy);
    /* The parser passes bytes through; keep the promise of valid UTF-8 even
     * for input it resynchronised on: drop the bytes of invalid sequences. */
    size_t bad, w;
    if (out->len > st.start && utf8_validate(out->data + st.start, out->len - st.start, &bad) < 0) {
        w = st.start + bad;
        for (size_t r = w; r < out->len;) {
            uint32_t cp;
            size_t k = utf8_decode(out->data + r, out->len - r, &cp);
            if (k == 0) {
                r++;
                continue;
            }
            memmove(out->data + w, out->data + r, k);
            w += k;
            r += k;
        }
        out->len = w;
        out->data[w] = '\0';
    }
    return 0;
}

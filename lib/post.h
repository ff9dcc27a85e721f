/* post — one canonical tweet being built from a parsed input line, and the
 * checked field readers that every input format (lib/twitter.h,
 * lib/jetstream.h, lib/mastodon.h) shares, so a field of the wrong type is
 * reported in the same words whatever the source. No I/O.
 *
 * A format reader fills a post from a jdoc (lib/jdoc.h), then post_write
 * appends the canonical JSON (its key order is described in lib/tweet.h).
 * String fields are slices: of the jdoc (valid while it is), of a literal,
 * or of one of the post's own buffers (own_*), which a reader fills once
 * and then points the field at. */
#ifndef BIRDFEED_POST_H
#define BIRDFEED_POST_H

#include <stddef.h>

#include "buf.h"
#include "jdoc.h"

#define POST_ID_MAX 256       /* bytes in an id (AT URIs and Mastodon URIs run to ~120) */
/* What a format reader returns for a line that is valid but not a post
 * (a delete, a like, a follow, …), with a short description ("a Twitter
 * delete notice") in p->err; besides 0 (a post) and -1 (rejected). */
#define POST_SKIPPED 1

typedef struct post_str {
    const char *s;            /* NULL when absent */
    size_t n;
} post_str;

typedef struct post {
    const jdoc *d;            /* the document being read */
    char *err;                /* where a reject's reason goes (never NULL) */
    size_t errlen;            /* at least 1 */

    post_str id, network, text, screen_name, name, lang;
    post_str retweeted_id, in_reply_to_id, quoted_id, url;
    char created_at[24];      /* "2018-10-10T20:19:24Z", "" until set */
    long long followers, retweets, sent_us;
    int has_followers, has_sent_us;
    buf hashtags, mentions, urls;   /* the arrays' members, JSON-encoded and comma-separated */
    buf own_id, own_text, own_url;  /* fields the reader had to build */
} post;

/* Empty p for a new line read from d; keeps the buffers' memory. */
void post_reset(post *p, const jdoc *d, char *err, size_t errlen);
/* Release the buffers; p may be NULL. */
void post_free(post *p);

/* Put "reason" in p->err and return -1 (for `return post_reject(…)`). */
int post_reject(post *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "a string", "an object", … for messages. */
const char *post_kind_name(jdoc_type t);

/* An optional string field at node: absent or null gives v->s = NULL.
 * -1 (with the reason, naming `what`) when it has another type or holds a
 * NUL character. */
int post_get_str(post *p, int node, const char *what, post_str *v);
/* An optional id: a string, or a non-negative integer kept digit for digit.
 * -1 when empty, longer than POST_ID_MAX bytes, holding a control
 * character, or of another type. */
int post_get_id(post *p, int node, const char *what, post_str *v);
/* An optional non-negative integer (≤ 2^63-1); *present tells if it was there. */
int post_get_count(post *p, int node, const char *what, long long *v, int *present);
/* -1 unless node is absent, null or an object. */
int post_expect_object(post *p, int node, const char *what);
/* A required date at node into p->created_at: v1.1's "Wed Oct 10 20:19:24
 * +0000 2018" or ISO 8601 with a zone ("…Z", "….000Z", "…+02:00"), as UTC.
 * -1 with "no WHAT" or "WHAT: not a date like …". */
int post_get_date(post *p, int node, const char *what);
/* s[0..n) as a date into out (room for 24 bytes); 0, or -1 when it is not one. */
int post_parse_date(const char *s, size_t n, char out[24]);
/* secs since the epoch as a date into out; -1 outside years 0..9999. */
int post_date_from_epoch(long long secs, char out[24]);

/* Add one member to a list (p->hashtags, ->mentions or ->urls): every
 * leading `sign` ('#', '@' or 0 for none) is dropped first; an empty value
 * is left out. s must be valid UTF-8. */
void post_list_add(buf *list, const char *s, size_t n, char sign);
/* Add s[0..n) to p->urls when it is an http:// or https:// URL
 * (post_is_web_url); anything else — `javascript:`, `mailto:`, a relative
 * link — is left out, in every format. s must be valid UTF-8. */
void post_url_add(post *p, const char *s, size_t n);
/* Add the members of array node `arr` to list: strings (objects == NULL),
 * or objects whose member `field` (else `alt`, may be NULL) holds the
 * string; objects without it are left out (and, for p->urls, members
 * post_url_add leaves out). Absent or null arr adds nothing. -1 with
 * "what[i]: expected …" on a wrong type or a NUL. */
int post_list_from(post *p, buf *list, int arr, const char *what, const char *field, const char *alt, char sign);

/* A URL for the post's page: http(s)://, no space or control character.
 * 1 when s[0..n) is one. */
int post_is_web_url(const char *s, size_t n);

/* Append p's canonical JSON (one line, no newline) to out. id, network,
 * text, screen_name and created_at must be set. */
void post_write(const post *p, buf *out);

#endif

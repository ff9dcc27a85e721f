/* filter — saved searches: parsing, validation, normalising and
 * serialising. No I/O; the REST API, the CLI and the responders' matcher
 * share this one code path.
 *
 * JSON form (what the API returns and Redis stores):
 *   {"id":"7","name":"rust news","track":["rust lang","#rustlang"],
 *    "lang":["en"],"version":2,"created_at":"2026-01-02T03:04:05Z",
 *    "updated_at":"2026-01-02T03:10:00Z"}
 * `lang` is left out when the filter takes every language.
 *
 * Normalising: the name is trimmed; each phrase is trimmed, runs of spaces
 * (and other whitespace/control characters) become one space, letters are
 * lowercased (lib/token.h); duplicate phrases are dropped; language codes are
 * lowercased and duplicates dropped.
 *
 * Notices on the `control` channel (published by lib/filterdb.c):
 *   {"op":"put","filter":{…the filter JSON…}}   created or replaced
 *   {"op":"del","id":"7"}                       deleted */
#ifndef BIRDFEED_FILTER_H
#define BIRDFEED_FILTER_H

#include <stddef.h>

#include "buf.h"
#include "config.h"

#define FILTER_ID_MAX 24      /* decimal id + NUL */
#define FILTER_TIME_MAX 32    /* "2026-01-02T03:04:05Z" + NUL */
#define FILTER_LANGS_MAX 32   /* most language codes in one filter */

typedef struct filter_limits {
    size_t name_max;          /* bytes */
    size_t phrases_max;
    size_t phrase_max;        /* bytes, after normalising */
} filter_limits;

/* A filter value. Owned strings; release with filter_free. id[0] == '\0'
 * and version == 0 until the filter is stored. */
typedef struct filter {
    char id[FILTER_ID_MAX];
    char *name;
    char **track;
    size_t ntrack;
    char **lang;              /* NULL / 0 when any language */
    size_t nlang;
    long long version;
    char created_at[FILTER_TIME_MAX];
    char updated_at[FILTER_TIME_MAX];
} filter;

/* The limits a config asks for (filter_name_max, filter_phrases_max,
 * filter_phrase_max). */
void filter_limits_from_config(filter_limits *lim, const config *cfg);

/* Parse a filter a client sent (API body, CLI input): an object with `name`,
 * `track` and optionally `lang`; `id`, `version`, `created_at` and
 * `updated_at` are accepted and ignored, so what GET returned can be PUT
 * back. Validates against lim and normalises. On success returns 0 with *out
 * filled (caller frees); on failure -1, *out empty, and err names the field
 * and the reason ("track[3]: phrase longer than 60 bytes"). */
int filter_parse(const char *json, size_t len, const filter_limits *lim, filter *out, char *err, size_t errlen);

/* Parse a stored filter (from Redis or a control notice): as filter_parse
 * but `id`, `version` and the times are required and the size limits are
 * not applied (limits may have been lowered since it was saved).
 * 0 ok, -1 with the reason in err. */
int filter_load(const char *json, size_t len, filter *out, char *err, size_t errlen);

/* An ad-hoc filter from a stream's `?q=` value (already URL-decoded):
 * comma-separated phrases, like Twitter's `track` ("rust lang,#golang"),
 * validated with the same rules (errors start with "q"). Name is "q".
 * 0 ok, -1 with the reason in err. */
int filter_from_query(const char *q, size_t len, const filter_limits *lim, filter *out, char *err, size_t errlen);

/* Append the filter's JSON (one line, key order as above) to out. When the
 * filter has no id the "id" member is left out. */
void filter_to_json(const filter *f, buf *out);

/* Name as compared for uniqueness: trimmed and case-folded, into out
 * (caller frees with buf_free). */
void filter_name_key(const char *name, buf *out);

/* Release the strings; f becomes empty. f may be NULL. */
void filter_free(filter *f);

/* A parsed control notice. */
typedef struct filter_notice {
    enum { FILTER_NOTICE_PUT, FILTER_NOTICE_DEL } op;
    filter filter;            /* PUT: the new filter; DEL: only id set */
} filter_notice;

/* Parse a `control` message. 0 ok (caller frees n->filter), -1 with the
 * reason in err. */
int filter_notice_parse(const char *msg, size_t len, filter_notice *n, char *err, size_t errlen);

#endif

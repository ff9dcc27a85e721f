/* auth — bearer tokens for the REST API: who may change filters (and, with
 * auth_reads, read them and open streams).
 *
 * Tokens come from a file, one a line; blank lines and lines starting with
 * '#' are ignored, surrounding spaces are trimmed. A warning is logged when
 * the file is readable by group or others. Tokens are compared in constant
 * time (secure_equal) and never logged or echoed: log lines name the file
 * and the number of tokens only.
 *
 * Thread-safe: any number of threads may call auth_check while another
 * calls auth_reload (SIGHUP). */
#ifndef BIRDFEED_AUTH_H
#define BIRDFEED_AUTH_H

#include <stddef.h>

typedef struct auth auth;

/* Load the tokens of path (NULL: no file, so no token is ever accepted).
 * Returns the object, or NULL with the reason in err (file unreadable, or a
 * line that is not a token: "tokens.txt:3: token contains a space"). */
auth *auth_new(const char *path, char *err, size_t errlen);
void auth_free(auth *a);                               /* a may be NULL */

/* Read the file again. On failure the old tokens stay in force and -1 is
 * returned with the reason in err; 0 on success. */
int auth_reload(auth *a, char *err, size_t errlen);

/* How many tokens are loaded. */
size_t auth_count(auth *a);

/* Is header (the Authorization request header, NULL when absent) a
 * "Bearer <token>" with a known token? 1 yes, 0 no. */
int auth_check(auth *a, const char *header);

/* Parse tokens from text[0..len) (the file's contents; no I/O), for tests
 * and for auth_reload. On success returns 0; *out and *n hold new strings
 * (free each and the array); -1 with "line N: reason" in err. */
int auth_parse(const char *text, size_t len, char ***out, size_t *n, char *err, size_t errlen);

#endif

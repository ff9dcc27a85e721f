/* fcgirec — FastCGI record framing (FastCGI spec §3), for the hub that writes
 * responses on connections it took over from libfcgi, and for tests that read
 * them. No I/O.
 *
 * A record is an 8-byte header (version 1, type, request id, content length,
 * padding length), the content (≤ 65 535 bytes) and the padding. */
#ifndef BIRDFEED_FCGIREC_H
#define BIRDFEED_FCGIREC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FCGIREC_HEADER_LEN 8
#define FCGIREC_MAX_CONTENT 65535
#define FCGIREC_END_LEN 16           /* an FCGI_END_REQUEST record */

enum fcgirec_type {
    FCGIREC_BEGIN_REQUEST = 1,
    FCGIREC_ABORT_REQUEST = 2,
    FCGIREC_END_REQUEST = 3,
    FCGIREC_PARAMS = 4,
    FCGIREC_STDIN = 5,
    FCGIREC_STDOUT = 6,
    FCGIREC_STDERR = 7,
};

/* Fill an 8-byte header for a record of type with content_len (≤ 65 535)
 * bytes of content and no padding. */
void fcgirec_header(unsigned char out[FCGIREC_HEADER_LEN], int type, unsigned request_id, size_t content_len);
/* Fill a complete FCGI_END_REQUEST record (protocol status FCGI_REQUEST_COMPLETE). */
void fcgirec_end_request(unsigned char out[FCGIREC_END_LEN], unsigned request_id, uint32_t app_status);
/* Append data[0..len) as FCGI_STDOUT records of at most 65 535 bytes each
 * (nothing when len is 0). */
void fcgirec_append_stdout(buf *out, unsigned request_id, const void *data, size_t len);

/* One record read back. content points into the parsed bytes. */
typedef struct fcgirec {
    int type;
    unsigned request_id;
    const unsigned char *content;
    size_t content_len;
} fcgirec;

/* Parse the record at the start of p[0..len): returns the bytes it takes
 * (header + content + padding) and fills rec, 0 when more bytes are needed,
 * -1 when the header is not FastCGI version 1. */
long fcgirec_parse(const unsigned char *p, size_t len, fcgirec *rec);

#endif

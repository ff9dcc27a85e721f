#include "fcgirec.h"

void fcgirec_header(unsigned char out[FCGIREC_HEADER_LEN], int type, unsigned request_id, size_t content_len)
{
    out[0] = 1;
    out[1] = (unsigned char)type;
    out[2] = (unsigned char)(request_id >> 8);
    out[3] = (unsigned char)request_id;
    out[4] = (unsigned char)(content_len >> 8);
    out[5] = (unsigned char)content_len;
    out[6] = 0;
    out[7] = 0;
}

void fcgirec_end_request(unsigned char out[FCGIREC_END_LEN], unsigned request_id, uint32_t app_status)
{
    fcgirec_header(out, FCGIREC_END_REQUEST, request_id, 8);
    out[8] = (unsigned char)(app_status >> 24);
    out[9] = (unsigned char)(app_status >> 16);
    out[10] = (unsigned char)(app_status >> 8);
    out[11] = (unsigned char)app_status;
    out[12] = 0;   /* FCGI_REQUEST_COMPLETE */
    out[13] = out[14] = out[15] = 0;
}

void fcgirec_append_stdout(buf *out, unsigned request_id, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        unsigned char h[FCGIREC_HEADER_LEN];
        size_t n = len > FCGIREC_MAX_CONTENT ? FCGIREC_MAX_CONTENT : len;
        fcgirec_header(h, FCGIREC_STDOUT, request_id, n);
        buf_append(out, h, sizeof h);
        buf_append(out, p, n);
        p += n;
        len -= n;
    }
}

long fcgirec_parse(const unsigned char *p, size_t len, fcgirec *rec)
{
    size_t clen, total;
    if (len < FCGIREC_HEADER_LEN) return 0;
    if (p[0] != 1) return -1;
    clen = ((size_t)p[4] << 8) | p[5];
    total = FCGIREC_HEADER_LEN + clen + p[6];
    if (len < total) return 0;
    rec->type = p[1];
    rec->request_id = ((unsigned)p[2] << 8) | p[3];
    rec->content = p + FCGIREC_HEADER_LEN;
    rec->content_len = clen;
    return (long)total;
}

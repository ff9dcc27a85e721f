#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int secretfile_read(const char *path, size_t max, const char *warn_event, buf *out, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char chunk[4096];
    size_t start = out->len;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: not a regular file", path);
            goto fail;
        }
        if (st.st_mode & (S_IRGRP | S_IROTH))
            log_warn(warn_event, "file=%s mode=%03o hint=\"chmod 600: the file holds secrets\"", path,
                     (unsigned)(st.st_mode & 0777));
    }
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0) break;
        buf_append(out, chunk, (size_t)r);
        if (out->len - start > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            goto fail;
        }
    }
    explicit_bzero(chunk, sizeof chunk);
    close(fd);
    return 0;
fail:
    explicit_bzero(chunk, sizeof chunk);
    close(fd);
    return -1;
}

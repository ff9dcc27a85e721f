/* secretfile — read a file that holds secrets (the tokens file, the JWT key).
 *
 * One place for what every secret file needs: a regular file only, a size
 * bound, a warning when group or others may read it, and no copy of the
 * contents left in stack buffers. The contents are never logged. */
#ifndef BIRDFEED_SECRETFILE_H
#define BIRDFEED_SECRETFILE_H

#include <stddef.h>

#include "buf.h"

/* Append the contents of path (at most max bytes) to out. When the file is
 * readable by group or others, logs warn_event (e.g. "auth.file_readable")
 * with the file name and mode. Returns 0, or -1 with "path: reason" in err.
 * The caller wipes out (explicit_bzero) when done with it. */
int secretfile_read(const char *path, size_t max, const char *warn_event, buf *out, char *err, size_t errlen);

#endif

/* file.h -- reading a whole small file (config and policy test files) with a clear error. */
#ifndef MERIDIAN_FILE_H
#define MERIDIAN_FILE_H

#include <stddef.h>

#include "meridian/diag.h"

/* Reads the regular file path, at most max bytes, into a malloc'd buffer with a NUL after the
 * *len bytes read. NULL with "path: cannot read: why" in d (missing, not a regular file, too large,
 * a read error). */
char *file_read_all(const char *path, size_t max, size_t *len, struct diag *d);

#endif

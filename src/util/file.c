/* file.c -- reading a whole small file (see file.h). */
#include "meridian/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read_all(const char *path, size_t max, size_t *len, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	const char *why = NULL;
	char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((uint64_t)st.st_size > max)
		why = "too large";
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		why = "out of memory";
	size_t n = 0;
	while (!why && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			why = strerror(errno);
		if (r <= 0) /* failed, or the file shrank while we read it */
			break;
		n += (size_t)r;
	}
	if (fd >= 0)
		close(fd);
	if (why) {
		diag_error(d, path, 0, "cannot read: %s", why);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * stream.c - send all, and read with a timeout, on a stream socket.  See
 * stream.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stream.h"

/* Free room a read asks for (the NUL's byte included). */
#define READ_ROOM 4097
#define FIRST_CAP 16384

int cir_stream_send(int fd, const void *p, size_t n, const char *what, struct cir_error *err)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return cir_err(err, errno, "%s: send: %s", what, strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int grow(struct cir_stream_buf *b, size_t max, const char *what, struct cir_error *err)
{
	size_t nc = b->cap ? b->cap * 2 : FIRST_CAP;
	char *p;

	if (b->cap - b->len >= READ_ROOM)
		return 0;
	if (nc > max)
		return cir_err(err, EFBIG, "%s: answer too long", what);
	p = realloc(b->buf, nc);
	if (!p)
		return cir_err(err, ENOMEM, "out of memory");
	b->buf = p;
	b->cap = nc;
	return 0;
}

ssize_t cir_stream_recv(int fd, struct cir_stream_buf *b, int timeout_ms, size_t max,
			const char *what, struct cir_error *err)
{
	int r = grow(b, max, what, err);

	if (r < 0)
		return r;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;

		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cir_err(err, errno, "%s: poll: %s", what, strerror(errno));
		if (r == 0)
			return cir_err(err, ETIMEDOUT, "%s: no answer", what);
		got = recv(fd, b->buf + b->len, b->cap - b->len - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return cir_err(err, errno, "%s: recv: %s", what, strerror(errno));
		b->len += (size_t)got;
		return got;
	}
}

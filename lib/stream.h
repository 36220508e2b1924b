/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream.h - bytes over a connected stream socket, for the clients of a
 * local daemon's unix socket (lib/ovsdb.c: ovsdb-server; lib/haproxy_api.c:
 * HAProxy's runtime API): send everything, and read what has come with a
 * timeout into a growing buffer.  Errors name the peer with `what`.
 */
#ifndef CIR_STREAM_H
#define CIR_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Bytes read so far; buf is malloc'd (free it), NULL before the first
 * read, and always has room for a NUL at buf[len]. */
struct cir_stream_buf {
	char *buf;
	size_t len, cap;
};

/* All n bytes of p on fd (no SIGPIPE; EINTR retried).  -errno
 * "WHAT: send: ...". */
int cir_stream_send(int fd, const void *p, size_t n, const char *what, struct cir_error *err);

/*
 * Wait up to timeout_ms for fd to be readable, then append what it has to
 * b (grown by doubling, at most to max bytes: -EFBIG "WHAT: answer too
 * long").  The number of bytes read, 0 when the peer closed the
 * connection; -ETIMEDOUT "WHAT: no answer" when nothing came in time;
 * -errno "WHAT: poll: ..." or "WHAT: recv: ...".
 */
ssize_t cir_stream_recv(int fd, struct cir_stream_buf *b, int timeout_ms, size_t max,
			const char *what, struct cir_error *err);

#endif

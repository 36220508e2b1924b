// SPDX-License-Identifier: Apache-2.0
/*
 * haproxy_api.c - the client of HAProxy's runtime API on lb/haproxy.sock:
 * one connection per command (HAProxy closes it after a non-interactive
 * answer), the whole answer read with a timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "haproxy_int.h"
#include "stream.h"

/* Longest answer read from the runtime API (show stat of many services). */
#define ANSWER_MAX (16u << 20)
/* Its name in errors. */
#define API "haproxy runtime API"

static void stream_buf_free(struct cir_stream_buf *b)
{
	free(b->buf);
}

/* ------------------------------------------------------------ runtime API */

/* Connect to the runtime API: the fd, -ENOENT/-ECONNREFUSED when no
 * haproxy listens there. */
static int api_connect(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int r;

	r = cir_lb_path(db, SOCK_NAME, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (strlen(path) >= sizeof(sa.sun_path))
		return cir_err(err, ENAMETOOLONG, "%s: too long for a unix socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cir_err(err, errno, "haproxy runtime API: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cir_err(err, errno, "haproxy runtime API %s: %s", path, strerror(errno));
	return TAKE_FD(fd);
}

/* All of cmd, then its newline. */
static int api_send(int fd, const char *cmd, struct cir_error *err)
{
	int r = cir_stream_send(fd, cmd, strlen(cmd), API, err);

	return r < 0 ? r : cir_stream_send(fd, "\n", 1, API, err);
}

/* Everything up to HAProxy's close, at most ANSWER_MAX, into *out
 * (malloc'd, NUL terminated); 10 s without a byte is a timeout. */
static int api_read(int fd, char **out, struct cir_error *err)
{
	_cleanup_(stream_buf_free) struct cir_stream_buf b = { 0 };
	ssize_t n;

	do {
		n = cir_stream_recv(fd, &b, 10000, ANSWER_MAX, API, err);
		if (n < 0)
			return (int)n;
	} while (n > 0);
	b.buf[b.len] = '\0';
	*out = TAKE_PTR(b.buf);
	return 0;
}

/* Send one command, read the whole answer (HAProxy closes the connection
 * after answering a non-interactive command) into *out (malloc'd, NUL
 * terminated). */
int cir_hap_api_cmd(struct cir_lb_db *db, const char *cmd, char **out, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = api_connect(db, err);
	if (fd < 0)
		return fd;
	r = api_send(fd, cmd, err);
	return r < 0 ? r : api_read(fd, out, err);
}

/* A command whose success is an empty answer or one of oks; anything else
 * is the error, its first line in the message. */
int cir_hap_api_do(struct cir_lb_db *db, const char *cmd, const char *const *oks,
		   struct cir_error *err)
{
	_cleanup_free_ char *ans = NULL;
	int r = cir_hap_api_cmd(db, cmd, &ans, err);
	size_t l;

	if (r < 0)
		return r;
	l = strspn(ans, "\r\n");
	if (!ans[l])
		return 0;
	for (size_t i = 0; oks && oks[i]; i++)
		if (strncmp(ans + l, oks[i], strlen(oks[i])) == 0)
			return 0;
	ans[l + strcspn(ans + l, "\r\n")] = '\0';
	return cir_err(err, EIO, "haproxy: %s: %.200s", cmd, ans + l);
}

bool cir_hap_running(struct cir_lb_db *db)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int fd = api_connect(db, &e2);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * nlbatch.c - pipelined netlink requests (see nlbatch.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nlbatch.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* What one recv() takes: a failure without its request echoed is 36
 * bytes, so one read holds over a thousand of them. */
#define RECV_BYTES 65536
/* Fewest requests per send when the receive buffer is small. */
#define MIN_REQ 16

struct cir_nl_batch {
	struct nl_sock *sk;
	const char *what;
	char *buf, *rbuf;
	size_t cap, len;
	uint32_t *seq, *tag;
	size_t n, max;          /* queued; most per send */
	struct nlmsghdr *last;
};

void cir_nl_batch_free(struct cir_nl_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b->rbuf);
	free(b->seq);
	free(b->tag);
	free(b);
}

int cir_nl_batch_new(struct nl_sock *sk, size_t bytes, size_t max_req, size_t fail_size,
		     const char *what, struct cir_nl_batch **out, struct cir_error *err)
{
	struct cir_nl_batch *b = calloc(1, sizeof(*b));
	int fd = nl_socket_get_fd(sk), one = 1, rcvbuf = 0;
	socklen_t rl = sizeof(rcvbuf);

	if (b) {
		b->buf = malloc(bytes);
		b->rbuf = malloc(RECV_BYTES);
		b->seq = calloc(max_req, sizeof(*b->seq));
		b->tag = calloc(max_req, sizeof(*b->tag));
	}
	if (!b || !b->buf || !b->rbuf || !b->seq || !b->tag) {
		cir_nl_batch_free(b);
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	}
	b->sk = sk;
	b->what = what;
	b->cap = bytes;
	b->max = max_req;
	/* Failures without the request echoed: small, so that a send full of
	 * failures fits the receive buffer.  A kernel without it echoes; the
	 * overrun is then detected and reported (tag UINT32_MAX). */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (fail_size && getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl) == 0 &&
	    (size_t)rcvbuf / fail_size < b->max)
		b->max = (size_t)rcvbuf / fail_size > MIN_REQ ? (size_t)rcvbuf / fail_size : MIN_REQ;
	*out = b;
	return 0;
}

static void report(struct cir_nl_batch *b, uint32_t seq, int errnum, cir_nl_batch_failed failed,
		   void *arg)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->seq[i] == seq) {
			failed(b->tag[i], errnum, arg);
			return;
		}
}

static void reset(struct cir_nl_batch *b)
{
	b->len = b->n = 0;
	b->last = NULL;
}

/* Read the answers to the ACK of the request numbered want.  The kernel
 * handles a netlink send synchronously: when send() returns, every answer
 * is queued, or was dropped by an overrun (ENOBUFS; the ACK itself may be
 * among them).  So read without waiting: an empty queue before the ACK
 * means it was lost. */
static int read_answers(struct cir_nl_batch *b, uint32_t want, cir_nl_batch_failed failed,
			void *arg, struct cir_error *err)
{
	int fd = nl_socket_get_fd(b->sk);
	bool done = false;

	while (!done) {
		ssize_t got = recv(fd, b->rbuf, RECV_BYTES, MSG_DONTWAIT);
		struct nlmsghdr *nlh = (struct nlmsghdr *)b->rbuf;
		size_t left;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			failed(UINT32_MAX, ENOBUFS, arg);
			return 0;
		}
		if (got < 0 && errno == ENOBUFS) {
			/* Overrun: some failures were dropped. */
			failed(UINT32_MAX, ENOBUFS, arg);
			continue;
		}
		if (got < 0) {
			int e = errno;

			return cir_err(err, e, "%s: receive: %s", b->what, strerror(e));
		}
		left = (size_t)got;
		for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(e->error)))
				continue;
			if (e->error)
				report(b, nlh->nlmsg_seq, -e->error, failed, arg);
			if (nlh->nlmsg_seq == want)
				done = true;
		}
	}
	return 0;
}

int cir_nl_batch_flush(struct cir_nl_batch *b, cir_nl_batch_failed failed, void *arg,
		       struct cir_error *err)
{
	int r, sent = (int)b->n;

	if (b->n == 0)
		return 0;
	/* The last request asks for an ACK: once it (or its error) is read,
	 * every failure before it has been read too (netlink keeps order). */
	b->last->nlmsg_flags |= NLM_F_ACK;
	if (send(nl_socket_get_fd(b->sk), b->buf, b->len, 0) < 0) {
		int e = errno;

		reset(b);
		return cir_err(err, e, "%s: send: %s", b->what, strerror(e));
	}
	r = read_answers(b, b->last->nlmsg_seq, failed, arg, err);
	reset(b);
	return r < 0 ? r : sent;
}

int cir_nl_batch_add(struct cir_nl_batch *b, const struct nlmsghdr *req, uint32_t tag,
		     cir_nl_batch_failed failed, void *arg, struct cir_error *err)
{
	size_t len = NLMSG_ALIGN(req->nlmsg_len);
	struct nlmsghdr *nlh;
	int sent = 0;

	if (len > b->cap)
		return cir_err(err, EMSGSIZE, "%s: request too large", b->what);
	if (b->len + len > b->cap || b->n >= b->max) {
		sent = cir_nl_batch_flush(b, failed, arg, err);
		if (sent < 0)
			return sent;
	}
	nlh = (struct nlmsghdr *)(b->buf + b->len);
	memcpy(nlh, req, req->nlmsg_len);
	memset((char *)nlh + req->nlmsg_len, 0, len - req->nlmsg_len);
	nlh->nlmsg_pid = nl_socket_get_local_port(b->sk);
	nlh->nlmsg_seq = nl_socket_use_seq(b->sk);
	b->last = nlh;
	b->seq[b->n] = nlh->nlmsg_seq;
	b->tag[b->n++] = tag;
	b->len += len;
	return sent;
}

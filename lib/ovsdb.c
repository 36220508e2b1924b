// SPDX-License-Identifier: Apache-2.0
/*
 * ovsdb.c - OVSDB JSON-RPC (RFC 7047) over a unix socket: the connection,
 * a transaction's request around the operations lib/ovsdb_ops.c builds,
 * the stream framing, the server's echo requests, and checking a reply.
 * See ovsdb.h and spec/ovs.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ovsdb.h"

int cir_ovsdb_connect(struct cir_ovsdb *c, const char *path, struct cir_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (!path || !path[0])
		path = CIR_OVSDB_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return cir_err(err, ENAMETOOLONG, "ovsdb %.64s: too long for a unix socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cir_err(err, errno, "ovsdb: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cir_err(err, errno, "ovsdb %s: %s (is ovsdb-server running?)", path,
			       strerror(errno));
	cir_ovsdb_close(c);
	c->fd = TAKE_FD(fd);
	if (!c->timeout_ms)
		c->timeout_ms = CIR_OVSDB_TIMEOUT_MS;
	return 0;
}

void cir_ovsdb_close(struct cir_ovsdb *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in.buf);
	c->in = (struct cir_stream_buf){ 0 };
}

int cir_ovsdb_request(unsigned long long id, cir_ovsdb_ops_fn ops, const struct cir_ovsdb_names *n,
		      char **out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "method", "transact");
	cir_jgen_key(g, "params");
	cir_jgen_arr_open(g);
	cir_jgen_str(g, CIR_OVSDB_DB);
	ops(g, n);
	cir_jgen_arr_close(g);
	cir_jgen_key(g, "id");
	cir_jgen_uint(g, id);
	cir_jgen_map_close(g);
	r = cir_jgen_finish_dup(g, out, err);
	return r < 0 ? cir_err_wrap(err, "ovsdb request") : 0;
}

/* ---- framing and replies ---- */

ssize_t cir_ovsdb_frame(const char *buf, size_t len)
{
	size_t i = 0, depth = 0;
	bool in_str = false, esc = false;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i == len)
		return 0;
	if (buf[i] != '{')
		return -EBADMSG;
	for (; i < len; i++) {
		char ch = buf[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return -EBADMSG;
			if (--depth == 0)
				return (ssize_t)(i + 1);
		}
	}
	return 0;
}

/* The text of an OVSDB error object ({"error": E, "details": D}). */
static int op_error(const struct cir_jnode *o, size_t i, struct cir_error *err)
{
	const char *e = cir_jnode_str(cir_jnode_get(o, "error"));
	const char *d = cir_jnode_str(cir_jnode_get(o, "details"));
	char se[CIR_ERR_SHOWN_MAX], sd[CIR_ERR_SHOWN_MAX * 2];
	int errnum = EPROTO;

	if (!e)
		e = "unknown error";
	if (strcmp(e, "timed out") == 0)
		errnum = ESTALE;
	else if (strcmp(e, "constraint violation") == 0)
		errnum = EEXIST;
	else if (strcmp(e, "referential integrity violation") == 0)
		errnum = EBUSY;
	cir_err_shown(e, se, sizeof(se));
	if (d)
		cir_err_shown(d, sd, sizeof(sd));
	return cir_err(err, errnum, "ovsdb: operation %zu: %s%s%s", i, se, d ? ": " : "",
		       d ? sd : "");
}

int cir_ovsdb_reply_check(const struct cir_jnode *reply, unsigned long long id, size_t n_ops,
			  struct cir_error *err)
{
	const struct cir_jnode *e, *res;
	uint64_t rid = 0;
	size_t n;

	if (cir_jnode_type(reply) != CIR_JOBJECT ||
	    cir_json_u64(reply, "id", UINT64_MAX, &rid, NULL) <= 0 || rid != id)
		return cir_err(err, EBADMSG, "ovsdb: reply is not to request %llu", id);
	e = cir_jnode_get(reply, "error");
	if (e && cir_jnode_type(e) != CIR_JNULL) {
		char s[CIR_ERR_SHOWN_MAX];
		const char *txt = cir_jnode_str(e);

		if (!txt)
			txt = cir_jnode_str(cir_jnode_get(e, "error"));
		return cir_err(err, EPROTO, "ovsdb: %s",
			       cir_err_shown(txt ? txt : "request refused", s, sizeof(s)));
	}
	res = cir_jnode_get(reply, "result");
	if (cir_jnode_type(res) != CIR_JARRAY)
		return cir_err(err, EBADMSG, "ovsdb: reply without a result array");
	n = cir_jnode_len(res);
	/* A failed operation's error object sits at its index; the server may
	 * add one more for a commit error after the last operation. */
	for (size_t i = 0; i < n; i++) {
		const struct cir_jnode *o = cir_jnode_at(res, i);

		if (cir_jnode_type(o) == CIR_JOBJECT && cir_jnode_get(o, "error") &&
		    cir_jnode_type(cir_jnode_get(o, "error")) != CIR_JNULL)
			return op_error(o, i, err);
	}
	if (n < n_ops)
		return cir_err(err, EBADMSG, "ovsdb: %zu results for %zu operations", n, n_ops);
	for (size_t i = 0; i < n_ops; i++)
		if (cir_jnode_type(cir_jnode_at(res, i)) != CIR_JOBJECT)
			return cir_err(err, EBADMSG, "ovsdb: result %zu is not an object", i);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until c->in holds a complete message; return its length. */
static ssize_t read_message(struct cir_ovsdb *c, long long deadline, struct cir_error *err)
{
	for (;;) {
		ssize_t m = cir_ovsdb_frame(c->in.buf ? c->in.buf : "", c->in.len);
		long long left;

		if (m < 0)
			return cir_err(err, EBADMSG, "ovsdb: the server sent something else than "
				       "a JSON object");
		if (m > 0)
			return m;
		if (c->in.len >= CIR_OVSDB_MSG_MAX)
			return cir_err(err, EMSGSIZE, "ovsdb: reply larger than %u bytes",
				       CIR_OVSDB_MSG_MAX);
		left = deadline - now_ms();
		if (left <= 0)
			return cir_err(err, ETIMEDOUT, "ovsdb: no reply within %d ms",
				       c->timeout_ms);
		m = cir_stream_recv(c->fd, &c->in, (int)left, SIZE_MAX, "ovsdb", err);
		if (m == -ETIMEDOUT)
			cir_err_clear(err);     /* the deadline says it */
		else if (m < 0)
			return m;
		else if (m == 0)
			return cir_err(err, ECONNRESET, "ovsdb: the server closed the connection");
	}
}

/* Answer {"method": "echo", "params": P, "id": I} with {"result": P,
 * "error": null, "id": I}. */
static int echo_reply(struct cir_ovsdb *c, const struct cir_jnode *req, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *buf;
	size_t len;
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_key(g, "result");
	cir_jgen_node(g, cir_jnode_get(req, "params"));
	cir_jgen_key(g, "error");
	cir_jgen_null(g);
	cir_jgen_key(g, "id");
	cir_jgen_node(g, cir_jnode_get(req, "id"));
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	return r < 0 ? r : cir_stream_send(c->fd, buf, len, "ovsdb", err);
}

/* How many operations the request's params hold (after the db name). */
static size_t ops_count(const char *req, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	size_t n;

	if (cir_json_parse(req, strlen(req), &j, err) < 0)
		return 0;
	n = cir_jnode_len(cir_jnode_get(cir_json_root(j), "params"));
	return n ? n - 1 : 0;
}

int cir_ovsdb_transact(struct cir_ovsdb *c, cir_ovsdb_ops_fn ops, const struct cir_ovsdb_names *n,
		       struct cir_json **reply, struct cir_error *err)
{
	_cleanup_free_ char *req = NULL;
	long long deadline;
	size_t n_ops;
	int r;

	if (c->fd < 0)
		return cir_err(err, ENOTCONN, "ovsdb: not connected");
	r = cir_ovsdb_request(++c->id, ops, n, &req, err);
	if (r < 0)
		return r;
	n_ops = ops_count(req, err);
	r = cir_stream_send(c->fd, req, strlen(req), "ovsdb", err);
	if (r < 0)
		return r;
	deadline = now_ms() + c->timeout_ms;
	for (;;) {
		_cleanup_json_ struct cir_json *j = NULL;
		const struct cir_jnode *root;
		const char *method;
		uint64_t rid = 0;
		ssize_t m = read_message(c, deadline, err);

		if (m < 0)
			return (int)m;
		r = cir_json_parse_max(c->in.buf, (size_t)m, CIR_OVSDB_MSG_MAX, &j, err);
		memmove(c->in.buf, c->in.buf + m, c->in.len - (size_t)m);
		c->in.len -= (size_t)m;
		if (r < 0)
			return cir_err_wrap(err, "ovsdb reply");
		root = cir_json_root(j);
		method = cir_jnode_str(cir_jnode_get(root, "method"));
		if (method && strcmp(method, "echo") == 0) {
			r = echo_reply(c, root, err);
			if (r < 0)
				return r;
			continue;
		}
		if (method)
			continue;       /* a notification ("update", "locked") */
		/* A late reply to an earlier request (one that timed out). */
		if (cir_json_u64(root, "id", UINT64_MAX, &rid, NULL) > 0 && rid < c->id)
			continue;
		r = cir_ovsdb_reply_check(root, c->id, n_ops, err);
		if (r < 0)
			return r;
		*reply = TAKE_PTR(j);
		return 0;
	}
}

// SPDX-License-Identifier: Apache-2.0
/*
 * ovsdb.c - OVSDB JSON-RPC (RFC 7047) over a unix socket: the transactions
 * circuit-ovs makes on the Open_vSwitch database, the stream framing, and
 * reading the replies.  See ovsdb.h and spec/ovs.md.
 */
#include <errno.h>
#include <poll.h>
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
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* ---- building ---- */

/* [column, "==", value] with a string value */
static void cond_str(struct cir_jgen *g, const char *col, const char *fn, const char *v)
{
	cir_jgen_arr_open(g);
	cir_jgen_str(g, col);
	cir_jgen_str(g, fn);
	cir_jgen_str(g, v);
	cir_jgen_arr_close(g);
}

/* a two-element array: ["uuid", id], ["named-uuid", name] */
static void pair(struct cir_jgen *g, const char *a, const char *b)
{
	cir_jgen_arr_open(g);
	cir_jgen_str(g, a);
	cir_jgen_str(g, b);
	cir_jgen_arr_close(g);
}

/* "where": [[col, "==", v]] */
static void where_eq(struct cir_jgen *g, const char *col, const char *v)
{
	cir_jgen_key(g, "where");
	cir_jgen_arr_open(g);
	cond_str(g, col, "==", v);
	cir_jgen_arr_close(g);
}

/* "columns": [names...] (NULL-terminated) */
static void columns(struct cir_jgen *g, const char *const *cols)
{
	cir_jgen_key(g, "columns");
	cir_jgen_arr_open(g);
	for (; *cols; cols++)
		cir_jgen_str(g, *cols);
	cir_jgen_arr_close(g);
}

/* "external_ids": ["map", [[CIR_OVSDB_OWNER_KEY, network]]] */
static void owner_ids(struct cir_jgen *g, const char *network)
{
	cir_jgen_key(g, "external_ids");
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "map");
	cir_jgen_arr_open(g);
	pair(g, CIR_OVSDB_OWNER_KEY, network);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
}

/* {"op": "wait", "table": T, "where": [[col, "==", v]], "columns": [col],
 *  "until": until, "rows": [], "timeout": 0}: fails at once ("timed out")
 * unless the rows matching are (==) or are not (!=) none. */
static void wait_none(struct cir_jgen *g, const char *table, const char *col, const char *v,
		      const char *until)
{
	static const char *const cols[] = { "_uuid", NULL };

	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "wait");
	cir_jgen_kstr(g, "table", table);
	if (col) {
		where_eq(g, col, v);
	} else {
		cir_jgen_key(g, "where");
		cir_jgen_arr_open(g);
		cir_jgen_arr_close(g);
	}
	columns(g, cols);
	cir_jgen_kstr(g, "until", until);
	cir_jgen_key(g, "rows");
	cir_jgen_arr_open(g);
	cir_jgen_arr_close(g);
	cir_jgen_kint(g, "timeout", 0);
	cir_jgen_map_close(g);
}

static void insert_iface(struct cir_jgen *g, const char *name, const char *type,
			 unsigned int mtu, const char *network, const char *uuid_name)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "insert");
	cir_jgen_kstr(g, "table", "Interface");
	cir_jgen_key(g, "row");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "name", name);
	if (type)
		cir_jgen_kstr(g, "type", type);
	if (mtu)
		cir_jgen_kint(g, "mtu_request", mtu);
	owner_ids(g, network);
	cir_jgen_map_close(g);
	cir_jgen_kstr(g, "uuid-name", uuid_name);
	cir_jgen_map_close(g);
}

static void insert_port(struct cir_jgen *g, const char *name, unsigned int tag,
			const char *network, const char *iface, const char *uuid_name)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "insert");
	cir_jgen_kstr(g, "table", "Port");
	cir_jgen_key(g, "row");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "name", name);
	cir_jgen_key(g, "interfaces");
	pair(g, "named-uuid", iface);
	if (tag)
		cir_jgen_kint(g, "tag", tag);
	owner_ids(g, network);
	cir_jgen_map_close(g);
	cir_jgen_kstr(g, "uuid-name", uuid_name);
	cir_jgen_map_close(g);
}

/* {"op": "mutate", "table": T, "where": W, "mutations": [[col, how, atom]]}
 * with W [[wcol, wfn, wval]] (wval a string or, with wuuid, ["uuid", wval])
 * or [] without wcol. */
static void mutate_ref(struct cir_jgen *g, const char *table, const char *wcol, const char *wfn,
		       const char *wval, bool wuuid, const char *col, const char *how,
		       const char *ref_kind, const char *ref)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "mutate");
	cir_jgen_kstr(g, "table", table);
	cir_jgen_key(g, "where");
	cir_jgen_arr_open(g);
	if (wcol) {
		cir_jgen_arr_open(g);
		cir_jgen_str(g, wcol);
		cir_jgen_str(g, wfn);
		if (wuuid)
			pair(g, "uuid", wval);
		else
			cir_jgen_str(g, wval);
		cir_jgen_arr_close(g);
	}
	cir_jgen_arr_close(g);
	cir_jgen_key(g, "mutations");
	cir_jgen_arr_open(g);
	cir_jgen_arr_open(g);
	cir_jgen_str(g, col);
	cir_jgen_str(g, how);
	pair(g, ref_kind, ref);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_map_close(g);
}

void cir_ovsdb_ops_bridge_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	wait_none(g, "Bridge", "name", n->bridge, "==");
	insert_iface(g, n->bridge, "internal", n->mtu, n->network, "gwif");
	insert_port(g, n->bridge, n->tag, n->network, "gwif", "gwport");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "insert");
	cir_jgen_kstr(g, "table", "Bridge");
	cir_jgen_key(g, "row");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "name", n->bridge);
	cir_jgen_key(g, "ports");
	pair(g, "named-uuid", "gwport");
	owner_ids(g, n->network);
	cir_jgen_map_close(g);
	cir_jgen_kstr(g, "uuid-name", "br");
	cir_jgen_map_close(g);
	mutate_ref(g, "Open_vSwitch", NULL, NULL, NULL, false, "bridges", "insert",
		   "named-uuid", "br");
}

void cir_ovsdb_ops_root_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	wait_none(g, "Open_vSwitch", NULL, NULL, "==");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "insert");
	cir_jgen_kstr(g, "table", "Open_vSwitch");
	cir_jgen_key(g, "row");
	cir_jgen_map_open(g);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
}

void cir_ovsdb_ops_port_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	wait_none(g, "Bridge", "name", n->bridge, "!=");
	insert_iface(g, n->port, NULL, 0, n->network, "if");
	insert_port(g, n->port, n->tag, n->network, "if", "port");
	mutate_ref(g, "Bridge", "name", "==", n->bridge, false, "ports", "insert",
		   "named-uuid", "port");
}

static void select_op(struct cir_jgen *g, const char *table, const char *col, const char *v,
		      const char *const *cols)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "select");
	cir_jgen_kstr(g, "table", table);
	where_eq(g, col, v);
	columns(g, cols);
	cir_jgen_map_close(g);
}

void cir_ovsdb_ops_find(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const pcols[] = { "_uuid", "tag", NULL };
	static const char *const bcols[] = { "_uuid", "ports", "external_ids", NULL };

	select_op(g, "Port", "name", n->port ? n->port : "", pcols);
	select_op(g, "Bridge", "name", n->bridge ? n->bridge : "", bcols);
}

void cir_ovsdb_ops_port_del(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	mutate_ref(g, "Bridge", "ports", "includes", n->uuid, true, "ports", "delete",
		   "uuid", n->uuid);
}

void cir_ovsdb_ops_bridge_del(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const cols[] = { "ports", NULL };

	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "wait");
	cir_jgen_kstr(g, "table", "Bridge");
	cir_jgen_key(g, "where");
	cir_jgen_arr_open(g);
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "_uuid");
	cir_jgen_str(g, "==");
	pair(g, "uuid", n->uuid);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	columns(g, cols);
	cir_jgen_kstr(g, "until", "==");
	cir_jgen_key(g, "rows");
	cir_jgen_arr_open(g);
	cir_jgen_map_open(g);
	cir_jgen_key(g, "ports");
	if (n->ports) {
		cir_jgen_node(g, n->ports);
	} else {
		cir_jgen_arr_open(g);
		cir_jgen_str(g, "set");
		cir_jgen_arr_open(g);
		cir_jgen_arr_close(g);
		cir_jgen_arr_close(g);
	}
	cir_jgen_map_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_kint(g, "timeout", 0);
	cir_jgen_map_close(g);
	mutate_ref(g, "Open_vSwitch", NULL, NULL, NULL, false, "bridges", "delete", "uuid",
		   n->uuid);
}

void cir_ovsdb_ops_owned_ports(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const cols[] = { "_uuid", "name", NULL };

	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "select");
	cir_jgen_kstr(g, "table", "Port");
	cir_jgen_key(g, "where");
	cir_jgen_arr_open(g);
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "external_ids");
	cir_jgen_str(g, "includes");
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "map");
	cir_jgen_arr_open(g);
	pair(g, CIR_OVSDB_OWNER_KEY, n->network);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	columns(g, cols);
	cir_jgen_map_close(g);
}

/* "key": the integer v, or the empty set ["set", []] (the column's
 * "none") when v is 0. */
static void kint_or_none(struct cir_jgen *g, const char *key, unsigned int v)
{
	cir_jgen_key(g, key);
	if (v) {
		cir_jgen_uint(g, v);
		return;
	}
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "set");
	cir_jgen_arr_open(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
}

void cir_ovsdb_ops_bridge_read(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const bcols[] = { "_uuid", "external_ids", NULL };
	static const char *const pcols[] = { "_uuid", "tag", NULL };
	static const char *const icols[] = { "_uuid", "mtu_request", NULL };

	select_op(g, "Bridge", "name", n->bridge, bcols);
	select_op(g, "Port", "name", n->bridge, pcols);
	select_op(g, "Interface", "name", n->bridge, icols);
}

static void update_op(struct cir_jgen *g, const char *table, const char *name, const char *col,
		      unsigned int v)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "update");
	cir_jgen_kstr(g, "table", table);
	where_eq(g, "name", name);
	cir_jgen_key(g, "row");
	cir_jgen_map_open(g);
	kint_or_none(g, col, v);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
}

void cir_ovsdb_ops_bridge_set(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const cols[] = { "_uuid", NULL };

	/* The bridge must still carry this network's mark. */
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", "wait");
	cir_jgen_kstr(g, "table", "Bridge");
	cir_jgen_key(g, "where");
	cir_jgen_arr_open(g);
	cond_str(g, "name", "==", n->bridge);
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "external_ids");
	cir_jgen_str(g, "includes");
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "map");
	cir_jgen_arr_open(g);
	pair(g, CIR_OVSDB_OWNER_KEY, n->network);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
	columns(g, cols);
	cir_jgen_kstr(g, "until", "!=");
	cir_jgen_key(g, "rows");
	cir_jgen_arr_open(g);
	cir_jgen_arr_close(g);
	cir_jgen_kint(g, "timeout", 0);
	cir_jgen_map_close(g);
	update_op(g, "Port", n->bridge, "tag", n->tag);
	update_op(g, "Interface", n->bridge, "mtu_request", n->mtu);
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

static int send_all(int fd, const char *p, size_t n, struct cir_error *err)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return cir_err(err, errno, "ovsdb: send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until c->buf holds a complete message; return its length. */
static ssize_t read_message(struct cir_ovsdb *c, long long deadline, struct cir_error *err)
{
	for (;;) {
		ssize_t m = cir_ovsdb_frame(c->buf ? c->buf : "", c->len);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long left;
		ssize_t got;
		int pr;

		if (m < 0)
			return cir_err(err, EBADMSG, "ovsdb: the server sent something else than "
				       "a JSON object");
		if (m > 0)
			return m;
		if (c->len >= CIR_OVSDB_MSG_MAX)
			return cir_err(err, EMSGSIZE, "ovsdb: reply larger than %u bytes",
				       CIR_OVSDB_MSG_MAX);
		if (c->cap - c->len < 4096) {
			size_t nc = c->cap ? c->cap * 2 : 16384;
			char *p = realloc(c->buf, nc);

			if (!p)
				return cir_err(err, ENOMEM, "out of memory");
			c->buf = p;
			c->cap = nc;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return cir_err(err, ETIMEDOUT, "ovsdb: no reply within %d ms",
				       c->timeout_ms);
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return cir_err(err, errno, "ovsdb: poll: %s", strerror(errno));
		if (pr == 0)
			continue;
		got = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return cir_err(err, errno, "ovsdb: recv: %s", strerror(errno));
		if (got == 0)
			return cir_err(err, ECONNRESET, "ovsdb: the server closed the connection");
		c->len += (size_t)got;
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
	return r < 0 ? r : send_all(c->fd, buf, len, err);
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
	r = send_all(c->fd, req, strlen(req), err);
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
		r = cir_json_parse_max(c->buf, (size_t)m, CIR_OVSDB_MSG_MAX, &j, err);
		memmove(c->buf, c->buf + m, c->len - (size_t)m);
		c->len -= (size_t)m;
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

/* ---- reading results ---- */

const struct cir_jnode *cir_ovsdb_result(const struct cir_jnode *reply, size_t i)
{
	return cir_jnode_at(cir_jnode_get(reply, "result"), i);
}

const struct cir_jnode *cir_ovsdb_rows(const struct cir_jnode *result)
{
	const struct cir_jnode *rows = cir_jnode_get(result, "rows");

	return cir_jnode_type(rows) == CIR_JARRAY ? rows : NULL;
}

long long cir_ovsdb_count(const struct cir_jnode *result)
{
	uint64_t v = 0;

	if (cir_json_u64(result, "count", INT64_MAX, &v, NULL) <= 0)
		return -1;
	return (long long)v;
}

const char *cir_ovsdb_uuid(const struct cir_jnode *atom)
{
	const char *k = cir_jnode_str(cir_jnode_at(atom, 0));

	if (cir_jnode_type(atom) != CIR_JARRAY || cir_jnode_len(atom) != 2 || !k ||
	    strcmp(k, "uuid") != 0)
		return NULL;
	return cir_jnode_str(cir_jnode_at(atom, 1));
}

static bool is_tagged(const struct cir_jnode *v, const char *tag)
{
	const char *k = cir_jnode_str(cir_jnode_at(v, 0));

	return cir_jnode_type(v) == CIR_JARRAY && cir_jnode_len(v) == 2 && k &&
	       strcmp(k, tag) == 0;
}

size_t cir_ovsdb_set_len(const struct cir_jnode *v)
{
	if (!v || cir_jnode_type(v) == CIR_JNONE)
		return 0;
	if (is_tagged(v, "set"))
		return cir_jnode_len(cir_jnode_at(v, 1));
	return 1;
}

const struct cir_jnode *cir_ovsdb_set_at(const struct cir_jnode *v, size_t i)
{
	if (is_tagged(v, "set"))
		return cir_jnode_at(cir_jnode_at(v, 1), i);
	return i == 0 ? v : NULL;
}

bool cir_ovsdb_set_has_uuid(const struct cir_jnode *v, const char *uuid)
{
	for (size_t i = 0; i < cir_ovsdb_set_len(v); i++) {
		const char *u = cir_ovsdb_uuid(cir_ovsdb_set_at(v, i));

		if (u && strcmp(u, uuid) == 0)
			return true;
	}
	return false;
}

const char *cir_ovsdb_map_get(const struct cir_jnode *v, const char *key)
{
	const struct cir_jnode *pairs;

	if (!is_tagged(v, "map"))
		return NULL;
	pairs = cir_jnode_at(v, 1);
	for (size_t i = 0; i < cir_jnode_len(pairs); i++) {
		const struct cir_jnode *p = cir_jnode_at(pairs, i);
		const char *k = cir_jnode_str(cir_jnode_at(p, 0));

		if (k && strcmp(k, key) == 0)
			return cir_jnode_str(cir_jnode_at(p, 1));
	}
	return NULL;
}

/* An integer column of at most one value: the integer, or 0 for the empty
 * set; -EBADMSG for anything else or a value above max. */
static int opt_uint(const struct cir_jnode *row, const char *col, uint64_t max,
		    unsigned int *out, struct cir_error *err)
{
	const struct cir_jnode *v = cir_jnode_get(row, col);
	uint64_t u = 0;

	*out = 0;
	if (cir_jnode_type(v) == CIR_JNUMBER) {
		if (cir_json_u64(row, col, max, &u, NULL) <= 0)
			return cir_err(err, EBADMSG, "ovsdb: %s is not an integer 0-%llu", col,
				       (unsigned long long)max);
		*out = (unsigned int)u;
		return 0;
	}
	if (is_tagged(v, "set") && cir_ovsdb_set_len(v) == 0)
		return 0;
	return cir_err(err, EBADMSG, "ovsdb: %s is neither an integer nor empty", col);
}

int cir_ovsdb_bridge_parse(const struct cir_jnode *reply, struct cir_ovsdb_bridge *b,
			   struct cir_error *err)
{
	const struct cir_jnode *br, *port, *iface;
	int r;

	memset(b, 0, sizeof(*b));
	br = cir_jnode_at(cir_ovsdb_rows(cir_ovsdb_result(reply, 0)), 0);
	port = cir_jnode_at(cir_ovsdb_rows(cir_ovsdb_result(reply, 1)), 0);
	iface = cir_jnode_at(cir_ovsdb_rows(cir_ovsdb_result(reply, 2)), 0);
	if (!br)
		return 0;
	b->exists = true;
	b->owner = cir_ovsdb_map_get(cir_jnode_get(br, "external_ids"), CIR_OVSDB_OWNER_KEY);
	if (port) {
		b->port = true;
		r = opt_uint(port, "tag", 4095, &b->tag, err);
		if (r < 0)
			return r;
	}
	if (iface) {
		b->iface = true;
		r = opt_uint(iface, "mtu_request", INT32_MAX, &b->mtu, err);
		if (r < 0)
			return r;
	}
	return 0;
}

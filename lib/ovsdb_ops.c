// SPDX-License-Identifier: Apache-2.0
/*
 * ovsdb_ops.c - the operations circuit-ovs puts in OVSDB transactions on
 * the Open_vSwitch database (RFC 7047 section 5.2), all written by one
 * builder (emit_op) from a description of the operation; and reading
 * their results (the set, map and uuid notations of section 5.1).  The
 * JSON-RPC transport is lib/ovsdb.c.  See ovsdb.h and spec/ovs.md.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ovsdb.h"

/* ---- building ---- */

/* An OVSDB value (RFC 7047 5.1), as far as these operations need. */
enum val_kind {
	V_STR,          /* a string */
	V_UINT,         /* an integer */
	V_UINT_OR_NONE, /* an integer, or the empty set ["set", []] for 0 */
	V_UUID,         /* ["uuid", s] */
	V_NAMED,        /* ["named-uuid", s]: a row inserted by this transaction */
	V_OWNER,        /* ["map", [[CIR_OVSDB_OWNER_KEY, s]]] */
	V_NODE_OR_NONE, /* a value as read (node), or the empty set without one */
};

struct val {
	enum val_kind k;
	const char *s;
	unsigned int u;
	const struct cir_jnode *node;
};

/* A row's column ("name": value), a condition [name, fn, value] or a
 * mutation [name, fn, value]; with opt, left out when the value is empty
 * (a NULL string, 0).  Lists end with a NULL name. */
struct col {
	const char *name;
	const char *fn;
	struct val v;
	bool opt;
};

/*
 * One operation.  Keys are written in this order, each only when set:
 * op, table, where (always but for insert; NULL: []), columns, row
 * (insert and update), mutations (mutate), until with rows (wait: [] or
 * [row]) and a timeout of 0 (fail at once when the condition does not
 * hold), uuid-name (insert).
 */
struct op {
	const char *op, *table;
	const struct col *where;
	const char *const *columns;
	const struct col *row;
	const struct col *mutation;
	const char *until;
	const char *uuid_name;
};

#define STR(x)     { .k = V_STR, .s = (x) }
#define UINT(x)    { .k = V_UINT, .u = (x) }
#define UINT0(x)   { .k = V_UINT_OR_NONE, .u = (x) }
#define UUID(x)    { .k = V_UUID, .s = (x) }
#define NAMED(x)   { .k = V_NAMED, .s = (x) }
#define OWNER(x)   { .k = V_OWNER, .s = (x) }
#define NODE0(x)   { .k = V_NODE_OR_NONE, .node = (x) }
#define COL(n, x)        { .name = (n), .v = x }
#define COL_OPT(n, x)    { .name = (n), .v = x, .opt = true }
#define COND(n, f, x)    { .name = (n), .fn = (f), .v = x }
#define OWNED(network)   COL("external_ids", OWNER(network))
#define END        { .name = NULL }

static const char *const uuid_only[] = { "_uuid", NULL };

/* a two-element array: ["uuid", id], ["named-uuid", name], [key, value] */
static void pair(struct cir_jgen *g, const char *a, const char *b)
{
	cir_jgen_arr_open(g);
	cir_jgen_str(g, a);
	cir_jgen_str(g, b);
	cir_jgen_arr_close(g);
}

static void empty_set(struct cir_jgen *g)
{
	cir_jgen_arr_open(g);
	cir_jgen_str(g, "set");
	cir_jgen_arr_open(g);
	cir_jgen_arr_close(g);
	cir_jgen_arr_close(g);
}

static void emit_val(struct cir_jgen *g, const struct val *v)
{
	switch (v->k) {
	case V_STR:
		cir_jgen_str(g, v->s);
		break;
	case V_UINT:
		cir_jgen_uint(g, v->u);
		break;
	case V_UINT_OR_NONE:
		if (v->u)
			cir_jgen_uint(g, v->u);
		else
			empty_set(g);
		break;
	case V_UUID:
		pair(g, "uuid", v->s);
		break;
	case V_NAMED:
		pair(g, "named-uuid", v->s);
		break;
	case V_OWNER:
		cir_jgen_arr_open(g);
		cir_jgen_str(g, "map");
		cir_jgen_arr_open(g);
		pair(g, CIR_OVSDB_OWNER_KEY, v->s);
		cir_jgen_arr_close(g);
		cir_jgen_arr_close(g);
		break;
	case V_NODE_OR_NONE:
		if (v->node)
			cir_jgen_node(g, v->node);
		else
			empty_set(g);
		break;
	}
}

static bool col_skipped(const struct col *c)
{
	return c->opt && ((c->v.k == V_STR && !c->v.s) || (c->v.k == V_UINT && !c->v.u));
}

/* {"name": value, ...} */
static void emit_row(struct cir_jgen *g, const struct col *row)
{
	cir_jgen_map_open(g);
	for (; row->name; row++) {
		if (col_skipped(row))
			continue;
		cir_jgen_key(g, row->name);
		emit_val(g, &row->v);
	}
	cir_jgen_map_close(g);
}

/* [[name, fn, value], ...] (none: []) */
static void emit_triples(struct cir_jgen *g, const struct col *c)
{
	cir_jgen_arr_open(g);
	for (; c && c->name; c++) {
		cir_jgen_arr_open(g);
		cir_jgen_str(g, c->name);
		cir_jgen_str(g, c->fn);
		emit_val(g, &c->v);
		cir_jgen_arr_close(g);
	}
	cir_jgen_arr_close(g);
}

/* The one builder: operation o as RFC 7047's JSON object. */
static void emit_op(struct cir_jgen *g, const struct op *o)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "op", o->op);
	cir_jgen_kstr(g, "table", o->table);
	if (strcmp(o->op, "insert") != 0) {
		cir_jgen_key(g, "where");
		emit_triples(g, o->where);
	}
	if (o->columns) {
		cir_jgen_key(g, "columns");
		cir_jgen_arr_open(g);
		for (const char *const *c = o->columns; *c; c++)
			cir_jgen_str(g, *c);
		cir_jgen_arr_close(g);
	}
	if (o->row && !o->until) {
		cir_jgen_key(g, "row");
		emit_row(g, o->row);
	}
	if (o->mutation) {
		cir_jgen_key(g, "mutations");
		emit_triples(g, o->mutation);
	}
	if (o->until) {
		cir_jgen_kstr(g, "until", o->until);
		cir_jgen_key(g, "rows");
		cir_jgen_arr_open(g);
		if (o->row)
			emit_row(g, o->row);
		cir_jgen_arr_close(g);
		cir_jgen_kint(g, "timeout", 0);
	}
	if (o->uuid_name)
		cir_jgen_kstr(g, "uuid-name", o->uuid_name);
	cir_jgen_map_close(g);
}

/* A "wait" on table's rows where name == v (any rows without v): fails
 * at once ("timed out") unless there are (until "!=") or are not ("==")
 * such rows. */
static void wait_named(struct cir_jgen *g, const char *table, const char *v, const char *until)
{
	const struct col where[] = { COND("name", "==", STR(v)), END };

	emit_op(g, &(struct op){ .op = "wait", .table = table, .where = v ? where : NULL,
				 .columns = uuid_only, .until = until });
}

/* Interface and Port `name` (the Port on VLAN tag when non-zero, the
 * Interface of type `type` with mtu_request mtu when given), owned by
 * network, as named rows ifname and portname. */
static void insert_port(struct cir_jgen *g, const struct cir_ovsdb_names *n, const char *name,
			const char *type, unsigned int mtu, const char *ifname, const char *portname)
{
	const struct col iface[] = {
		COL("name", STR(name)), COL_OPT("type", STR(type)),
		COL_OPT("mtu_request", UINT(mtu)), OWNED(n->network), END
	};
	const struct col port[] = {
		COL("name", STR(name)), COL("interfaces", NAMED(ifname)),
		COL_OPT("tag", UINT(n->tag)), OWNED(n->network), END
	};

	emit_op(g, &(struct op){ .op = "insert", .table = "Interface", .row = iface,
				 .uuid_name = ifname });
	emit_op(g, &(struct op){ .op = "insert", .table = "Port", .row = port,
				 .uuid_name = portname });
}

/* select cols from table where name == v */
static void select_named(struct cir_jgen *g, const char *table, const char *v,
			 const char *const *cols)
{
	const struct col where[] = { COND("name", "==", STR(v)), END };

	emit_op(g, &(struct op){ .op = "select", .table = table, .where = where,
				 .columns = cols });
}

void cir_ovsdb_ops_bridge_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	const struct col br[] = {
		COL("name", STR(n->bridge)), COL("ports", NAMED("gwport")), OWNED(n->network), END
	};
	const struct col mut[] = { COND("bridges", "insert", NAMED("br")), END };

	wait_named(g, "Bridge", n->bridge, "==");
	insert_port(g, n, n->bridge, "internal", n->mtu, "gwif", "gwport");
	emit_op(g, &(struct op){ .op = "insert", .table = "Bridge", .row = br, .uuid_name = "br" });
	emit_op(g, &(struct op){ .op = "mutate", .table = "Open_vSwitch", .mutation = mut });
}

void cir_ovsdb_ops_root_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	const struct col empty[] = { END };

	wait_named(g, "Open_vSwitch", NULL, "==");
	emit_op(g, &(struct op){ .op = "insert", .table = "Open_vSwitch", .row = empty });
}

void cir_ovsdb_ops_port_add(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	const struct col where[] = { COND("name", "==", STR(n->bridge)), END };
	const struct col mut[] = { COND("ports", "insert", NAMED("port")), END };

	wait_named(g, "Bridge", n->bridge, "!=");
	insert_port(g, n, n->port, NULL, 0, "if", "port");
	emit_op(g, &(struct op){ .op = "mutate", .table = "Bridge", .where = where,
				 .mutation = mut });
}

void cir_ovsdb_ops_find(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const pcols[] = { "_uuid", "tag", NULL };
	static const char *const bcols[] = { "_uuid", "ports", "external_ids", NULL };

	select_named(g, "Port", n->port ? n->port : "", pcols);
	select_named(g, "Bridge", n->bridge ? n->bridge : "", bcols);
}

void cir_ovsdb_ops_port_del(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	const struct col where[] = { COND("ports", "includes", UUID(n->uuid)), END };
	const struct col mut[] = { COND("ports", "delete", UUID(n->uuid)), END };

	emit_op(g, &(struct op){ .op = "mutate", .table = "Bridge", .where = where,
				 .mutation = mut });
}

void cir_ovsdb_ops_bridge_del(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const cols[] = { "ports", NULL };
	const struct col where[] = { COND("_uuid", "==", UUID(n->uuid)), END };
	const struct col row[] = { COL("ports", NODE0(n->ports)), END };
	const struct col mut[] = { COND("bridges", "delete", UUID(n->uuid)), END };

	emit_op(g, &(struct op){ .op = "wait", .table = "Bridge", .where = where, .columns = cols,
				 .row = row, .until = "==" });
	emit_op(g, &(struct op){ .op = "mutate", .table = "Open_vSwitch", .mutation = mut });
}

void cir_ovsdb_ops_owned_ports(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const cols[] = { "_uuid", "name", NULL };
	const struct col where[] = { COND("external_ids", "includes", OWNER(n->network)), END };

	emit_op(g, &(struct op){ .op = "select", .table = "Port", .where = where, .columns = cols });
}

void cir_ovsdb_ops_bridge_read(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	static const char *const bcols[] = { "_uuid", "external_ids", NULL };
	static const char *const pcols[] = { "_uuid", "tag", NULL };
	static const char *const icols[] = { "_uuid", "mtu_request", NULL };

	select_named(g, "Bridge", n->bridge, bcols);
	select_named(g, "Port", n->bridge, pcols);
	select_named(g, "Interface", n->bridge, icols);
}

void cir_ovsdb_ops_bridge_set(struct cir_jgen *g, const struct cir_ovsdb_names *n)
{
	/* The bridge must still carry this network's mark. */
	const struct col mine[] = {
		COND("name", "==", STR(n->bridge)),
		COND("external_ids", "includes", OWNER(n->network)), END
	};
	const struct col where[] = { COND("name", "==", STR(n->bridge)), END };
	const struct col port[] = { COL("tag", UINT0(n->tag)), END };
	const struct col iface[] = { COL("mtu_request", UINT0(n->mtu)), END };

	emit_op(g, &(struct op){ .op = "wait", .table = "Bridge", .where = mine,
				 .columns = uuid_only, .until = "!=" });
	emit_op(g, &(struct op){ .op = "update", .table = "Port", .where = where, .row = port });
	emit_op(g, &(struct op){ .op = "update", .table = "Interface", .where = where,
				 .row = iface });
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

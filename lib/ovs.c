// SPDX-License-Identifier: Apache-2.0
/*
 * ovs.c - an Open vSwitch bridge as a network's switch: one OVSDB
 * transaction per change (lib/ovsdb.c), netlink for the internal
 * interface ovs-vswitchd makes in the kernel.  See ovs.h, spec/ovs.md.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "ovs.h"

/* Kind of the kernel links ovs-vswitchd makes for internal ports. */
#define OVS_LINK_KIND "openvswitch"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for ovs-vswitchd to make bridge's internal interface. */
static int link_wait(struct nl_sock *sk, const char *bridge, struct cir_link_info *li,
		     struct cir_error *err)
{
	for (int waited = 0;; waited += 20) {
		int r = cir_link_get(sk, bridge, li, err);

		if (r == 0 && strcmp(li->kind, OVS_LINK_KIND) != 0)
			return cir_err(err, EEXIST, "a %s link of that name exists",
				       li->kind[0] ? li->kind : "non-OVS");
		if (r == 0)
			return 0;
		if (r != -ENODEV)
			return r;
		if (waited >= CIR_OVS_LINK_WAIT_MS)
			return cir_err(err, ETIMEDOUT, "no interface %s after %d ms "
				       "(is ovs-vswitchd running?)", bridge, CIR_OVS_LINK_WAIT_MS);
		cir_err_clear(err);
		sleep_ms(20);
	}
}

int cir_ovs_bridge_ensure(struct cir_ovsdb *c, struct nl_sock *sk, const char *bridge,
			  const char *network, unsigned int tag, unsigned int mtu,
			  struct cir_link_info *li, bool *made, struct cir_error *err)
{
	struct cir_ovsdb_names n = { .bridge = bridge, .network = network, .mtu = mtu,
				     .tag = tag };
	bool created = false;
	int r;

	/* A Linux link of that name (a bridge of another driver) is refused
	 * before the database is touched. */
	r = cir_link_get(sk, bridge, li, NULL);
	if (r == 0 && strcmp(li->kind, OVS_LINK_KIND) != 0)
		return cir_err(err, EEXIST, "ovs bridge %s: a %s link of that name exists", bridge,
			       li->kind[0] ? li->kind : "non-OVS");
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_json_ struct cir_json *reply = NULL;

		r = cir_ovsdb_transact(c, cir_ovsdb_ops_bridge_add, &n, &reply, err);
		if (r == -ESTALE) {             /* the "wait": it exists */
			cir_err_clear(err);
			break;
		}
		if (r < 0)
			return cir_err_wrap(err, "ovs bridge %s", bridge);
		if (cir_ovsdb_count(cir_ovsdb_result(cir_json_root(reply), 4)) > 0) {
			created = true;
			break;
		}
		/* No Open_vSwitch row (a fresh database nobody initialised):
		 * the bridge just inserted was unreferenced and is gone.  Make
		 * the root row (a concurrent maker's wins), then again. */
		cir_json_free(TAKE_PTR(reply));
		r = cir_ovsdb_transact(c, cir_ovsdb_ops_root_add, &n, &reply, err);
		if (r == -ESTALE)
			cir_err_clear(err);
		else if (r < 0)
			return cir_err_wrap(err, "ovs bridge %s: root row", bridge);
	}
	r = link_wait(sk, bridge, li, err);
	if (r >= 0 && !li->up)
		r = cir_link_set_up(sk, li->ifindex, true, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		if (created)
			cir_ovs_bridge_remove(c, bridge, network, true, &e2);
		return cir_err_wrap(err, "ovs bridge %s", bridge);
	}
	li->up = true;
	if (made)
		*made = created;
	return 0;
}

/* Read bridge's row, its internal Port's and Interface's into *b (which
 * points into *reply). */
static int bridge_read(struct cir_ovsdb *c, const char *bridge, struct cir_json **reply,
		       struct cir_ovsdb_bridge *b, struct cir_error *err)
{
	struct cir_ovsdb_names n = { .bridge = bridge };
	int r;

	r = cir_ovsdb_transact(c, cir_ovsdb_ops_bridge_read, &n, reply, err);
	if (r >= 0)
		r = cir_ovsdb_bridge_parse(cir_json_root(*reply), b, err);
	return r < 0 ? cir_err_wrap(err, "ovs bridge %s", bridge) : 0;
}

int cir_ovs_bridge_claim(struct cir_ovsdb *c, const char *bridge, const char *network,
			 struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL;
	struct cir_ovsdb_bridge b;
	char shown[CIR_ERR_SHOWN_MAX];
	int r;

	r = bridge_read(c, bridge, &reply, &b, err);
	if (r < 0)
		return r;
	if (!b.exists || (b.owner && strcmp(b.owner, network) == 0))
		return 0;
	if (b.owner)
		return cir_err(err, EEXIST, "ovs bridge %s already exists and is marked for "
			       "network \"%s\", not %s", bridge,
			       cir_err_shown(b.owner, shown, sizeof(shown)), network);
	return cir_err(err, EEXIST, "ovs bridge %s already exists and Circuit did not make it "
		       "(no external_ids:%s=%s): delete it, or set that mark to adopt it",
		       bridge, CIR_OVSDB_OWNER_KEY, network);
}

int cir_ovs_bridge_converge(struct cir_ovsdb *c, const char *bridge, const char *network,
			    unsigned int tag, unsigned int mtu, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL, *done = NULL;
	struct cir_ovsdb_names n = { .bridge = bridge, .network = network, .tag = tag,
				     .mtu = mtu };
	struct cir_ovsdb_bridge b;
	int r;

	if (tag > CIR_OVSDB_TAG_MAX)
		return cir_err(err, EINVAL, "vlan tag %u: 1-%d", tag, CIR_OVSDB_TAG_MAX);
	r = bridge_read(c, bridge, &reply, &b, err);
	if (r < 0)
		return r;
	if (!b.exists || !b.owner || strcmp(b.owner, network) != 0)
		return 0;
	if ((!b.port || b.tag == tag) && (!b.iface || b.mtu == mtu))
		return 0;
	r = cir_ovsdb_transact(c, cir_ovsdb_ops_bridge_set, &n, &done, err);
	if (r == -ESTALE) {             /* the mark went meanwhile: not ours now */
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? cir_err_wrap(err, "ovs bridge %s", bridge) : 1;
}

/* Read port's row and bridge's (either name may be NULL). */
static int find(struct cir_ovsdb *c, const char *bridge, const char *port,
		struct cir_json **reply, struct cir_error *err)
{
	struct cir_ovsdb_names n = { .bridge = bridge, .port = port };

	return cir_ovsdb_transact(c, cir_ovsdb_ops_find, &n, reply, err);
}

static const struct cir_jnode *first_row(const struct cir_json *reply, size_t op)
{
	return cir_jnode_at(cir_ovsdb_rows(cir_ovsdb_result(cir_json_root(reply), op)), 0);
}

int cir_ovs_bridge_remove(struct cir_ovsdb *c, const char *bridge, const char *network,
			  bool only_empty, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL, *done = NULL;
	const struct cir_jnode *row;
	struct cir_ovsdb_names n = { .bridge = bridge };
	const char *owner;
	int r;

	r = find(c, bridge, NULL, &reply, err);
	if (r < 0)
		return cir_err_wrap(err, "ovs bridge %s", bridge);
	row = first_row(reply, 1);
	if (!row)
		return 0;
	owner = cir_ovsdb_map_get(cir_jnode_get(row, "external_ids"), CIR_OVSDB_OWNER_KEY);
	if (!owner || strcmp(owner, network) != 0)
		return 0;
	n.ports = cir_jnode_get(row, "ports");
	if (only_empty && cir_ovsdb_set_len(n.ports) > 1)
		return 0;
	n.uuid = cir_ovsdb_uuid(cir_jnode_get(row, "_uuid"));
	if (!n.uuid)
		return cir_err(err, EBADMSG, "ovs bridge %s: row without _uuid", bridge);
	r = cir_ovsdb_transact(c, cir_ovsdb_ops_bridge_del, &n, &done, err);
	if (r == -ESTALE) {             /* a port came (or the bridge went) meanwhile */
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? cir_err_wrap(err, "ovs bridge %s", bridge) : 1;
}

int cir_ovs_port_del(struct cir_ovsdb *c, const char *port, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL, *done = NULL;
	struct cir_ovsdb_names n = { .port = port };
	int r;

	r = find(c, NULL, port, &reply, err);
	if (r < 0)
		return cir_err_wrap(err, "ovs port %s", port);
	n.uuid = cir_ovsdb_uuid(cir_jnode_get(first_row(reply, 0), "_uuid"));
	if (!n.uuid)
		return 0;
	r = cir_ovsdb_transact(c, cir_ovsdb_ops_port_del, &n, &done, err);
	return r < 0 ? cir_err_wrap(err, "ovs port %s", port) : 0;
}

int cir_ovs_port_add(struct cir_ovsdb *c, const char *bridge, const char *port,
		     unsigned int tag, const char *network, struct cir_error *err)
{
	struct cir_ovsdb_names n = { .bridge = bridge, .port = port, .network = network,
				     .tag = tag };
	int r;

	if (tag > CIR_OVSDB_TAG_MAX)
		return cir_err(err, EINVAL, "vlan tag %u: 1-%d", tag, CIR_OVSDB_TAG_MAX);
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_json_ struct cir_json *reply = NULL;

		r = cir_ovsdb_transact(c, cir_ovsdb_ops_port_add, &n, &reply, err);
		if (r == -ESTALE)
			return cir_err(err, ENOENT, "ovs bridge %s does not exist", bridge);
		if (r != -EEXIST || attempt)
			break;
		/* Port name taken (the unique index): a leftover of an earlier
		 * attachment under this host name. */
		cir_err_clear(err);
		r = cir_ovs_port_del(c, port, err);
		if (r < 0)
			return r;
	}
	return r < 0 ? cir_err_wrap(err, "ovs port %s on %s", port, bridge) : 0;
}

int cir_ovs_port_attached(struct cir_ovsdb *c, const char *bridge, const char *port,
			  unsigned int tag, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL;
	const struct cir_jnode *prow, *brow, *t;
	const char *uuid;
	uint64_t have = 0;
	int r;

	r = find(c, bridge, port, &reply, err);
	if (r < 0)
		return cir_err_wrap(err, "ovs port %s", port);
	prow = first_row(reply, 0);
	brow = first_row(reply, 1);
	uuid = cir_ovsdb_uuid(cir_jnode_get(prow, "_uuid"));
	if (!uuid || !brow || !cir_ovsdb_set_has_uuid(cir_jnode_get(brow, "ports"), uuid))
		return 0;
	/* tag: an integer, or the empty set ["set", []] when none */
	t = cir_jnode_get(prow, "tag");
	if (cir_jnode_type(t) == CIR_JNUMBER)
		cir_json_u64(prow, "tag", CIR_OVSDB_TAG_MAX + 1, &have, NULL);
	return have == tag;
}

int cir_ovs_ports_list(struct cir_ovsdb *c, const char *network,
		       int (*fn)(const char *name, void *arg), void *arg, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *reply = NULL;
	struct cir_ovsdb_names n = { .network = network };
	const struct cir_jnode *rows;
	int r;

	r = cir_ovsdb_transact(c, cir_ovsdb_ops_owned_ports, &n, &reply, err);
	if (r < 0)
		return cir_err_wrap(err, "ovs ports of %s", network);
	rows = cir_ovsdb_rows(cir_ovsdb_result(cir_json_root(reply), 0));
	for (size_t i = 0; i < cir_jnode_len(rows); i++) {
		const char *name = cir_jnode_str(cir_jnode_get(cir_jnode_at(rows, i), "name"));

		if (!name)
			continue;
		r = fn(name, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * network.c - a network's own objects: create (the spec checked and turned
 * into a record and conflist, the bridge claimed), ensure (bridge, gateway,
 * forwarding, masquerade), delete (members, other modules' state, bridge,
 * masquerade, record).  Members are network_member.c's; what a subnet must
 * not overlap is network_taken.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "ipam.h"
#include "cleanup.h"
#include "link.h"
#include "masq.h"
#include "names.h"
#include "network_int.h"
#include "nft.h"
#include "nl.h"
#include "ovs.h"
#include "portmap.h"
#include "qosnet.h"
#include "sysctl.h"

void cir_net_log(const struct cir_net_ctx *ctx, enum cir_log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!ctx || !ctx->log || (level == CIR_LOG_DEBUG && !ctx->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log(ctx->arg, level, msg);
}


/* Gateway gw/prefix of subnet on the bridge (1 when added) and forwarding
 * of its family on (1 when it was off). */
static int net_gateway(struct nl_sock *sk, const struct cir_netconf *nc, int ifindex,
		       const char *subnet, const char *gateway, struct cir_error *err)
{
	struct cir_cidr sn;
	int r, changes = 0;

	r = cir_cidr_parse(subnet, 0, &sn, err);
	if (r < 0)
		return r;
	if (gateway[0]) {
		char gw[CIR_CIDR_STRLEN + 8];

		/* An IPv6 address is added with IFA_F_NODAD (lib/addr.c): no
		 * tentative period before the first packets pass. */
		snprintf(gw, sizeof(gw), "%s/%u", gateway, sn.prefix);
		r = cir_addr_has(sk, ifindex, gw, err);
		if (r == 0) {
			r = cir_addr_add(sk, ifindex, gw, true, err);
			changes++;
		}
		if (r < 0)
			return cir_err_wrap(err, "bridge %s: gateway %s", nc->bridge, gw);
	}
	r = sn.ip.af == AF_INET ? cir_sysctl_ip_forward_enable(err)
				: cir_sysctl_ip6_forward_enable(err);
	if (r < 0)
		return r;
	return changes + r;
}

int cir_net_ensure(const struct cir_net_ctx *ctx, const struct cir_netconf *nc,
		   struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info br;
	char alias[CIR_NAME_BRIDGE_ALIAS_MAX], masq[CIR_NETCONF_SUBNETS_MAX * CIR_CIDR_STRLEN];
	bool created = false;
	int r, changes = 0;

	if (!nc->managed)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	if (nc->driver == CIR_NET_DRIVER_OVS) {
		_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;

		/* An Open vSwitch bridge (spec/ovs.md): after its database
		 * was wiped, this makes it again. */
		r = cir_ovsdb_connect(&db, nc->ovsdb, err);
		if (r >= 0)
			r = cir_ovs_bridge_ensure(&db, sk, nc->bridge, nc->name, nc->vlan, nc->mtu,
						  &br, &created, err);
		/* A bridge that was there already and carries this network's
		 * mark follows the record: the gateway port's VLAN and MTU. */
		if (r >= 0 && !created)
			r = cir_ovs_bridge_converge(&db, nc->bridge, nc->name, nc->vlan, nc->mtu,
						    err);
		if (r < 0)
			return r;
		changes += r;
	} else {
		cir_name_bridge_alias(nc->name, alias);
		r = cir_link_bridge_ensure(sk, nc->bridge, nc->mtu, false, alias, &br, &created,
					   err);
		if (r < 0)
			return cir_err_wrap(err, "bridge %s", nc->bridge);
	}
	changes += created;
	for (unsigned int i = 0; i < nc->n_subnets; i++) {
		r = net_gateway(sk, nc, br.ifindex, nc->subnets[i], nc->gateways[i], err);
		if (r < 0)
			return r;
		changes += r;
	}
	if (nc->masquerade && cir_netconf_masq_subnets(nc, masq, sizeof(masq)) > 0) {
		/* The network is a user of its own masquerade from create to
		 * delete, so the chain outlives its last member (lib/masq.h). */
		r = cir_nft_masq_exists(nc->name, err);
		if (r >= 0) {
			changes += r == 0;
			r = cir_masq_acquire(NULL, nc->name, CIR_MASQ_OWNER, masq, true, err);
		}
		if (r < 0)
			return cir_err_wrap(err, "masquerade for %s", masq);
	}
	net_debug(ctx, "network %s: bridge %s, %u subnets, masquerade %s%s (%d changes)", nc->name,
		  nc->bridge, nc->n_subnets, nc->masquerade ? "on" : "off",
		  nc->masquerade && !nc->masquerade6 ? " (IPv4 only)" : "", changes);
	return changes;
}

static bool masq_keep_none(const char *user, void *arg)
{
	return false;
}

/* ---- who owns a bridge ---- */

struct bridge_scan {
	struct cir_netdb *db;
	const char *bridge;
	const char *self;
	char other[CIR_CNI_NAME_MAX + 1];
};

static int bridge_user(const char *name, void *arg)
{
	struct bridge_scan *s = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	bool hit;

	if (strcmp(name, s->self) == 0 || cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;
	hit = strcmp(n.conf.bridge, s->bridge) == 0;
	cir_network_close(&n);
	if (!hit)
		return 0;
	snprintf(s->other, sizeof(s->other), "%s", name);
	return -EEXIST;
}

/* Another network of the store whose chain names bridge: its name into
 * other (1), or 0 when none. */
static int bridge_named_elsewhere(struct cir_netdb *db, const char *bridge, const char *self,
				  char other[CIR_CNI_NAME_MAX + 1])
{
	struct bridge_scan s = { db, bridge, self, "" };
	struct cir_error e = CIR_ERROR_INIT;

	if (!bridge[0] || cir_netdb_list(db, bridge_user, &s, &e) != -EEXIST)
		return 0;
	snprintf(other, CIR_CNI_NAME_MAX + 1, "%s", s.other);
	return 1;
}

/* An OVS bridge of nc's name in the database must carry nc's mark
 * (external_ids:circuit-network); left untouched otherwise. */
static int ovs_claim(const struct cir_netconf *nc, struct cir_error *err)
{
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	int r;

	r = cir_ovsdb_connect(&db, nc->ovsdb, err);
	if (r >= 0)
		r = cir_ovs_bridge_claim(&db, nc->bridge, nc->name, err);
	if (r == -EEXIST)
		err->code = CIR_CNI_EXISTS;
	return r < 0 ? cir_err_wrap(err, "network %s", nc->name) : 0;
}

/*
 * May network nc (being created) own its bridge?  Not when another network
 * names it, nor when it exists already without Circuit's mark for this very
 * network (made by hand, by another tool, or for another network): adopting
 * it would let `network delete` remove it under its real owner's
 * containers.  A bridge marked for this name (left by a chain of this
 * network that another runtime ran) is this network's.
 */
int cir_nw_bridge_claim(struct cir_netdb *db, const struct cir_netconf *nc,
			struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char other[CIR_CNI_NAME_MAX + 1], alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	struct cir_link_info li;
	int r;

	if (bridge_named_elsewhere(db, nc->bridge, nc->name, other))
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "bridge %s is already network %s's", nc->bridge, other);
	if (!nc->managed)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, nc->bridge, &li, err);
	if (r == -ENODEV) {
		cir_err_clear(err);
		/* The database may hold the bridge without its interface
		 * (ovs-vswitchd not running). */
		return nc->driver == CIR_NET_DRIVER_OVS ? ovs_claim(nc, err) : 0;
	}
	if (r < 0)
		return r;
	/* An OVS bridge of that name: its internal interface (ovs_claim
	 * decides); any other link is someone else's. */
	if (nc->driver == CIR_NET_DRIVER_OVS && strcmp(li.kind, "openvswitch") == 0)
		return ovs_claim(nc, err);
	cir_name_bridge_alias(nc->name, alias);
	if (nc->driver == CIR_NET_DRIVER_BRIDGE && strcmp(li.alias, alias) == 0)
		return 0;
	return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
			    "bridge %s already exists and Circuit did not make it for network %s "
			    "(delete it, or import the chain that uses it with --conflist)",
			    nc->bridge, nc->name);
}

/* Remove a network's bridge and masquerade; missing objects are fine.  A
 * bridge marked for another owner, or named by another network, stays. */
int cir_nw_net_teardown(const struct cir_net_ctx *ctx, struct cir_netdb *db,
			const struct cir_netconf *nc, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char other[CIR_CNI_NAME_MAX + 1], alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	struct cir_link_info li;
	int r;

	if (nc->bridge[0] && nc->managed && nc->driver == CIR_NET_DRIVER_OVS) {
		_cleanup_ovsdb_ struct cir_ovsdb ovsdb = CIR_OVSDB_INIT;

		/* Only a bridge whose external_ids name this network. */
		r = cir_ovsdb_connect(&ovsdb, nc->ovsdb, err);
		if (r >= 0)
			r = cir_ovs_bridge_remove(&ovsdb, nc->bridge, nc->name, false, err);
		/* No socket: no ovsdb-server, nothing it could be told (the
		 * rollback of a create that never reached it, typically). */
		if (r == -ENOENT)
			net_debug(ctx, "network %s: ovs bridge %s: %s", nc->name, nc->bridge,
				  err->msg);
		else if (r < 0)
			net_warn(ctx, "network %s: ovs bridge %s: %s (kept)", nc->name, nc->bridge,
				 err->msg);
		cir_err_clear(err);
	} else if (nc->bridge[0] && nc->managed) {
		r = cir_nl_route_open(&sk, err);
		if (r < 0)
			return r;
		cir_name_bridge_alias(nc->name, alias);
		r = cir_link_get(sk, nc->bridge, &li, err);
		if (r == 0 && li.alias[0] && strcmp(li.alias, alias) != 0) {
			net_warn(ctx, "network %s: bridge %s is marked \"%s\", not ours: kept",
				 nc->name, nc->bridge, li.alias);
		} else if (r == 0 && bridge_named_elsewhere(db, nc->bridge, nc->name, other)) {
			net_warn(ctx, "network %s: bridge %s is also network %s's: kept", nc->name,
				 nc->bridge, other);
		} else if (r == 0) {
			r = cir_link_delete(sk, nc->bridge, err);
			if (r < 0 && r != -ENODEV)
				return cir_err_wrap(err, "bridge %s", nc->bridge);
		}
		cir_err_clear(err);
		/* Host veths its DELs left detached (their namespace pinned
		 * elsewhere): the network is going, so are they. */
		cir_name_released_alias(nc->name, alias);
		cir_link_delete_detached(sk, alias, NULL);
	}
	if (nc->masquerade) {
		/* Every user goes with the network, members that failed to
		 * disconnect included. */
		r = cir_masq_gc(NULL, nc->name, masq_keep_none, NULL, err);
		if (r < 0)
			return cir_err_wrap(err, "masquerade");
	}
	return 0;
}

/* ---- delete ---- */

struct del_scan {
	const struct cir_net_ctx *ctx;
	struct cir_network *n;
};

static void reap_host_veth(const struct cir_member *m)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	char host[CIR_IFNAMSIZ];

	cir_name_host_veth(m->cid, m->ifname, host);
	if (cir_nl_route_open(&sk, NULL) < 0 || cir_link_get(sk, host, &li, NULL) < 0)
		return;
	if (li.master == 0 && !li.up)
		cir_link_delete(sk, host, NULL);
}

static int del_member(const struct cir_member *m, void *arg)
{
	struct del_scan *s = arg;
	struct cir_error e = CIR_ERROR_INIT;

	if (cir_net_disconnect(s->ctx, s->n, m, &e) < 0) {
		net_warn(s->ctx, "network %s: disconnect %s: %s (forgetting it)", s->n->conf.name,
			 m->cid, e.msg);
		cir_member_del(s->n, m->cid, &e);
	}
	/* A member whose process is gone may have left its host veth detached
	 * (circuit-bridge DEL leaves a dead namespace's pair to the kernel);
	 * if its namespace is pinned elsewhere that pair would stay.  The
	 * network is going: delete it now. */
	reap_host_veth(m);
	return 0;
}

/* What other modules keep per managed network in the same store, each
 * forgotten by its own module once the members are gone (so is the chain). */
static const struct {
	const char *what;
	int (*forget)(const struct cir_store *st, const char *network, struct cir_error *err);
} net_state[] = {
	{ "ipam", cir_ipam_network_forget },
	{ "qos", cir_qosnet_network_forget },
	{ "masq", cir_masq_network_forget },
	{ "portmap", cir_portmap_network_forget },
};

static void forget_state(const struct cir_net_ctx *ctx, struct cir_netdb *db, const char *name)
{
	for (size_t i = 0; i < sizeof(net_state) / sizeof(net_state[0]); i++) {
		struct cir_error e = CIR_ERROR_INIT;

		if (net_state[i].forget(&db->st, name, &e) < 0)
			net_warn(ctx, "network %s: %s state: %s", name, net_state[i].what, e.msg);
	}
}

int cir_net_delete(const struct cir_net_ctx *ctx, struct cir_netdb *db, const char *name,
		   struct cir_error *err)
{
	struct cir_network n = CIR_NETWORK_INIT;
	struct del_scan ds = { ctx, &n };
	int r;

	r = cir_network_open(db, name, true, &n, err);
	if (r < 0)
		return r;
	r = cir_member_list(&n, del_member, &ds, err);
	if (r >= 0 && ctx->network_delete)
		r = ctx->network_delete(ctx->arg, &n, err);
	if (r >= 0)
		r = cir_nw_net_teardown(ctx, db, &n.conf, err);
	if (r >= 0)
		r = cir_network_remove(db, name, err);
	if (r >= 0 && n.conf.managed)
		forget_state(ctx, db, name);
	cir_network_close(&n);
	return r;
}


bool cir_net_has_subnet(const struct cir_netconf *nc, const char *subnet)
{
	struct cir_cidr want, have;
	struct cir_error e = CIR_ERROR_INIT;
	bool match = false;

	if (cir_cidr_parse(subnet, 0, &want, &e) < 0)
		return true;   /* checked where the network is made */
	for (unsigned int i = 0; !match && i < nc->n_subnets; i++)
		match = cir_cidr_parse(nc->subnets[i], 0, &have, &e) == 0 &&
			want.prefix == have.prefix && cir_cidr_contains(&have, &want.ip);
	return match;
}

unsigned int cir_net_shown_mtu(struct nl_sock **sk, const struct cir_netconf *nc)
{
	struct cir_link_info li;

	if (nc->mtu)
		return nc->mtu;
	if (nc->bridge[0] && (*sk || cir_nl_route_open(sk, NULL) >= 0) &&
	    cir_link_get(*sk, nc->bridge, &li, NULL) >= 0 && li.mtu)
		return li.mtu;
	return 1500;
}

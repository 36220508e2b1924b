// SPDX-License-Identifier: Apache-2.0
/*
 * plugin.c - circuit-ovs ADD/DEL/CHECK/GC/STATUS.
 *
 * The same attachment as circuit-bridge (lib/vethplug.c: veth pair with
 * its container end born in CNI_NETNS, IPAM, container side, gateways,
 * result, masquerade), on an Open vSwitch bridge instead of a Linux one:
 * the bridge and its internal port (the gateway interface) and one port per
 * host veth are rows of ovsdb-server's database, one transaction each
 * (lib/ovs.c over lib/ovsdb.c); ovs-vswitchd makes them real.  Everything
 * made is undone on failure.  See spec/ovs.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "ovs.h"
#include "plugin.h"

static int check_socket_path(const char *p, struct cir_error *err)
{
	struct sockaddr_un sa;

	if (p[0] != '/' || strlen(p) >= sizeof(sa.sun_path) || strstr(p, "/../") ||
	    (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ovsdbSocket: an absolute path without \"..\" of at most %zu "
				    "bytes", sizeof(sa.sun_path) - 1);
	return 0;
}

int ovs_conf_parse(const struct cir_cni_conf *conf, struct ovs_conf *oc, struct cir_error *err)
{
	const struct cir_jnode *root = conf->root;
	const char *br = NULL;
	uint32_t vlan = 0;
	int r;

	memset(oc, 0, sizeof(*oc));
	r = cir_json_str(root, "bridge", &br, err);
	if (r < 0)
		return r;
	if (r > 0) {
		r = cir_cni_check_ifname(br, err);
		if (r < 0) {
			err->code = CIR_CNI_INVALID_CONFIG;
			return cir_err_wrap(err, "bridge");
		}
		snprintf(oc->bridge, sizeof(oc->bridge), "%s", br);
	} else {
		cir_name_bridge(conf->name, oc->bridge);
	}
	r = cir_json_u32(root, "vlan", CIR_OVSDB_TAG_MAX, &vlan, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "vlan 0-%d", CIR_OVSDB_TAG_MAX);
	}
	oc->vlan = vlan;
	r = cir_json_str(root, "ovsdbSocket", &oc->ovsdb, err);
	if (r < 0)
		return r;
	if (r > 0 && (r = check_socket_path(oc->ovsdb, err)) < 0)
		return r;
	return cir_vethplug_conf_parse(conf, &oc->v, err);
}

static int db_open(const struct ovs_conf *oc, struct cir_ovsdb *c, struct cir_error *err)
{
	int r = cir_ovsdb_connect(c, oc->ovsdb, err);

	if (r < 0)
		err->code = CIR_CNI_NOT_AVAILABLE;
	return r;
}

struct add_state {
	struct cir_vethplug_add a;
	struct ovs_conf oc;
	struct cir_ovsdb *db;
	bool br_made, port_made;
};

/* The host end up and on the OVS bridge. */
static int add_port(struct add_state *s, struct cir_error *err)
{
	struct cir_vethplug_add *a = &s->a;
	int r;

	r = cir_link_set_up(a->sk, a->hv.ifindex, true, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", a->host);
	r = cir_ovs_port_add(s->db, s->oc.bridge, a->host, s->oc.vlan, a->ctx->conf->name, err);
	if (r < 0)
		return r;
	s->port_made = true;
	return 0;
}

static void add_undo(struct add_state *s)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (s->port_made)
		cir_ovs_port_del(s->db, s->a.host, &e2);
	cir_vethplug_add_undo(&s->a);
	/* A bridge this ADD made goes while it has no other port (the
	 * removal's "wait" keeps one a concurrent ADD attached meanwhile). */
	if (s->br_made)
		cir_ovs_bridge_remove(s->db, s->oc.bridge, s->a.ctx->conf->name, true, &e2);
}

static int ovs_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_free_ struct add_state *s = calloc(1, sizeof(*s));
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	_cleanup_close_ int nsfd = -1;
	int r;

	if (!s)
		return cir_err(err, ENOMEM, "out of memory");
	r = ovs_conf_parse(ctx->conf, &s->oc, err);
	if (r < 0)
		return r;
	r = cir_netns_open(ctx->env->netns, &nsfd, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_ENV;
		return r;
	}
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = db_open(&s->oc, &db, err);
	if (r < 0)
		return r;
	s->db = &db;
	s->a.ctx = ctx;
	s->a.v = &s->oc.v;
	s->a.sk = sk;
	s->a.nsfd = nsfd;
	s->a.sw_name = s->oc.bridge;
	r = cir_ovs_bridge_ensure(&db, sk, s->oc.bridge, ctx->conf->name, s->oc.vlan, s->oc.v.mtu,
				  &s->a.sw, &s->br_made, err);
	if (r < 0)
		return r;
	r = cir_vethplug_add_veth(&s->a, err);
	if (r >= 0)
		r = add_port(s, err);
	if (r >= 0)
		r = cir_vethplug_add_ipam(&s->a, err);
	if (r >= 0)
		r = cir_vethplug_add_addresses(&s->a, err);
	if (r < 0)
		add_undo(s);
	return r < 0 ? r : 0;
}

/*
 * DEL: the port out of the database, the host veth (which takes its peer),
 * the address and the masquerade user.  Each step runs even when an
 * earlier one failed (an unreachable ovsdb-server must not keep the
 * address); the first error is returned.  Unlike circuit-bridge, the veth
 * is deleted even when the container's namespace is gone: an OVS port
 * cannot be detached by netlink.
 */
static int ovs_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct ovs_conf oc;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	struct cir_error e_port = CIR_ERROR_INIT;
	char host[CIR_IFNAMSIZ];
	int r, r_port;

	r = ovs_conf_parse(ctx->conf, &oc, err);
	if (r < 0)
		return r;
	cir_name_host_veth(env->containerid, env->ifname, host);
	r_port = db_open(&oc, &db, &e_port);
	if (r_port >= 0)
		r_port = cir_ovs_port_del(&db, host, &e_port);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_delete(sk, host, err);
	if (r < 0 && r != -ENODEV)
		return r;
	r = cir_vethplug_del_release(ctx, &oc.v, err);
	if (r < 0)
		return r;
	if (r_port < 0) {
		*err = e_port;
		return r_port;
	}
	return 0;
}

static int ovs_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct ovs_conf oc;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	struct cir_link_info br, hv;
	char host[CIR_IFNAMSIZ];
	int r;

	r = ovs_conf_parse(ctx->conf, &oc, err);
	if (r < 0)
		return r;
	r = cir_vethplug_check_start(ctx, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, oc.bridge, &br, err);
	if (r < 0)
		return cir_err_wrap(err, "ovs bridge");
	cir_name_host_veth(env->containerid, env->ifname, host);
	r = cir_link_get(sk, host, &hv, err);
	if (r < 0)
		return cir_err_wrap(err, "host veth");
	if (!hv.up)
		return cir_err(err, ENETDOWN, "host veth %s is down", host);
	r = db_open(&oc, &db, err);
	if (r >= 0)
		r = cir_ovs_port_attached(&db, oc.bridge, host, oc.vlan, err);
	if (r < 0)
		return r;
	if (r == 0)
		return cir_err(err, ENOENT, "%s is not a port of ovs bridge %s%s", host, oc.bridge,
			       oc.vlan ? " with its vlan tag" : "");
	return cir_vethplug_check_container(ctx, &oc.v, err);
}

struct gc_ports {
	const struct ovs_conf *oc;
	struct cir_vethplug_gc *gc;
	struct cir_ovsdb *db;
	int deleted;
};

/* One port of this network: a host veth no valid attachment has goes,
 * port and link (never the bridge's internal port). */
static int gc_port(const char *name, void *arg)
{
	struct gc_ports *p = arg;
	struct cir_error e = CIR_ERROR_INIT;

	if (strcmp(name, p->oc->bridge) == 0 || strncmp(name, "cv", 2) != 0 ||
	    p->gc->keep_live || cir_vethplug_gc_valid(p->gc, name))
		return 0;
	if (cir_ovs_port_del(p->db, name, &e) == 0)
		p->deleted++;
	cir_link_delete(p->gc->sk, name, NULL);
	return 0;
}

static int ovs_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	struct ovs_conf oc;
	struct cir_vethplug_gc gc = { 0 };
	struct gc_ports gp = { .oc = &oc, .gc = &gc, .db = &db };
	int r;

	r = ovs_conf_parse(ctx->conf, &oc, err);
	if (r < 0)
		return r;
	r = cir_vethplug_gc_start(ctx, &gc, err);
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	gc.sk = sk;
	if (r >= 0)
		r = db_open(&oc, &db, err);
	if (r >= 0)
		r = cir_ovs_ports_list(&db, ctx->conf->name, gc_port, &gp, err);
	if (r >= 0)
		r = cir_vethplug_gc_masq(ctx, &oc.v, &gc, err);
	cir_vethplug_gc_free(&gc);
	return r < 0 ? r : 0;
}

/* STATUS: ovsdb-server answers and IPAM is available. */
static int ovs_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_ovsdb_ struct cir_ovsdb db = CIR_OVSDB_INIT;
	struct ovs_conf oc;
	int r;

	r = ovs_conf_parse(ctx->conf, &oc, err);
	if (r < 0)
		return r;
	r = db_open(&oc, &db, err);
	if (r < 0)
		return r;
	return cir_vethplug_status(ctx, err);
}

const struct cir_cni_plugin cir_ovs_plugin = {
	.name = "circuit-ovs",
	.about = "Circuit Open vSwitch plugin: OVS bridge (OVSDB) + veth + IPAM + masquerade",
	.add = ovs_add,
	.del = ovs_del,
	.check = ovs_check,
	.gc = ovs_gc,
	.status = ovs_status,
};

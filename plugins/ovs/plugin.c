// SPDX-License-Identifier: Apache-2.0
/*
 * plugin.c - circuit-ovs ADD/DEL/CHECK/GC/STATUS.
 *
 * The same verbs as circuit-bridge (lib/vethplug.c's sequences: veth pair
 * with its container end born in CNI_NETNS, IPAM, container side,
 * gateways, result, masquerade, rollback), on an Open vSwitch bridge
 * instead of a Linux one: this file is their switch.  The bridge and its
 * internal port (the gateway interface) and one port per host veth are
 * rows of ovsdb-server's database, one transaction each (lib/ovs.c over
 * lib/ovsdb.c); ovs-vswitchd makes them real.  See spec/ovs.md.
 */
#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
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
	uint32_t vlan = 0;
	int r;

	memset(oc, 0, sizeof(*oc));
	r = cir_vethplug_switch_name(conf, oc->bridge, err);
	if (r < 0)
		return r;
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

/* The OVS bridge as the verbs' switch, with its database connection
 * (opened by the first operation that needs it); sw first: the ops cast
 * back. */
struct ovs_sw {
	struct cir_vethplug_switch sw;
	struct ovs_conf oc;
	struct cir_ovsdb db;
};

static int sw_db(struct ovs_sw *o, struct cir_error *err)
{
	return o->db.fd >= 0 ? 0 : db_open(&o->oc, &o->db, err);
}

static int ovs_ensure(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		      struct cir_error *err)
{
	struct ovs_sw *o = (struct ovs_sw *)sw;
	int r = sw_db(o, err);

	if (r < 0)
		return r;
	return cir_ovs_bridge_ensure(&o->db, a->sk, o->oc.bridge, a->ctx->conf->name, o->oc.vlan,
				     o->oc.v.mtu, &a->sw, &a->sw_made, err);
}

/* The host end up and on the OVS bridge. */
static int ovs_attach(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		      struct cir_error *err)
{
	struct ovs_sw *o = (struct ovs_sw *)sw;
	int r;

	r = cir_link_set_up(a->sk, a->hv.ifindex, true, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", a->host);
	return cir_ovs_port_add(&o->db, o->oc.bridge, a->host, o->oc.vlan, a->ctx->conf->name,
				err);
}

static void ovs_detach(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	cir_ovs_port_del(&((struct ovs_sw *)sw)->db, a->host, &e2);
}

/* A bridge this ADD made goes while it has no other port (the removal's
 * "wait" keeps one a concurrent ADD attached meanwhile). */
static void ovs_remove(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	cir_ovs_bridge_remove(&((struct ovs_sw *)sw)->db, sw->name, a->ctx->conf->name, true,
			      &e2);
}

/* DEL: the port out of the database.  The veth is deleted after it even
 * when the container's namespace is gone (no del_lazy): an OVS port cannot
 * be detached by netlink. */
static int ovs_port_del(struct cir_vethplug_switch *sw, struct cir_cni_ctx *ctx,
			const char *host, struct cir_error *err)
{
	struct ovs_sw *o = (struct ovs_sw *)sw;
	int r = sw_db(o, err);

	return r < 0 ? r : cir_ovs_port_del(&o->db, host, err);
}

static int ovs_port_check(struct cir_vethplug_switch *sw, const struct cir_link_info *swl,
			  const char *host, const struct cir_link_info *hv, struct cir_error *err)
{
	struct ovs_sw *o = (struct ovs_sw *)sw;
	int r;

	if (!hv->up)
		return cir_err(err, ENETDOWN, "host veth %s is down", host);
	r = sw_db(o, err);
	if (r >= 0)
		r = cir_ovs_port_attached(&o->db, o->oc.bridge, host, o->oc.vlan, err);
	if (r < 0)
		return r;
	if (r == 0)
		return cir_err(err, ENOENT, "%s is not a port of ovs bridge %s%s", host,
			       o->oc.bridge, o->oc.vlan ? " with its vlan tag" : "");
	return 0;
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

static int ovs_gc_ports(struct cir_vethplug_switch *sw, struct cir_cni_ctx *ctx,
			struct cir_vethplug_gc *gc, struct cir_error *err)
{
	struct ovs_sw *o = (struct ovs_sw *)sw;
	struct gc_ports gp = { .oc = &o->oc, .gc = gc, .db = &o->db };
	int r = sw_db(o, err);

	return r < 0 ? r : cir_ovs_ports_list(&o->db, ctx->conf->name, gc_port, &gp, err);
}

/* STATUS: ovsdb-server answers. */
static int ovs_status_db(struct cir_vethplug_switch *sw, struct cir_error *err)
{
	return sw_db((struct ovs_sw *)sw, err);
}

static const struct cir_vethplug_switch_ops ovs_ops = {
	.what = "ovs bridge",
	.ensure = ovs_ensure,
	.attach = ovs_attach,
	.detach = ovs_detach,
	.remove = ovs_remove,
	.port_del = ovs_port_del,
	.port_check = ovs_port_check,
	.gc_ports = ovs_gc_ports,
	.status = ovs_status_db,
};

/* The config parsed into *o, its switch ready for a verb. */
static int ovs_open(const struct cir_cni_conf *conf, struct ovs_sw *o, struct cir_error *err)
{
	o->sw.ops = &ovs_ops;
	o->sw.v = &o->oc.v;
	o->sw.name = o->oc.bridge;
	return ovs_conf_parse(conf, &o->oc, err);
}

static void ovs_close(struct ovs_sw *o)
{
	cir_ovsdb_close(&o->db);
}
#define _cleanup_ovs_sw_ _cleanup_(ovs_close)

/* A verb of lib/vethplug.c on this plugin's switch. */
static int ovs_run(struct cir_cni_ctx *ctx, cir_vethplug_verb_fn verb, struct cir_error *err)
{
	_cleanup_ovs_sw_ struct ovs_sw o = { .db = CIR_OVSDB_INIT };
	int r = ovs_open(ctx->conf, &o, err);

	return r < 0 ? r : verb(ctx, &o.sw, err);
}

static int ovs_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return ovs_run(ctx, cir_vethplug_add, err);
}

static int ovs_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return ovs_run(ctx, cir_vethplug_del, err);
}

static int ovs_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return ovs_run(ctx, cir_vethplug_check, err);
}

static int ovs_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return ovs_run(ctx, cir_vethplug_gc, err);
}

static int ovs_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return ovs_run(ctx, cir_vethplug_status, err);
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

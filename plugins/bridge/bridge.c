// SPDX-License-Identifier: Apache-2.0
/*
 * bridge.c - circuit-bridge ADD/DEL/CHECK/GC/STATUS.
 *
 * The verbs are lib/vethplug.c's sequences (shared with circuit-ovs); this
 * file is their switch: a Linux bridge, made and joined through netlink.
 * ADD ensures the bridge (with its alias, MTU, promiscuous mode) and
 * enslaves the host end of the veth (hairpin when asked); a bridge the
 * ADD made goes with its rollback while it has no port.  DEL of an
 * attachment whose namespace is gone only detaches its veth (del_lazy).
 * CHECK: the host veth's master is the bridge.  GC: stale host veths of
 * the bridge, and veths this network's DEL left detached.
 */
#include <errno.h>
#include <string.h>

#include <netlink/netlink.h>

#include "bridge.h"
#include "link.h"
#include "names.h"

int bridge_conf_parse(const struct cir_cni_conf *conf, struct bridge_conf *bc,
		      struct cir_error *err)
{
	const struct cir_jnode *root = conf->root;
	int r;

	memset(bc, 0, sizeof(*bc));
	r = cir_vethplug_switch_name(conf, bc->bridge, err);
	if (r < 0)
		return r;
	if (cir_json_bool(root, "hairpinMode", &bc->hairpin, err) < 0 ||
	    cir_json_bool(root, "promiscMode", &bc->promisc, err) < 0)
		return -err->errnum;
	return cir_vethplug_conf_parse(conf, &bc->v, err);
}

/* The bridge as the verbs' switch; sw first: the ops cast back. */
struct bridge_sw {
	struct cir_vethplug_switch sw;
	struct bridge_conf bc;
};

static int br_ensure(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		     struct cir_error *err)
{
	const struct bridge_conf *bc = &((struct bridge_sw *)sw)->bc;
	char alias[CIR_NAME_BRIDGE_ALIAS_MAX];

	cir_name_bridge_alias(a->ctx->conf->name, alias);
	return cir_link_bridge_ensure(a->sk, bc->bridge, bc->v.mtu, bc->promisc, alias, &a->sw,
				      &a->sw_made, err);
}

/* The host end of the veth pair enslaved to the bridge and up. */
static int br_attach(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		     struct cir_error *err)
{
	const struct bridge_conf *bc = &((struct bridge_sw *)sw)->bc;
	int r;

	r = cir_link_set_master_up(a->sk, a->hv.ifindex, a->sw.ifindex, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", a->host);
	return bc->hairpin ? cir_link_set_hairpin(a->sk, a->hv.ifindex, true, err) : 0;
}

/* A bridge this ADD made goes too while it has no port (the first ADD of
 * a network whose IPAM refused, e.g. a delegate without the requested
 * cniVersion).  A concurrent first ADD of the same network that enslaved
 * its veth before the count keeps it; one that enslaves later fails on
 * the vanished bridge and rolls back.  Only a veth enslaved between the
 * count and the delete (one netlink round trip, on a network's very first
 * ADDs, which share this config and fail alike) would be left detached. */
static void br_remove(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (cir_link_count_ports(a->sk, a->sw.ifindex, &e2) == 0)
		cir_link_delete(a->sk, sw->name, &e2);
}

static int br_port_check(struct cir_vethplug_switch *sw, const struct cir_link_info *swl,
			 const char *host, const struct cir_link_info *hv, struct cir_error *err)
{
	if (hv->master != swl->ifindex)
		return cir_err(err, ENOENT, "%s is not attached to bridge %s", host, sw->name);
	return 0;
}

/* GC: IPAM releases stale allocations; we delete stale host veths. */
struct gc_links {
	struct cir_vethplug_gc *gc;
	int bridge;                             /* its ifindex, -1 when absent */
	char mark[CIR_NAME_BRIDGE_ALIAS_MAX];   /* what this network's DEL leaves */
};

/* One link of the namespace: delete it when it is a host veth of this
 * network that is no valid attachment's. */
static int gc_link(const struct cir_link_info *l, void *arg)
{
	struct gc_links *v = arg;

	if (strncmp(l->name, "cv", 2) != 0 || strcmp(l->kind, "veth") != 0)
		return 0;
	/* What this network's DEL released and left detached (its namespace
	 * pinned elsewhere): ours, and done with. */
	if (l->master == 0 && strcmp(l->alias, v->mark) == 0) {
		cir_link_delete(v->gc->sk, l->name, NULL);
		return 0;
	}
	/* Otherwise ports of our bridge only: a detached veth without that
	 * mark may be another network's ADD in progress (created, not yet
	 * enslaved), not ours to judge.  Keep-live: every port is a veth
	 * whose container end lives in a namespace that exists (the pair dies
	 * with it), so none is provably dead. */
	if (v->gc->keep_live || v->bridge < 0 || l->master != v->bridge)
		return 0;
	if (!cir_vethplug_gc_valid(v->gc, l->name))
		cir_link_delete(v->gc->sk, l->name, NULL);
	return 0;
}

static int br_gc_ports(struct cir_vethplug_switch *sw, struct cir_cni_ctx *ctx,
		       struct cir_vethplug_gc *gc, struct cir_error *err)
{
	struct gc_links gl = { .gc = gc, .bridge = -1 };
	struct cir_link_info br;

	if (cir_link_get(gc->sk, sw->name, &br, NULL) == 0)
		gl.bridge = br.ifindex;
	cir_name_released_alias(ctx->conf->name, gl.mark);
	return cir_link_list(gc->sk, gc_link, &gl, err);
}

static const struct cir_vethplug_switch_ops bridge_ops = {
	.what = "bridge",
	.del_lazy = true,
	.ensure = br_ensure,
	.attach = br_attach,
	.remove = br_remove,
	.port_check = br_port_check,
	.gc_ports = br_gc_ports,
};

/* The config parsed into *b, its switch ready for a verb. */
static int bridge_open(const struct cir_cni_conf *conf, struct bridge_sw *b,
		       struct cir_error *err)
{
	b->sw.ops = &bridge_ops;
	b->sw.v = &b->bc.v;
	b->sw.name = b->bc.bridge;
	return bridge_conf_parse(conf, &b->bc, err);
}

/* A verb of lib/vethplug.c on this plugin's switch. */
static int bridge_run(struct cir_cni_ctx *ctx, cir_vethplug_verb_fn verb, struct cir_error *err)
{
	struct bridge_sw b;
	int r = bridge_open(ctx->conf, &b, err);

	return r < 0 ? r : verb(ctx, &b.sw, err);
}

static int bridge_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return bridge_run(ctx, cir_vethplug_add, err);
}

static int bridge_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return bridge_run(ctx, cir_vethplug_del, err);
}

static int bridge_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return bridge_run(ctx, cir_vethplug_check, err);
}

static int bridge_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return bridge_run(ctx, cir_vethplug_gc, err);
}

static int bridge_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	return bridge_run(ctx, cir_vethplug_status, err);
}

const struct cir_cni_plugin cir_bridge_plugin = {
	.name = "circuit-bridge",
	.about = "Circuit bridge plugin: bridge + veth + IPAM + masquerade",
	.add = bridge_add,
	.del = bridge_del,
	.check = bridge_check,
	.gc = bridge_gc,
	.status = bridge_status,
};

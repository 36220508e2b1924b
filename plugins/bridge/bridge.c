// SPDX-License-Identifier: Apache-2.0
/*
 * bridge.c - circuit-bridge ADD/DEL/CHECK/GC/STATUS.
 *
 * ADD: ensure the bridge, create the veth pair with its container end born
 * inside CNI_NETNS, delegate to IPAM, configure the container side, add the
 * gateway to the bridge and the masquerade (lib/vethplug.c, shared with
 * circuit-ovs).  Everything made is undone on failure.  DEL deletes the
 * host end of the veth (which takes its peer with it, wherever it is),
 * releases the address and the masquerade reference; it never needs the
 * container's namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "bridge.h"
#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "netns.h"
#include "nl.h"

int bridge_conf_parse(const struct cir_cni_conf *conf, struct bridge_conf *bc,
		      struct cir_error *err)
{
	const struct cir_jnode *root = conf->root;
	const char *br = NULL;
	int r;

	memset(bc, 0, sizeof(*bc));
	r = cir_json_str(root, "bridge", &br, err);
	if (r < 0)
		return r;
	if (r > 0) {
		r = cir_cni_check_ifname(br, err);
		if (r < 0) {
			err->code = CIR_CNI_INVALID_CONFIG;
			return cir_err_wrap(err, "bridge");
		}
		snprintf(bc->bridge, sizeof(bc->bridge), "%s", br);
	} else {
		cir_name_bridge(conf->name, bc->bridge);
	}
	if (cir_json_bool(root, "hairpinMode", &bc->hairpin, err) < 0 ||
	    cir_json_bool(root, "promiscMode", &bc->promisc, err) < 0)
		return -err->errnum;
	return cir_vethplug_conf_parse(conf, &bc->v, err);
}

/* What an ADD has made so far, for its steps and its rollback. */
struct add_state {
	struct cir_vethplug_add a;
	struct bridge_conf bc;
	bool br_made;
};

/* The host end of the veth pair enslaved to the bridge and up. */
static int add_port(struct add_state *s, struct cir_error *err)
{
	struct cir_vethplug_add *a = &s->a;
	int r;

	r = cir_link_set_master_up(a->sk, a->hv.ifindex, a->sw.ifindex, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", a->host);
	return s->bc.hairpin ? cir_link_set_hairpin(a->sk, a->hv.ifindex, true, err) : 0;
}

/* A failed ADD leaves nothing behind. */
static void add_undo(struct add_state *s)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	cir_vethplug_add_undo(&s->a);
	/* A bridge this ADD made goes too while it has no port (the first
	 * ADD of a network whose IPAM refused, e.g. a delegate without the
	 * requested cniVersion).  A concurrent first ADD of the same network
	 * that enslaved its veth before the count keeps it; one that enslaves
	 * later fails on the vanished bridge and rolls back.  Only a veth
	 * enslaved between the count and the delete (one netlink round trip,
	 * on a network's very first ADDs, which share this config and fail
	 * alike) would be left detached. */
	if (s->br_made && cir_link_count_ports(s->a.sk, s->a.sw.ifindex, &e2) == 0)
		cir_link_delete(s->a.sk, s->bc.bridge, &e2);
}

static int bridge_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_free_ struct add_state *s = calloc(1, sizeof(*s));
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	char alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	int r;

	if (!s)
		return cir_err(err, ENOMEM, "out of memory");
	r = bridge_conf_parse(ctx->conf, &s->bc, err);
	if (r < 0)
		return r;
	r = cir_netns_open(ctx->env->netns, &nsfd, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_ENV;
		return r;
	}
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	s->a.ctx = ctx;
	s->a.v = &s->bc.v;
	s->a.sk = sk;
	s->a.nsfd = nsfd;
	s->a.sw_name = s->bc.bridge;
	cir_name_bridge_alias(ctx->conf->name, alias);
	r = cir_link_bridge_ensure(sk, s->bc.bridge, s->bc.v.mtu, s->bc.promisc, alias, &s->a.sw,
				   &s->br_made, err);
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

static int bridge_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct bridge_conf bc;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char host[CIR_IFNAMSIZ];
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	cir_name_host_veth(env->containerid, env->ifname, host);
	if (cir_vethplug_netns_gone(env->netns)) {
		/* The container's namespace is gone (a runc poststop): the
		 * kernel deletes the pair as it destroys that namespace, in
		 * the background.  Deleting it here would only wait for the
		 * same RCU grace periods (~15 ms).  Detach it from the bridge
		 * and take it down so that it carries nothing meanwhile; a
		 * leftover is reclaimed by the next ADD of its name or GC. */
		char mark[CIR_NAME_BRIDGE_ALIAS_MAX];

		cir_name_released_alias(ctx->conf->name, mark);
		r = cir_link_detach_down(sk, host, mark, err);
	} else {
		/* The host end takes its peer with it, wherever it lives. */
		r = cir_link_delete(sk, host, err);
	}
	if (r < 0 && r != -ENODEV)
		return r;
	return cir_vethplug_del_release(ctx, &bc.v, err);
}

static int bridge_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct bridge_conf bc;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info br, hv;
	char host[CIR_IFNAMSIZ];
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	r = cir_vethplug_check_start(ctx, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, bc.bridge, &br, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge");
	cir_name_host_veth(env->containerid, env->ifname, host);
	r = cir_link_get(sk, host, &hv, err);
	if (r < 0)
		return cir_err_wrap(err, "host veth");
	if (hv.master != br.ifindex)
		return cir_err(err, ENOENT, "%s is not attached to bridge %s", host, bc.bridge);
	return cir_vethplug_check_container(ctx, &bc.v, err);
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

static int bridge_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct bridge_conf bc;
	struct cir_vethplug_gc gc = { 0 };
	struct gc_links gl = { .gc = &gc, .bridge = -1 };
	struct cir_link_info br;
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	r = cir_vethplug_gc_start(ctx, &gc, err);
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	gc.sk = sk;
	if (r >= 0) {
		if (cir_link_get(sk, bc.bridge, &br, NULL) == 0)
			gl.bridge = br.ifindex;
		cir_name_released_alias(ctx->conf->name, gl.mark);
		r = cir_link_list(sk, gc_link, &gl, err);
	}
	/* Keep-live: a user whose host veth exists stays. */
	if (r >= 0)
		r = cir_vethplug_gc_masq(ctx, &bc.v, &gc, err);
	cir_vethplug_gc_free(&gc);
	return r < 0 ? r : 0;
}

static int bridge_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct bridge_conf bc;
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	return cir_vethplug_status(ctx, err);
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

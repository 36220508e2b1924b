// SPDX-License-Identifier: Apache-2.0
/*
 * vethplug.c - a veth main plugin's verbs (circuit-bridge, circuit-ovs):
 * config keys, IPAM, the veth pair, rollback, DEL, CHECK, GC and STATUS,
 * each one sequence around its switch's operations.  The container's side
 * is lib/vethplug_ctr.c.  See vethplug.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "ipam_cni.h"
#include "link.h"
#include "masq.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "vethplug_int.h"

int cir_vethplug_switch_name(const struct cir_cni_conf *conf, char out[CIR_IFNAMSIZ],
			     struct cir_error *err)
{
	const char *br = NULL;
	int r;

	r = cir_json_str(conf->root, "bridge", &br, err);
	if (r < 0)
		return r;
	if (r == 0) {
		cir_name_bridge(conf->name, out);
		return 0;
	}
	r = cir_cni_check_ifname(br, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "bridge");
	}
	snprintf(out, CIR_IFNAMSIZ, "%s", br);
	return 0;
}

int cir_vethplug_conf_parse(const struct cir_cni_conf *conf, struct cir_vethplug_conf *v,
			    struct cir_error *err)
{
	const struct cir_jnode *root = conf->root;
	uint32_t mtu = 0;
	int r;

	memset(v, 0, sizeof(*v));
	v->is_gateway = true;
	v->ip_masq6 = true;
	if (cir_json_bool(root, "isGateway", &v->is_gateway, err) < 0 ||
	    cir_json_bool(root, "isDefaultGateway", &v->is_default_gateway, err) < 0 ||
	    cir_json_bool(root, "ipMasq", &v->ip_masq, err) < 0 ||
	    cir_json_bool(root, "ipMasq6", &v->ip_masq6, err) < 0 ||
	    cir_json_str(root, "dataDir", &v->data_dir, err) < 0)
		return -err->errnum;
	r = cir_json_u32(root, "mtu", 65535, &mtu, err);
	if (r < 0)
		return r;
	if (r > 0 && mtu < 68)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "mtu: %u is below the IPv4 minimum of 68", mtu);
	v->mtu = mtu;
	/* A default gateway in the container needs the gateway on the switch. */
	if (v->is_default_gateway)
		v->is_gateway = true;
	if (!conf->ipam_type)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam: a type is required (e.g. circuit-ipam or host-local)");
	return 0;
}

static void exec_env(const struct cir_cni_env *env, struct cir_cni_exec_env *x)
{
	x->containerid = env->containerid;
	x->netns = env->netns;
	x->ifname = env->ifname;
	x->args = env->args;
	x->path = env->path;
}

/*
 * Run the IPAM plugin: through cir_cni_exec, which runs a registered
 * built-in (circuit-ipam, registered by main.c and by `circuit`) in-process
 * unless CIRCUIT_EXEC_PLUGINS=1, and executes any other type from CNI_PATH.
 */
static int ipam_run(struct cir_cni_ctx *ctx, enum cir_cni_cmd cmd, struct cir_cni_result *res,
		    struct cir_error *err)
{
	struct cir_cni_exec_env x;
	char show[CIR_ERR_SHOWN_MAX];
	int r;

	exec_env(ctx->env, &x);
	r = cir_cni_exec(ctx->conf->ipam_type, ctx->env->path, cmd, &x, ctx->conf->raw,
			 ctx->conf->raw_len, res, NULL, err);
	if (r >= 0)
		return r;
	if (strcmp(ctx->conf->ipam_type, CIR_IPAM_PLUGIN) == 0)
		return cir_err_wrap(err, "ipam %s", CIR_IPAM_PLUGIN);
	return cir_err_wrap(err, "ipam \"%s\"",
			    cir_err_shown(ctx->conf->ipam_type, show, sizeof(show)));
}

/* ---- ADD ---- */

/*
 * A host veth left detached and down by a DEL whose container namespace
 * was already gone (circuit-bridge's DEL) may still exist while the kernel
 * destroys that namespace.  Delete it so that its name can be reused.
 * True when there was such a leftover and it is gone now.
 */
static bool reclaim_leftover(struct nl_sock *sk, const char *host)
{
	struct cir_link_info li;

	if (cir_link_get(sk, host, &li, NULL) < 0 || li.master != 0 || li.up)
		return false;
	return cir_link_delete(sk, host, NULL) >= 0;
}

static int add_veth(struct cir_vethplug_add *a, struct cir_error *err)
{
	const struct cir_cni_env *env = a->ctx->env;
	int r;

	cir_name_host_veth(env->containerid, env->ifname, a->host);
	r = cir_link_veth_create(a->sk, a->host, env->ifname, a->nsfd, a->v->mtu, err);
	if (r == -EEXIST && reclaim_leftover(a->sk, a->host)) {
		cir_err_clear(err);
		r = cir_link_veth_create(a->sk, a->host, env->ifname, a->nsfd, a->v->mtu, err);
	}
	/* Say which side is taken; never touch what is not ours. */
	if (r == -EEXIST && cir_link_get(a->sk, a->host, NULL, NULL) == 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "container %s already has interface %s on this host "
				    "(host side %s exists)", env->containerid, env->ifname, a->host);
	if (r == -EEXIST)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "interface %s already exists in netns %s", env->ifname,
				    env->netns);
	if (r < 0)
		return r;
	a->veth_made = true;
	return cir_link_get(a->sk, a->host, &a->hv, err);
}

static int add_ipam(struct cir_vethplug_add *a, struct cir_error *err)
{
	int r;

	r = ipam_run(a->ctx, CIR_CNI_CMD_ADD, &a->ipam, err);
	if (r < 0)
		return r;
	a->ipam_done = true;
	if (a->ipam.n_ips == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam %s returned no address", a->ctx->conf->ipam_type);
	return 0;
}

/* A failed ADD leaves nothing behind. */
static void add_undo(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (a->attached && sw->ops->detach)
		sw->ops->detach(sw, a);
	if (a->ipam_done)
		ipam_run(a->ctx, CIR_CNI_CMD_DEL, NULL, &e2);
	if (a->veth_made)
		cir_link_delete(a->sk, a->host, &e2);
	if (a->sw_made && sw->ops->remove)
		sw->ops->remove(sw, a);
}

/* The steps after the switch exists. */
static int add_steps(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		     struct cir_error *err)
{
	int r;

	r = add_veth(a, err);
	if (r < 0)
		return r;
	r = sw->ops->attach(sw, a, err);
	if (r < 0)
		return r;
	a->attached = true;
	r = add_ipam(a, err);
	if (r < 0)
		return r;
	return cir_vethplug_add_addresses(a, err);
}

int cir_vethplug_add(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		     struct cir_error *err)
{
	_cleanup_free_ struct cir_vethplug_add *a = calloc(1, sizeof(*a));
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	int r;

	if (!a)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_netns_open(ctx->env->netns, &nsfd, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_ENV;
		return r;
	}
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	a->ctx = ctx;
	a->v = sw->v;
	a->sk = sk;
	a->nsfd = nsfd;
	a->sw_name = sw->name;
	r = sw->ops->ensure(sw, a, err);
	if (r < 0)
		return r;
	r = add_steps(sw, a, err);
	if (r < 0)
		add_undo(sw, a);
	return r < 0 ? r : 0;
}

/* ---- DEL, CHECK ---- */

static bool netns_gone(const char *path)
{
	struct cir_error e = CIR_ERROR_INIT;
	int fd = -1, r;

	if (!path)
		return true;
	r = cir_netns_open(path, &fd, &e);
	if (r >= 0) {
		close(fd);
		return false;
	}
	return r == -ENOENT || r == -ESRCH;
}

/* DEL after the link is handled: IPAM release and the masquerade user. */
static int del_release(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
		       struct cir_error *err)
{
	int r;

	r = ipam_run(ctx, CIR_CNI_CMD_DEL, NULL, err);
	if (r < 0)
		return r;
	if (v->ip_masq) {
		char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];

		cir_vethplug_masq_user(ctx->env, user, sizeof(user));
		r = cir_masq_release(v->data_dir, ctx->conf->name, user, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * DEL: the port off the switch, the host veth (it takes its peer with it,
 * wherever that lives), the address and the masquerade user; it never
 * needs the container's namespace.  A switch's port_del failure (its
 * server down) does not keep the address: it is returned last.
 */
int cir_vethplug_del(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		     struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error e_port = CIR_ERROR_INIT;
	char host[CIR_IFNAMSIZ];
	int r, r_port = 0;

	cir_name_host_veth(env->containerid, env->ifname, host);
	if (sw->ops->port_del)
		r_port = sw->ops->port_del(sw, ctx, host, &e_port);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	if (sw->ops->del_lazy && netns_gone(env->netns)) {
		/* The container's namespace is gone (a runc poststop): the
		 * kernel deletes the pair as it destroys that namespace, in
		 * the background.  Deleting it here would only wait for the
		 * same RCU grace periods (~15 ms).  Detach it from the switch
		 * and take it down so that it carries nothing meanwhile; a
		 * leftover is reclaimed by the next ADD of its name or GC. */
		char mark[CIR_NAME_BRIDGE_ALIAS_MAX];

		cir_name_released_alias(ctx->conf->name, mark);
		r = cir_link_detach_down(sk, host, mark, err);
	} else {
		r = cir_link_delete(sk, host, err);
	}
	if (r < 0 && r != -ENODEV)
		return r;
	r = del_release(ctx, sw->v, err);
	if (r < 0)
		return r;
	if (r_port < 0) {
		*err = e_port;
		return r_port;
	}
	return 0;
}

int cir_vethplug_check(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		       struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info swl, hv;
	char host[CIR_IFNAMSIZ];
	int r;

	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "CHECK needs prevResult");
	r = ipam_run(ctx, CIR_CNI_CMD_CHECK, NULL, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, sw->name, &swl, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", sw->ops->what);
	cir_name_host_veth(env->containerid, env->ifname, host);
	r = cir_link_get(sk, host, &hv, err);
	if (r < 0)
		return cir_err_wrap(err, "host veth");
	r = sw->ops->port_check(sw, &swl, host, &hv, err);
	if (r < 0)
		return r;
	return cir_vethplug_check_container(ctx, sw->v, err);
}

/* ---- GC, STATUS ---- */

static int gc_collect(const char *cid, const char *ifname, void *arg)
{
	struct cir_vethplug_gc *v = arg;

	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->names, nc * sizeof(*v->names));

		if (!p)
			return -ENOMEM;
		v->names = p;
		v->cap = nc;
	}
	cir_name_host_veth(cid, ifname, v->names[v->n++]);
	return 0;
}

static int gc_start(struct cir_cni_ctx *ctx, struct cir_vethplug_gc *gc,
			  struct cir_error *err)
{
	int r;

	gc->keep_live = cir_cni_gc_keep_live(ctx->conf);
	r = cir_cni_valid_attachments(ctx->conf, gc_collect, gc, err);
	/* A delegate that does not know the keep-live rule would release
	 * other runtimes' addresses: only circuit-ipam is asked then. */
	if (r >= 0 && (!gc->keep_live || strcmp(ctx->conf->ipam_type, CIR_IPAM_PLUGIN) == 0))
		r = ipam_run(ctx, CIR_CNI_CMD_GC, NULL, err);
	return r < 0 ? r : 0;
}

bool cir_vethplug_gc_valid(const struct cir_vethplug_gc *gc, const char *name)
{
	for (size_t i = 0; i < gc->n; i++)
		if (strcmp(gc->names[i], name) == 0)
			return true;
	return false;
}

/* Keep a masquerade user if it is the network's owner or a valid
 * attachment, or (keep-live GC) while its host veth exists: a veth whose
 * container end was born in a namespace lives exactly as long as it. */
static bool masq_keep(const char *user, void *arg)
{
	const struct cir_vethplug_gc *v = arg;
	char cid[CIR_CNI_ID_MAX + 1], host[CIR_IFNAMSIZ];
	const char *colon = strrchr(user, ':');

	if (!colon)
		return true;            /* CIR_MASQ_OWNER and the like */
	if ((size_t)(colon - user) > CIR_CNI_ID_MAX)
		return false;
	memcpy(cid, user, colon - user);
	cid[colon - user] = '\0';
	cir_name_host_veth(cid, colon + 1, host);
	if (cir_vethplug_gc_valid(v, host))
		return true;
	return v->keep_live && v->sk && cir_link_get(v->sk, host, NULL, NULL) == 0;
}

static int gc_masq(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
		   struct cir_vethplug_gc *gc, struct cir_error *err)
{
	if (!v->ip_masq)
		return 0;
	return cir_masq_gc(v->data_dir, ctx->conf->name, masq_keep, gc, err);
}

static void gc_free(struct cir_vethplug_gc *gc)
{
	free(gc->names);
	gc->names = NULL;
	gc->n = gc->cap = 0;
}

int cir_vethplug_gc(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		    struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_vethplug_gc gc = { 0 };
	int r;

	r = gc_start(ctx, &gc, err);
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	gc.sk = sk;
	if (r >= 0)
		r = sw->ops->gc_ports(sw, ctx, &gc, err);
	/* Keep-live: a user whose host veth exists stays. */
	if (r >= 0)
		r = gc_masq(ctx, sw->v, &gc, err);
	gc_free(&gc);
	return r < 0 ? r : 0;
}

int cir_vethplug_status(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
			struct cir_error *err)
{
	int r = sw->ops->status ? sw->ops->status(sw, err) : 0;

	if (r < 0)
		return r;
	r = ipam_run(ctx, CIR_CNI_CMD_STATUS, NULL, err);
	if (r < 0)
		err->code = CIR_CNI_NOT_AVAILABLE;
	return r;
}

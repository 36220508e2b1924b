// SPDX-License-Identifier: Apache-2.0
/*
 * vethplug.c - the parts of a veth main plugin that do not depend on its
 * switch (circuit-bridge, circuit-ovs): config keys, IPAM, the veth pair,
 * the container's side (lib/vethplug_ctr.c, sharing lib/vethplug_int.h),
 * result, masquerade, CHECK and GC of all that.  See vethplug.h.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "cleanup.h"
#include "ip.h"
#include "ipam_cni.h"
#include "link.h"
#include "masq.h"
#include "names.h"
#include "netns.h"
#include "nft.h"
#include "nl.h"
#include "sysctl.h"
#include "vethplug.h"
#include "vethplug_int.h"

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
int cir_vethplug_ipam(struct cir_cni_ctx *ctx, enum cir_cni_cmd cmd, struct cir_cni_result *res,
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

/*
 * The subnets of the addresses in ips, as one comma-separated list for
 * cir_masq_acquire() (IPv6 ones only with ipMasq6), in the order of the
 * result.  Returns how many (0: nothing to masquerade).
 */
static int masq_subnets(const struct cir_vethplug_conf *bc, const struct cir_cni_result *ips,
			char *out, size_t len, struct cir_error *err)
{
	size_t off = 0;
	int n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ips->n_ips; i++) {
		struct cir_cidr c, net;
		char buf[CIR_CIDR_STRLEN];

		if (cir_cidr_parse(ips->ips[i].address, 0, &c, err) < 0)
			return -err->errnum;
		if (c.ip.af == AF_INET6 && !bc->ip_masq6)
			continue;
		net = c;
		cir_cidr_network(&c, &net.ip);
		cir_cidr_format(&net, buf, sizeof(buf));
		if (off + strlen(buf) + 2 > len)
			return cir_err(err, ENOSPC, "too many subnets to masquerade");
		off += (size_t)snprintf(out + off, len - off, "%s%s", n ? "," : "", buf);
		n++;
	}
	return n;
}

static void masq_user(const struct cir_cni_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", env->containerid, env->ifname);
}

static int sw_gateways(struct nl_sock *sk, const char *sw, int br_ifindex,
			   const struct cir_cni_result *ipam, struct cir_error *err)
{
	int r;

	for (size_t i = 0; i < ipam->n_ips; i++) {
		const struct cir_cni_ip *ip = &ipam->ips[i];
		struct cir_cidr c;
		char gw[CIR_CIDR_STRLEN];

		if (!ip->gateway[0])
			continue;
		r = cir_cidr_parse(ip->address, 0, &c, err);
		if (r < 0)
			return r;
		snprintf(gw, sizeof(gw), "%s/%u", ip->gateway, c.prefix);
		/* Concurrent ADDs race to add the same gateway: EEXIST is fine. */
		r = cir_addr_add(sk, br_ifindex, gw, true, err);
		if (r < 0)
			return cir_err_wrap(err, "%s", sw);
		if (c.ip.af == AF_INET)
			r = cir_sysctl_ip_forward_enable(err);
		else
			r = cir_sysctl_ip6_forward_enable(err);
		if (r < 0)
			return r;
	}
	return 0;
}

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

/* The ADD result: switch interface, host veth, container interface; IPs on the last,
 * and the routes the container got. */
static int result_fill(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *bc,
		       const char *sw, const struct cir_link_info *br, const char *host,
		       const struct cir_link_info *hv, const struct cir_vethplug_ctr *cs,
		       const struct cir_cni_result *ipam, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct cir_cni_result *res = ctx->result;
	int r, ci = -1;

	r = cir_cni_result_add_iface(res, sw, br->mac, 0, NULL, err);
	if (r >= 0)
		r = cir_cni_result_add_iface(res, host, hv->mac, 0, NULL, err);
	if (r >= 0)
		r = ci = cir_cni_result_add_iface(res, env->ifname, cs->mac, 0, env->netns, err);
	for (size_t i = 0; r >= 0 && i < ipam->n_ips; i++)
		r = cir_cni_result_add_ip(res, ipam->ips[i].address,
					  bc->is_gateway ? ipam->ips[i].gateway : "", ci, err);
	for (size_t i = 0; r >= 0 && i < ipam->n_routes; i++)
		if (cs->route_set[i])
			r = cir_cni_result_add_route(res, ipam->routes[i].dst, ipam->routes[i].gw,
						     err);
	for (size_t i = 0; r >= 0 && bc->is_default_gateway && i < ipam->n_ips; i++)
		if (ipam->ips[i].gateway[0] && cs->default_set[i])
			r = cir_cni_result_add_route(res, strchr(ipam->ips[i].address, ':')
								  ? "::/0" : "0.0.0.0/0",
						     ipam->ips[i].gateway, err);
	if (r < 0)
		return r;
	res->dns = ipam->dns;
	return 0;
}

int cir_vethplug_add_veth(struct cir_vethplug_add *a, struct cir_error *err)
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

int cir_vethplug_add_ipam(struct cir_vethplug_add *a, struct cir_error *err)
{
	int r;

	r = cir_vethplug_ipam(a->ctx, CIR_CNI_CMD_ADD, &a->ipam, err);
	if (r < 0)
		return r;
	a->ipam_done = true;
	if (a->ipam.n_ips == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam %s returned no address", a->ctx->conf->ipam_type);
	return 0;
}

int cir_vethplug_add_addresses(struct cir_vethplug_add *a, struct cir_error *err)
{
	struct cir_vethplug_ctr cs = { .ifname = a->ctx->env->ifname, .ipam = &a->ipam, .bc = a->v };
	char subnets[4 * CIR_CIDR_STRLEN];
	char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];
	int r;

	if (a->v->is_gateway) {
		r = sw_gateways(a->sk, a->sw_name, a->sw.ifindex, &a->ipam, err);
		if (r < 0)
			return r;
	}
	r = cir_netns_run(a->nsfd, cir_vethplug_ctr_configure, &cs, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s", a->ctx->env->ifname);
	r = result_fill(a->ctx, a->v, a->sw_name, &a->sw, a->host, &a->hv, &cs, &a->ipam, err);
	if (r < 0 || !a->v->ip_masq)
		return r;
	masq_user(a->ctx->env, user, sizeof(user));
	r = masq_subnets(a->v, &a->ipam, subnets, sizeof(subnets), err);
	if (r > 0)
		r = cir_masq_acquire(a->v->data_dir, a->ctx->conf->name, user, subnets, false, err);
	return r < 0 ? r : 0;
}

void cir_vethplug_add_undo(struct cir_vethplug_add *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (a->ipam_done)
		cir_vethplug_ipam(a->ctx, CIR_CNI_CMD_DEL, NULL, &e2);
	if (a->veth_made)
		cir_link_delete(a->sk, a->host, &e2);
}

bool cir_vethplug_netns_gone(const char *path)
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

int cir_vethplug_del_release(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
			     struct cir_error *err)
{
	int r;

	r = cir_vethplug_ipam(ctx, CIR_CNI_CMD_DEL, NULL, err);
	if (r < 0)
		return r;
	if (v->ip_masq) {
		char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];

		masq_user(ctx->env, user, sizeof(user));
		r = cir_masq_release(v->data_dir, ctx->conf->name, user, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cir_vethplug_check_start(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "CHECK needs prevResult");
	return cir_vethplug_ipam(ctx, CIR_CNI_CMD_CHECK, NULL, err);
}

int cir_vethplug_check_container(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
				 struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	const struct cir_cni_result *prev = &ctx->conf->prev_result;
	_cleanup_close_ int nsfd = -1;
	struct cir_vethplug_ctr_check cc = { 0 };
	char masq[4 * CIR_CIDR_STRLEN];
	int r;

	r = cir_netns_open(env->netns, &nsfd, err);
	if (r < 0)
		return r;
	cc.ifname = env->ifname;
	cc.prev = prev;
	cc.ci = -1;
	cc.default_route = v->is_default_gateway;
	for (size_t i = 0; i < prev->n_ifaces; i++)
		if (strcmp(prev->ifaces[i].name, env->ifname) == 0 && prev->ifaces[i].sandbox[0])
			cc.ci = (int)i;
	r = cir_netns_run(nsfd, cir_vethplug_ctr_verify, &cc, err);
	if (r < 0)
		return r;
	if (v->ip_masq && masq_subnets(v, prev, masq, sizeof(masq), err) > 0) {
		r = cir_nft_masq_exists(ctx->conf->name, err);
		if (r < 0)
			return r;
		if (r == 0)
			return cir_err(err, ENOENT, "masquerade for network %s is missing",
				       ctx->conf->name);
	}
	return 0;
}

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

int cir_vethplug_gc_start(struct cir_cni_ctx *ctx, struct cir_vethplug_gc *gc,
			  struct cir_error *err)
{
	int r;

	gc->keep_live = cir_cni_gc_keep_live(ctx->conf);
	r = cir_cni_valid_attachments(ctx->conf, gc_collect, gc, err);
	/* A delegate that does not know the keep-live rule would release
	 * other runtimes' addresses: only circuit-ipam is asked then. */
	if (r >= 0 && (!gc->keep_live || strcmp(ctx->conf->ipam_type, CIR_IPAM_PLUGIN) == 0))
		r = cir_vethplug_ipam(ctx, CIR_CNI_CMD_GC, NULL, err);
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

int cir_vethplug_gc_masq(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
			 struct cir_vethplug_gc *gc, struct cir_error *err)
{
	if (!v->ip_masq)
		return 0;
	return cir_masq_gc(v->data_dir, ctx->conf->name, masq_keep, gc, err);
}

void cir_vethplug_gc_free(struct cir_vethplug_gc *gc)
{
	free(gc->names);
	gc->names = NULL;
	gc->n = gc->cap = 0;
}

int cir_vethplug_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	int r = cir_vethplug_ipam(ctx, CIR_CNI_CMD_STATUS, NULL, err);

	if (r < 0)
		err->code = CIR_CNI_NOT_AVAILABLE;
	return r;
}

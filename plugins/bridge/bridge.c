// SPDX-License-Identifier: Apache-2.0
/*
 * bridge.c - circuit-bridge ADD/DEL/CHECK/GC/STATUS.
 *
 * ADD: ensure the bridge, create the veth pair with its container end born
 * inside CNI_NETNS, delegate to IPAM, configure the container side, add the
 * gateway to the bridge and the masquerade.  Everything made is undone on
 * failure.  DEL deletes the host end of the veth (which takes its peer with
 * it, wherever it is), releases the address and the masquerade reference;
 * it never needs the container's namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "bridge.h"
#include "cleanup.h"
#include "ip.h"
#include "ipam_cni.h"
#include "link.h"
#include "masq.h"
#include "names.h"
#include "netns.h"
#include "nft.h"
#include "nl.h"
#include "store.h"
#include "sysctl.h"

int bridge_conf_parse(const struct cir_cni_conf *conf, struct bridge_conf *bc,
		      struct cir_error *err)
{
	const struct cir_jnode *root = conf->root;
	const char *br = NULL;
	uint32_t mtu = 0;
	int r;

	memset(bc, 0, sizeof(*bc));
	bc->is_gateway = true;
	bc->ip_masq6 = true;
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
	if (cir_json_bool(root, "isGateway", &bc->is_gateway, err) < 0 ||
	    cir_json_bool(root, "isDefaultGateway", &bc->is_default_gateway, err) < 0 ||
	    cir_json_bool(root, "ipMasq", &bc->ip_masq, err) < 0 ||
	    cir_json_bool(root, "ipMasq6", &bc->ip_masq6, err) < 0 ||
	    cir_json_bool(root, "hairpinMode", &bc->hairpin, err) < 0 ||
	    cir_json_bool(root, "promiscMode", &bc->promisc, err) < 0 ||
	    cir_json_str(root, "dataDir", &bc->data_dir, err) < 0)
		return -err->errnum;
	r = cir_json_u32(root, "mtu", 65535, &mtu, err);
	if (r < 0)
		return r;
	if (r > 0 && mtu < 68)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "mtu: %u is below the IPv4 minimum of 68", mtu);
	bc->mtu = mtu;
	/* A default gateway in the container needs the gateway on the bridge. */
	if (bc->is_default_gateway)
		bc->is_gateway = true;
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

/*
 * The subnets of the addresses in ips, as one comma-separated list for
 * cir_masq_acquire() (IPv6 ones only with ipMasq6), in the order of the
 * result.  Returns how many (0: nothing to masquerade).
 */
static int masq_subnets(const struct bridge_conf *bc, const struct cir_cni_result *ips,
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

/* ---- container side ---- */

struct ctr_setup {
	const char *ifname;
	const struct cir_cni_result *ipam;
	const struct bridge_conf *bc;
	char mac[24];
	int ifindex;
	/* Routes another interface already owns (a container on two
	 * networks has one default route) are skipped and not reported. */
	bool route_set[CIR_CNI_MAX_ROUTES];
	bool default_set[CIR_CNI_MAX_IPS];
};

/* Add a route this fresh interface cannot already have: EEXIST means
 * another interface of the container owns that destination.  1 added,
 * 0 owned elsewhere. */
static int ctr_route(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		     struct cir_error *err)
{
	int r = cir_route_add(sk, dst, gw, ifindex, false, err);

	if (r == -EEXIST) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

static int ctr_configure(void *arg, struct cir_error *err)
{
	struct ctr_setup *s = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info lo, li;
	bool v6 = false;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, s->ifname, &li, err);
	if (r < 0)
		return r;
	s->ifindex = li.ifindex;
	snprintf(s->mac, sizeof(s->mac), "%s", li.mac);
	for (size_t i = 0; i < s->ipam->n_ips; i++) {
		r = cir_addr_add(sk, li.ifindex, s->ipam->ips[i].address, false, err);
		if (r < 0)
			return r;
		if (strchr(s->ipam->ips[i].address, ':'))
			v6 = true;
	}
	/* IPv4 only: no IPv6 link-local address, so the new interface sends
	 * no DAD, MLD reports or router solicitations, which the bridge
	 * floods into every other container (spec/circuit-bridge.md). */
	if (!v6) {
		r = cir_link_set_ipv6_link_local(sk, li.ifindex, false, err);
		if (r < 0)
			return cir_err_wrap(err, "link %s", s->ifname);
	}
	r = cir_link_set_up(sk, li.ifindex, true, err);
	if (r < 0)
		return cir_err_wrap(err, "link %s", s->ifname);
	if (cir_link_get(sk, "lo", &lo, err) == 0 && !lo.up) {
		r = cir_link_set_up(sk, lo.ifindex, true, err);
		if (r < 0)
			return cir_err_wrap(err, "loopback");
	}
	for (size_t i = 0; i < s->ipam->n_routes; i++) {
		const struct cir_cni_route *rt = &s->ipam->routes[i];
		const char *gw = rt->gw;

		/* A route without a gateway goes via the address's gateway. */
		if (!gw[0] && s->ipam->n_ips)
			gw = s->ipam->ips[0].gateway;
		r = ctr_route(sk, rt->dst, gw, li.ifindex, err);
		if (r < 0)
			return r;
		s->route_set[i] = r > 0;
	}
	if (s->bc->is_default_gateway) {
		for (size_t i = 0; i < s->ipam->n_ips; i++) {
			const struct cir_cni_ip *ip = &s->ipam->ips[i];

			if (!ip->gateway[0])
				continue;
			r = ctr_route(sk, strchr(ip->address, ':') ? "::/0" : "0.0.0.0/0",
				      ip->gateway, li.ifindex, err);
			if (r < 0)
				return r;
			s->default_set[i] = r > 0;
		}
	}
	return 0;
}

static int bridge_gateways(struct nl_sock *sk, const struct bridge_conf *bc, int br_ifindex,
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
			return cir_err_wrap(err, "bridge %s", bc->bridge);
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
 * was already gone (see bridge_del) may still exist while the kernel
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

/* The ADD result: bridge, host veth, container interface; IPs on the last,
 * and the routes the container got. */
static int result_fill(struct cir_cni_ctx *ctx, const struct bridge_conf *bc,
		       const struct cir_link_info *br, const char *host,
		       const struct cir_link_info *hv, const struct ctr_setup *cs,
		       const struct cir_cni_result *ipam, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	struct cir_cni_result *res = ctx->result;
	int r, ci = -1;

	r = cir_cni_result_add_iface(res, bc->bridge, br->mac, 0, NULL, err);
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

/* What an ADD has made so far, for its steps and its rollback. */
struct add_state {
	struct cir_cni_ctx *ctx;
	struct bridge_conf bc;
	struct nl_sock *sk;
	int nsfd;
	struct cir_link_info br, hv;
	struct cir_cni_result ipam;
	char host[CIR_IFNAMSIZ];
	bool br_made, veth_made, ipam_done;
};

/* The veth pair (a leftover of ours under the host name is reclaimed),
 * its host end enslaved to the bridge and up. */
static int add_veth(struct add_state *a, struct cir_error *err)
{
	const struct cir_cni_env *env = a->ctx->env;
	int r;

	cir_name_host_veth(env->containerid, env->ifname, a->host);
	r = cir_link_veth_create(a->sk, a->host, env->ifname, a->nsfd, a->bc.mtu, err);
	if (r == -EEXIST && reclaim_leftover(a->sk, a->host)) {
		cir_err_clear(err);
		r = cir_link_veth_create(a->sk, a->host, env->ifname, a->nsfd, a->bc.mtu, err);
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
	r = cir_link_get(a->sk, a->host, &a->hv, err);
	if (r < 0)
		return r;
	r = cir_link_set_master_up(a->sk, a->hv.ifindex, a->br.ifindex, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", a->host);
	return a->bc.hairpin ? cir_link_set_hairpin(a->sk, a->hv.ifindex, true, err) : 0;
}

static int add_ipam(struct add_state *a, struct cir_error *err)
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

/* Gateways on the bridge, addresses and routes in the container, the
 * result, and the masquerade for the container's subnets. */
static int add_addresses(struct add_state *a, struct cir_error *err)
{
	struct ctr_setup cs = { .ifname = a->ctx->env->ifname, .ipam = &a->ipam, .bc = &a->bc };
	char subnets[4 * CIR_CIDR_STRLEN];
	char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];
	int r;

	if (a->bc.is_gateway) {
		r = bridge_gateways(a->sk, &a->bc, a->br.ifindex, &a->ipam, err);
		if (r < 0)
			return r;
	}
	r = cir_netns_run(a->nsfd, ctr_configure, &cs, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s", a->ctx->env->ifname);
	r = result_fill(a->ctx, &a->bc, &a->br, a->host, &a->hv, &cs, &a->ipam, err);
	if (r < 0 || !a->bc.ip_masq)
		return r;
	masq_user(a->ctx->env, user, sizeof(user));
	r = masq_subnets(&a->bc, &a->ipam, subnets, sizeof(subnets), err);
	if (r > 0)
		r = cir_masq_acquire(a->bc.data_dir, a->ctx->conf->name, user, subnets, false, err);
	return r < 0 ? r : 0;
}

/* A failed ADD leaves nothing behind. */
static void add_undo(struct add_state *a)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (a->ipam_done)
		ipam_run(a->ctx, CIR_CNI_CMD_DEL, NULL, &e2);
	if (a->veth_made)
		cir_link_delete(a->sk, a->host, &e2);
	/* A bridge this ADD made goes too while it has no port (the first
	 * ADD of a network whose IPAM refused, e.g. a delegate without the
	 * requested cniVersion).  A concurrent first ADD of the same network
	 * that enslaved its veth before the count keeps it; one that enslaves
	 * later fails on the vanished bridge and rolls back.  Only a veth
	 * enslaved between the count and the delete (one netlink round trip,
	 * on a network's very first ADDs, which share this config and fail
	 * alike) would be left detached. */
	if (a->br_made && cir_link_count_ports(a->sk, a->br.ifindex, &e2) == 0)
		cir_link_delete(a->sk, a->bc.bridge, &e2);
}

static int bridge_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_free_ struct add_state *a = calloc(1, sizeof(*a));
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	char alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	int r;

	if (!a)
		return cir_err(err, ENOMEM, "out of memory");
	a->ctx = ctx;
	r = bridge_conf_parse(ctx->conf, &a->bc, err);
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
	a->sk = sk;
	a->nsfd = nsfd;
	cir_name_bridge_alias(ctx->conf->name, alias);
	r = cir_link_bridge_ensure(sk, a->bc.bridge, a->bc.mtu, a->bc.promisc, alias, &a->br,
				   &a->br_made, err);
	if (r < 0)
		return r;
	r = add_veth(a, err);
	if (r >= 0)
		r = add_ipam(a, err);
	if (r >= 0)
		r = add_addresses(a, err);
	if (r < 0)
		add_undo(a);
	return r < 0 ? r : 0;
}

/* True when the container's namespace no longer exists (DEL may come
 * without CNI_NETNS, or with a /proc/PID path of a dead process). */
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
	if (netns_gone(env->netns)) {
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
	r = ipam_run(ctx, CIR_CNI_CMD_DEL, NULL, err);
	if (r < 0)
		return r;
	if (bc.ip_masq) {
		char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];

		masq_user(env, user, sizeof(user));
		r = cir_masq_release(bc.data_dir, ctx->conf->name, user, err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct ctr_check {
	const char *ifname;
	const struct cir_cni_result *prev;
	int ci;
	bool default_route;          /* the network promises a default route */
};

static int ctr_verify(void *arg, struct cir_error *err)
{
	struct ctr_check *c = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, c->ifname, &li, err);
	if (r < 0)
		return cir_err_wrap(err, "container");
	if (!li.up)
		return cir_err(err, ENETDOWN, "container interface %s is down", c->ifname);
	for (size_t i = 0; i < c->prev->n_ips; i++) {
		const struct cir_cni_ip *ip = &c->prev->ips[i];

		if (ip->iface >= 0 && ip->iface != c->ci)
			continue;
		r = cir_addr_has(sk, li.ifindex, ip->address, err);
		if (r < 0)
			return r;
		if (r == 0)
			return cir_err(err, EADDRNOTAVAIL, "container interface %s lost address %s",
				       c->ifname, ip->address);
	}
	for (size_t i = 0; i < c->prev->n_routes; i++) {
		const struct cir_cni_route *rt = &c->prev->routes[i];

		r = cir_route_has(sk, rt->dst, rt->gw, li.ifindex, err);
		if (r < 0)
			return r;
		if (r == 0)
			return cir_err(err, ENOENT, "container route to %s is missing", rt->dst);
	}
	/* isDefaultGateway promises a default route of each family the
	 * container has an address of.  The result lists it only when this
	 * interface made it (another network's interface may own it), so
	 * the cached result alone cannot tell it is gone: look. */
	for (size_t i = 0; c->default_route && i < c->prev->n_ips; i++) {
		const struct cir_cni_ip *ip = &c->prev->ips[i];
		const char *dst = strchr(ip->address, ':') ? "::/0" : "0.0.0.0/0";

		if (!ip->gateway[0] || (ip->iface >= 0 && ip->iface != c->ci))
			continue;
		r = cir_route_has(sk, dst, NULL, 0, err);
		if (r < 0)
			return r;
		if (r == 0)
			return cir_err(err, ENOENT, "container has no default route (%s via %s "
				       "is promised by isDefaultGateway)", dst, ip->gateway);
	}
	return 0;
}

static int bridge_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	const struct cir_cni_result *prev = &ctx->conf->prev_result;
	struct bridge_conf bc;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	struct cir_link_info br, hv;
	struct ctr_check cc = { 0 };
	char host[CIR_IFNAMSIZ], masq[4 * CIR_CIDR_STRLEN];
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "CHECK needs prevResult");
	r = ipam_run(ctx, CIR_CNI_CMD_CHECK, NULL, err);
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
	r = cir_netns_open(env->netns, &nsfd, err);
	if (r < 0)
		return r;
	cc.ifname = env->ifname;
	cc.prev = prev;
	cc.ci = -1;
	cc.default_route = bc.is_default_gateway;
	for (size_t i = 0; i < prev->n_ifaces; i++)
		if (strcmp(prev->ifaces[i].name, env->ifname) == 0 && prev->ifaces[i].sandbox[0])
			cc.ci = (int)i;
	r = cir_netns_run(nsfd, ctr_verify, &cc, err);
	if (r < 0)
		return r;
	if (bc.ip_masq && masq_subnets(&bc, prev, masq, sizeof(masq), err) > 0) {
		r = cir_nft_masq_exists(ctx->conf->name, err);
		if (r < 0)
			return r;
		if (r == 0)
			return cir_err(err, ENOENT, "masquerade for network %s is missing",
				       ctx->conf->name);
	}
	return 0;
}

/* GC: IPAM releases stale allocations; we delete stale host veths. */
struct gc_valid {
	char (*names)[CIR_IFNAMSIZ];
	size_t n, cap;
	bool keep_live;
	struct nl_sock *sk;
	int bridge;                             /* its ifindex, -1 when absent */
	char mark[CIR_NAME_BRIDGE_ALIAS_MAX];   /* what this network's DEL leaves */
};

static int gc_collect(const char *cid, const char *ifname, void *arg)
{
	struct gc_valid *v = arg;

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

/* Keep a masquerade user if it is the network's owner or a valid
 * attachment, or (keep-live GC) while its host veth exists: a veth whose
 * container end was born in a namespace lives exactly as long as it. */
static bool masq_keep(const char *user, void *arg)
{
	const struct gc_valid *v = arg;
	char cid[CIR_CNI_ID_MAX + 1], host[CIR_IFNAMSIZ];
	const char *colon = strrchr(user, ':');

	if (!colon)
		return true;            /* CIR_MASQ_OWNER and the like */
	if ((size_t)(colon - user) > CIR_CNI_ID_MAX)
		return false;
	memcpy(cid, user, colon - user);
	cid[colon - user] = '\0';
	cir_name_host_veth(cid, colon + 1, host);
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], host) == 0)
			return true;
	return v->keep_live && v->sk && cir_link_get(v->sk, host, NULL, NULL) == 0;
}

/* One link of the namespace: delete it when it is a host veth of this
 * network that is no valid attachment's. */
static int gc_link(const struct cir_link_info *l, void *arg)
{
	struct gc_valid *v = arg;
	bool valid = false;

	if (strncmp(l->name, "cv", 2) != 0 || strcmp(l->kind, "veth") != 0)
		return 0;
	/* What this network's DEL released and left detached (its namespace
	 * pinned elsewhere): ours, and done with. */
	if (l->master == 0 && strcmp(l->alias, v->mark) == 0) {
		cir_link_delete(v->sk, l->name, NULL);
		return 0;
	}
	/* Otherwise ports of our bridge only: a detached veth without that
	 * mark may be another network's ADD in progress (created, not yet
	 * enslaved), not ours to judge.  Keep-live: every port is a veth
	 * whose container end lives in a namespace that exists (the pair dies
	 * with it), so none is provably dead. */
	if (v->keep_live || v->bridge < 0 || l->master != v->bridge)
		return 0;
	for (size_t i = 0; i < v->n && !valid; i++)
		valid = strcmp(v->names[i], l->name) == 0;
	if (!valid)
		cir_link_delete(v->sk, l->name, NULL);
	return 0;
}

/* The host veths of this network that no valid attachment has (v->sk
 * open in the namespace). */
static int gc_links(struct cir_cni_ctx *ctx, const struct bridge_conf *bc, struct gc_valid *v,
		    struct cir_error *err)
{
	struct cir_link_info br;

	v->bridge = -1;         /* no bridge, no ports */
	if (cir_link_get(v->sk, bc->bridge, &br, NULL) == 0)
		v->bridge = br.ifindex;
	cir_name_released_alias(ctx->conf->name, v->mark);
	return cir_link_list(v->sk, gc_link, v, err);
}

static int bridge_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct bridge_conf bc;
	struct gc_valid v = { 0 };
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	v.keep_live = cir_cni_gc_keep_live(ctx->conf);
	r = cir_cni_valid_attachments(ctx->conf, gc_collect, &v, err);
	/* A delegate that does not know the keep-live rule would release
	 * other runtimes' addresses: only circuit-ipam is asked then. */
	if (r >= 0 && (!v.keep_live || strcmp(ctx->conf->ipam_type, CIR_IPAM_PLUGIN) == 0))
		r = ipam_run(ctx, CIR_CNI_CMD_GC, NULL, err);
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	v.sk = sk;
	if (r >= 0)
		r = gc_links(ctx, &bc, &v, err);
	/* Keep-live: a user whose host veth exists stays (masq_keep, v.sk). */
	if (r >= 0 && bc.ip_masq)
		r = cir_masq_gc(bc.data_dir, ctx->conf->name, masq_keep, &v, err);
	free(v.names);
	return r < 0 ? r : 0;
}

static int bridge_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct bridge_conf bc;
	int r;

	r = bridge_conf_parse(ctx->conf, &bc, err);
	if (r < 0)
		return r;
	r = ipam_run(ctx, CIR_CNI_CMD_STATUS, NULL, err);
	if (r < 0) {
		err->code = CIR_CNI_NOT_AVAILABLE;
		return r;
	}
	return 0;
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

// SPDX-License-Identifier: Apache-2.0
/*
 * vethplug_ctr.c - a veth attachment's container side and what it adds on
 * the host for it: the container's addresses, routes and interfaces (set
 * up inside its namespace), the gateways on the switch's interface, the
 * ADD result, the masquerade; and CHECK of all that.  See vethplug.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "cleanup.h"
#include "ip.h"
#include "link.h"
#include "masq.h"
#include "netns.h"
#include "nft.h"
#include "nl.h"
#include "sysctl.h"
#include "vethplug_int.h"

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

void cir_vethplug_masq_user(const struct cir_cni_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", env->containerid, env->ifname);
}

/* ---- ADD ---- */

struct ctr_setup {
	const char *ifname;
	const struct cir_cni_result *ipam;
	const struct cir_vethplug_conf *bc;
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

/* The container's addresses on its interface; without an IPv6 one, no
 * IPv6 link-local address either, so the new interface sends no DAD, MLD
 * reports or router solicitations, which the switch floods into every
 * other container (spec/circuit-bridge.md). */
static int ctr_addresses(struct nl_sock *sk, const struct ctr_setup *s, int ifindex,
			 struct cir_error *err)
{
	bool v6 = false;
	int r;

	for (size_t i = 0; i < s->ipam->n_ips; i++) {
		r = cir_addr_add(sk, ifindex, s->ipam->ips[i].address, false, err);
		if (r < 0)
			return r;
		if (strchr(s->ipam->ips[i].address, ':'))
			v6 = true;
	}
	if (!v6) {
		r = cir_link_set_ipv6_link_local(sk, ifindex, false, err);
		if (r < 0)
			return cir_err_wrap(err, "link %s", s->ifname);
	}
	return 0;
}

/* The interface up, and the loopback too if it is not. */
static int ctr_up(struct nl_sock *sk, const struct ctr_setup *s, int ifindex,
		  struct cir_error *err)
{
	struct cir_link_info lo;
	int r;

	r = cir_link_set_up(sk, ifindex, true, err);
	if (r < 0)
		return cir_err_wrap(err, "link %s", s->ifname);
	if (cir_link_get(sk, "lo", &lo, err) == 0 && !lo.up) {
		r = cir_link_set_up(sk, lo.ifindex, true, err);
		if (r < 0)
			return cir_err_wrap(err, "loopback");
	}
	return 0;
}

/* IPAM's routes (one without a gateway goes via the address's gateway),
 * then with isDefaultGateway a default route per gateway; which of them
 * this interface made is noted for the result. */
static int ctr_routes(struct nl_sock *sk, struct ctr_setup *s, int ifindex,
		      struct cir_error *err)
{
	int r;

	for (size_t i = 0; i < s->ipam->n_routes; i++) {
		const struct cir_cni_route *rt = &s->ipam->routes[i];
		const char *gw = rt->gw;

		if (!gw[0] && s->ipam->n_ips)
			gw = s->ipam->ips[0].gateway;
		r = ctr_route(sk, rt->dst, gw, ifindex, err);
		if (r < 0)
			return r;
		s->route_set[i] = r > 0;
	}
	for (size_t i = 0; s->bc->is_default_gateway && i < s->ipam->n_ips; i++) {
		const struct cir_cni_ip *ip = &s->ipam->ips[i];

		if (!ip->gateway[0])
			continue;
		r = ctr_route(sk, strchr(ip->address, ':') ? "::/0" : "0.0.0.0/0", ip->gateway,
			      ifindex, err);
		if (r < 0)
			return r;
		s->default_set[i] = r > 0;
	}
	return 0;
}

/* Inside the container's namespace: its interface configured. */
static int ctr_configure(void *arg, struct cir_error *err)
{
	struct ctr_setup *s = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, s->ifname, &li, err);
	if (r < 0)
		return r;
	s->ifindex = li.ifindex;
	snprintf(s->mac, sizeof(s->mac), "%s", li.mac);
	r = ctr_addresses(sk, s, li.ifindex, err);
	if (r >= 0)
		r = ctr_up(sk, s, li.ifindex, err);
	if (r >= 0)
		r = ctr_routes(sk, s, li.ifindex, err);
	return r;
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

/* The ADD result: switch interface, host veth, container interface; IPs on the last,
 * and the routes the container got. */
static int result_fill(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *bc,
		       const char *sw, const struct cir_link_info *br, const char *host,
		       const struct cir_link_info *hv, const struct ctr_setup *cs,
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

int cir_vethplug_add_addresses(struct cir_vethplug_add *a, struct cir_error *err)
{
	struct ctr_setup cs = { .ifname = a->ctx->env->ifname, .ipam = &a->ipam, .bc = a->v };
	char subnets[4 * CIR_CIDR_STRLEN];
	char user[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];
	int r;

	if (a->v->is_gateway) {
		r = sw_gateways(a->sk, a->sw_name, a->sw.ifindex, &a->ipam, err);
		if (r < 0)
			return r;
	}
	r = cir_netns_run(a->nsfd, ctr_configure, &cs, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s", a->ctx->env->ifname);
	r = result_fill(a->ctx, a->v, a->sw_name, &a->sw, a->host, &a->hv, &cs, &a->ipam, err);
	if (r < 0 || !a->v->ip_masq)
		return r;
	cir_vethplug_masq_user(a->ctx->env, user, sizeof(user));
	r = masq_subnets(a->v, &a->ipam, subnets, sizeof(subnets), err);
	if (r > 0)
		r = cir_masq_acquire(a->v->data_dir, a->ctx->conf->name, user, subnets, false, err);
	return r < 0 ? r : 0;
}

/* ---- CHECK ---- */

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

int cir_vethplug_check_container(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
				 struct cir_error *err)
{
	const struct cir_cni_env *env = ctx->env;
	const struct cir_cni_result *prev = &ctx->conf->prev_result;
	_cleanup_close_ int nsfd = -1;
	struct ctr_check cc = { 0 };
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
	r = cir_netns_run(nsfd, ctr_verify, &cc, err);
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

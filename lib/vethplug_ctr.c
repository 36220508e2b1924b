// SPDX-License-Identifier: Apache-2.0
/*
 * vethplug_ctr.c - a veth main plugin's container side, run inside the
 * container's namespace (cir_netns_run): configured at ADD (addresses, up,
 * routes) and verified at CHECK.  The rest of the plugin: lib/vethplug.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "cleanup.h"
#include "link.h"
#include "nl.h"
#include "vethplug_int.h"

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

/* The IPAM addresses on the container's interface; with IPv4 only, no
 * IPv6 link-local address either, so the new interface sends no DAD, MLD
 * reports or router solicitations, which the bridge floods into every
 * other container (spec/circuit-bridge.md). */
static int ctr_addresses(struct nl_sock *sk, const struct cir_vethplug_ctr *s, int ifindex,
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

/* The interface up, and the namespace's loopback if it is not yet. */
static int ctr_up(struct nl_sock *sk, const struct cir_vethplug_ctr *s, int ifindex,
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

/* The IPAM routes, then (is_default_gateway) a default route per family
 * via its gateway; s->route_set and s->default_set say which were added. */
static int ctr_routes(struct nl_sock *sk, struct cir_vethplug_ctr *s, int ifindex,
		      struct cir_error *err)
{
	int r;

	for (size_t i = 0; i < s->ipam->n_routes; i++) {
		const struct cir_cni_route *rt = &s->ipam->routes[i];
		const char *gw = rt->gw;

		/* A route without a gateway goes via the address's gateway. */
		if (!gw[0] && s->ipam->n_ips)
			gw = s->ipam->ips[0].gateway;
		r = ctr_route(sk, rt->dst, gw, ifindex, err);
		if (r < 0)
			return r;
		s->route_set[i] = r > 0;
	}
	if (!s->bc->is_default_gateway)
		return 0;
	for (size_t i = 0; i < s->ipam->n_ips; i++) {
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

int cir_vethplug_ctr_configure(void *arg, struct cir_error *err)
{
	struct cir_vethplug_ctr *s = arg;
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
	return r < 0 ? r : 0;
}

int cir_vethplug_ctr_verify(void *arg, struct cir_error *err)
{
	struct cir_vethplug_ctr_check *c = arg;
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

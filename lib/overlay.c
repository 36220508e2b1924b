// SPDX-License-Identifier: Apache-2.0
/*
 * overlay.c - the VXLAN data plane of a cluster network on one host
 * (spec/cluster.md "Data plane"): a vxlan link (the network's VNI, UDP
 * 4789, local = this host's underlay address, no learning) enslaved to the
 * network's bridge, one all-zero FDB entry per peer host (BUM frames and
 * unknown unicast go to every peer's underlay address), the bridge's MAC
 * set to the network's gateway MAC, and the nftables rules that keep the
 * gateway's ARP off the overlay.  Everything through netlink (libnl) and
 * libnftables.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "nft.h"
#include "nl.h"
#include "overlay.h"

CIR_DEFINE_CLEANUP(struct rtnl_neigh, rtnl_neigh_put)
#define _cleanup_rtnl_neigh_ _cleanup_(rtnl_neigh_putp)

void cir_overlay_name(const char *network, char out[16])
{
	char br[16];

	/* The bridge's name with a 'v' in front ("vc-blue"), or, when that
	 * does not fit, its 'c' made a 'v' ("v-longnam-1a2b3"): never a
	 * bridge's name, which starts with "c-". */
	cir_name_bridge(network, br);
	if (strlen(br) < 15)
		snprintf(out, 16, "v%s", br);
	else {
		memcpy(out, br, 16);
		out[0] = 'v';
	}
}

static struct nl_addr *ip_addr(const struct cir_ip *ip)
{
	return nl_addr_build(ip->af, ip->addr, ip->af == AF_INET ? 4 : 16);
}

int cir_overlay_ensure(struct nl_sock *sk, const struct cir_overlay *o, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL, *cur = NULL;
	_cleanup_nl_addr_ struct nl_addr *local = NULL, *mac = NULL;
	struct cir_link_info br, vx;
	int r;

	r = cir_link_get(sk, o->bridge, &br, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge %s", o->bridge);
	/* The gateway MAC on the bridge, the same on every host. */
	mac = nl_addr_build(AF_LLC, o->mac, 6);
	if (!mac)
		return cir_err(err, ENOMEM, "out of memory");
	{
		_cleanup_rtnl_link_ struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();

		if (!orig || !chg)
			return cir_err(err, ENOMEM, "out of memory");
		rtnl_link_set_ifindex(orig, br.ifindex);
		rtnl_link_set_addr(chg, mac);
		if (o->mtu)
			rtnl_link_set_mtu(chg, o->mtu);
		r = rtnl_link_change(sk, orig, chg, 0);
		if (r < 0)
			return cir_nl_err(err, r, "bridge: set the gateway MAC");
	}
	r = rtnl_link_get_kernel(sk, 0, o->vxlan, &cur);
	if (r >= 0) {
		uint32_t id = 0;

		/* Ours only if it is a vxlan of this VNI: anything else under
		 * the name is replaced. */
		if (!rtnl_link_is_vxlan(cur) || rtnl_link_vxlan_get_id(cur, &id) < 0 ||
		    id != o->vni) {
			r = cir_link_delete(sk, o->vxlan, err);
			if (r < 0)
				return r;
			rtnl_link_put(cur);
			cur = NULL;
		}
	} else if (r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV) {
		return cir_nl_err(err, r, "vxlan link");
	}
	if (!cur) {
		l = rtnl_link_vxlan_alloc();
		local = ip_addr(&o->local);
		if (!l || !local)
			return cir_err(err, ENOMEM, "out of memory");
		rtnl_link_set_name(l, o->vxlan);
		if (rtnl_link_vxlan_set_id(l, o->vni) < 0 ||
		    rtnl_link_vxlan_set_local(l, local) < 0 ||
		    rtnl_link_vxlan_set_port(l, CIR_OVERLAY_PORT) < 0 ||
		    rtnl_link_vxlan_set_learning(l, 0) < 0)
			return cir_err(err, EINVAL, "vxlan %s: bad attributes", o->vxlan);
		if (o->mtu)
			rtnl_link_set_mtu(l, o->mtu);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && r != -NLE_EXIST)
			return cir_nl_err(err, r, "create vxlan link");
	}
	r = cir_link_get(sk, o->vxlan, &vx, err);
	if (r < 0)
		return cir_err_wrap(err, "vxlan %s", o->vxlan);
	if (vx.master != br.ifindex || !vx.up) {
		r = cir_link_set_master_up(sk, vx.ifindex, br.ifindex, err);
		if (r < 0)
			return cir_err_wrap(err, "vxlan %s", o->vxlan);
	}
	return cir_nft_overlay_guard(o->network, o->vxlan, &o->gateway, o->mac, err);
}

static bool zero_mac(struct nl_addr *a)
{
	static const unsigned char z[6];

	return a && nl_addr_get_len(a) == 6 && memcmp(nl_addr_get_binary_addr(a), z, 6) == 0;
}

/* Add (NLM_F_APPEND) or delete the all-zero entry towards dst. */
static int fdb_change(struct nl_sock *sk, int ifindex, const struct cir_ip *dst, bool add,
		      struct cir_error *err)
{
	static const unsigned char z[6];
	_cleanup_rtnl_neigh_ struct rtnl_neigh *n = rtnl_neigh_alloc();
	_cleanup_nl_addr_ struct nl_addr *ll = nl_addr_build(AF_LLC, z, 6), *d = ip_addr(dst);
	int r;

	if (!n || !ll || !d)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, AF_BRIDGE);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_dst(n, d);
	rtnl_neigh_set_state(n, NUD_NOARP | NUD_PERMANENT);
	rtnl_neigh_set_flags(n, NTF_SELF);
	if (add) {
		r = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_APPEND);
		if (r == -NLE_EXIST)
			r = 0;
	} else {
		r = rtnl_neigh_delete(sk, n, 0);
		if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR)
			r = 0;
	}
	return r < 0 ? cir_nl_err(err, r, add ? "add fdb entry" : "delete fdb entry") : 0;
}

int cir_overlay_peers(struct nl_sock *sk, const char *vxlan, struct cir_ip *out, size_t max,
		      struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	struct cir_link_info vx;
	size_t n = 0;
	int r;

	r = cir_link_get(sk, vxlan, &vx, err);
	if (r < 0)
		return r;
	r = rtnl_neigh_alloc_cache(sk, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list fdb entries");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *ne = (struct rtnl_neigh *)o;
		struct nl_addr *d = rtnl_neigh_get_dst(ne);

		if (rtnl_neigh_get_ifindex(ne) != vx.ifindex ||
		    rtnl_neigh_get_family(ne) != AF_BRIDGE || !zero_mac(rtnl_neigh_get_lladdr(ne)) ||
		    !d)
			continue;
		if (n < max) {
			int af = nl_addr_get_family(d);
			unsigned int len = nl_addr_get_len(d);

			if ((af != AF_INET || len != 4) && (af != AF_INET6 || len != 16))
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].af = af;
			memcpy(out[n].addr, nl_addr_get_binary_addr(d), len);
		}
		n++;
	}
	return (int)n;
}

int cir_overlay_sync(struct nl_sock *sk, const char *vxlan, const struct cir_ip *peers,
		     size_t n, unsigned int *added, unsigned int *removed, struct cir_error *err)
{
	struct cir_ip have[CIR_OVERLAY_PEERS_MAX];
	struct cir_link_info vx;
	int nh, r;

	*added = *removed = 0;
	r = cir_link_get(sk, vxlan, &vx, err);
	if (r < 0)
		return r;
	nh = cir_overlay_peers(sk, vxlan, have, CIR_OVERLAY_PEERS_MAX, err);
	if (nh < 0)
		return nh;
	if ((size_t)nh > CIR_OVERLAY_PEERS_MAX)
		nh = CIR_OVERLAY_PEERS_MAX;
	for (int i = 0; i < nh; i++) {
		bool want = false;

		for (size_t k = 0; k < n && !want; k++)
			want = cir_ip_eq(&have[i], &peers[k]);
		if (want)
			continue;
		r = fdb_change(sk, vx.ifindex, &have[i], false, err);
		if (r < 0)
			return r;
		(*removed)++;
	}
	for (size_t k = 0; k < n; k++) {
		bool has = false;

		for (int i = 0; i < nh && !has; i++)
			has = cir_ip_eq(&have[i], &peers[k]);
		if (has)
			continue;
		r = fdb_change(sk, vx.ifindex, &peers[k], true, err);
		if (r < 0)
			return r;
		(*added)++;
	}
	return 0;
}

int cir_overlay_remove(struct nl_sock *sk, const char *network, const char *vxlan,
		       struct cir_error *err)
{
	int r = cir_link_delete(sk, vxlan, err);

	if (r == -ENODEV) {
		cir_err_clear(err);
		r = 0;
	}
	if (r >= 0)
		r = cir_nft_overlay_unguard(network, err);
	return r;
}

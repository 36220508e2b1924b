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
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "nft.h"
#include "nl.h"
#include "overlay.h"

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

/* The gateway MAC (the same on every host) and the MTU on the bridge. */
static int bridge_gateway_mac(struct nl_sock *sk, const struct cir_overlay *o, int ifindex,
			      struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	_cleanup_nl_addr_ struct nl_addr *mac = nl_addr_build(AF_LLC, o->mac, 6);
	int r;

	if (!orig || !chg || !mac)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_addr(chg, mac);
	if (o->mtu)
		rtnl_link_set_mtu(chg, o->mtu);
	r = rtnl_link_change(sk, orig, chg, 0);
	return r < 0 ? cir_nl_err(err, r, "bridge: set the gateway MAC") : 0;
}

/* The vxlan link of the network's VNI: kept when there, made when not;
 * anything else under its name is replaced. */
static int vxlan_ensure(struct nl_sock *sk, const struct cir_overlay *o, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL, *cur = NULL;
	_cleanup_nl_addr_ struct nl_addr *local = NULL;
	uint32_t id = 0;
	int r;

	r = rtnl_link_get_kernel(sk, 0, o->vxlan, &cur);
	if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		return cir_nl_err(err, r, "vxlan link");
	if (r >= 0 && rtnl_link_is_vxlan(cur) && rtnl_link_vxlan_get_id(cur, &id) >= 0 &&
	    id == o->vni)
		return 0;
	if (r >= 0) {
		r = cir_link_delete(sk, o->vxlan, err);
		if (r < 0)
			return r;
	}
	l = rtnl_link_vxlan_alloc();
	local = ip_addr(&o->local);
	if (!l || !local)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_name(l, o->vxlan);
	if (rtnl_link_vxlan_set_id(l, o->vni) < 0 || rtnl_link_vxlan_set_local(l, local) < 0 ||
	    rtnl_link_vxlan_set_port(l, CIR_OVERLAY_PORT) < 0 ||
	    rtnl_link_vxlan_set_learning(l, 0) < 0)
		return cir_err(err, EINVAL, "vxlan %s: bad attributes", o->vxlan);
	if (o->mtu)
		rtnl_link_set_mtu(l, o->mtu);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0 && r != -NLE_EXIST)
		return cir_nl_err(err, r, "create vxlan link");
	return 0;
}

int cir_overlay_ensure(struct nl_sock *sk, const struct cir_overlay *o, struct cir_error *err)
{
	struct cir_link_info br, vx;
	int r;

	r = cir_link_get(sk, o->bridge, &br, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge %s", o->bridge);
	/* The guard first (its rules name the vxlan, which need not exist
	 * yet): the bridge starts IPv6 DAD of its link-local address, the
	 * same on every host, when the vxlan port brings its carrier up.
	 * With the guard installed after the port, a peer's solicitation
	 * for that address could cross in between and fail DAD on both
	 * hosts (seen once in CI: "dadfailed" on h2's c-v6). */
	r = cir_nft_overlay_guard(o->network, o->vxlan, &o->gateway, o->mac, err);
	if (r < 0)
		return r;
	r = bridge_gateway_mac(sk, o, br.ifindex, err);
	if (r < 0)
		return r;
	r = vxlan_ensure(sk, o, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, o->vxlan, &vx, err);
	if (r < 0)
		return cir_err_wrap(err, "vxlan %s", o->vxlan);
	if (vx.master != br.ifindex || !vx.up) {
		r = cir_link_set_master_up(sk, vx.ifindex, br.ifindex, err);
		if (r < 0)
			return cir_err_wrap(err, "vxlan %s", o->vxlan);
	}
	return 0;
}

/* Add or delete vxlan ifindex's entry mac -> dst (NTF_SELF, permanent).
 * The all-zero MAC is a peer: appended beside the others (NLM_F_APPEND);
 * a container's MAC has one destination, replaced if it moved
 * (NLM_F_REPLACE).  Built by hand: libnl leaves NDA_DST out of an
 * AF_BRIDGE neighbour message, and a vxlan entry needs it (the kernel
 * answers EINVAL). */
static int fdb_change(struct nl_sock *sk, int ifindex, const unsigned char mac[6],
		      const struct cir_ip *dst, bool add, struct cir_error *err)
{
	static const unsigned char z[6];
	_cleanup_nl_msg_ struct nl_msg *m = NULL;
	struct ndmsg nd = { .ndm_family = AF_BRIDGE, .ndm_ifindex = ifindex,
			    .ndm_state = NUD_NOARP | NUD_PERMANENT, .ndm_flags = NTF_SELF };
	bool zero = memcmp(mac, z, 6) == 0;
	int r;

	m = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
			       add ? NLM_F_CREATE | (zero ? NLM_F_APPEND : NLM_F_REPLACE) : 0);
	if (!m)
		return cir_err(err, ENOMEM, "out of memory");
	if (nlmsg_append(m, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, NDA_LLADDR, 6, mac) < 0 ||
	    nla_put(m, NDA_DST, dst->af == AF_INET ? 4 : 16, dst->addr) < 0)
		return cir_err(err, EMSGSIZE, "fdb entry: message too small");
	r = nl_send_auto(sk, m);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	if (add && r == -NLE_EXIST)
		r = 0;
	if (!add && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR))
		r = 0;
	return r < 0 ? cir_nl_err(err, r, add ? "add fdb entry" : "delete fdb entry") : 0;
}

struct peer_dump {
	int ifindex;
	struct cir_ip *out;
	size_t max, n;
};

static int peer_dump_one(struct nl_msg *m, void *arg)
{
	static const unsigned char z[6];
	struct peer_dump *pd = arg;
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *nd;
	unsigned int len;

	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) < 0)
		return NL_OK;
	nd = nlmsg_data(h);
	if (nd->ndm_family != AF_BRIDGE || nd->ndm_ifindex != pd->ifindex || !tb[NDA_LLADDR] ||
	    nla_len(tb[NDA_LLADDR]) != 6 || memcmp(nla_data(tb[NDA_LLADDR]), z, 6) != 0 ||
	    !tb[NDA_DST])
		return NL_OK;
	len = (unsigned int)nla_len(tb[NDA_DST]);
	if (len != 4 && len != 16)
		return NL_OK;
	if (pd->n < pd->max) {
		memset(&pd->out[pd->n], 0, sizeof(pd->out[0]));
		pd->out[pd->n].af = len == 4 ? AF_INET : AF_INET6;
		memcpy(pd->out[pd->n].addr, nla_data(tb[NDA_DST]), len);
	}
	pd->n++;
	return NL_OK;
}

int cir_overlay_peers(struct nl_sock *sk, const char *vxlan, struct cir_ip *out, size_t max,
		      struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *m = NULL;
	struct ndmsg nd = { .ndm_family = AF_BRIDGE };
	struct peer_dump pd = { .out = out, .max = max };
	struct cir_link_info vx;
	int r;

	r = cir_link_get(sk, vxlan, &vx, err);
	if (r < 0)
		return r;
	pd.ifindex = vx.ifindex;
	/* A dump of the bridge family's neighbours (the FDBs), by hand: the
	 * all-zero entries' NDA_DST is what is wanted, and libnl's neighbour
	 * cache does not keep it for AF_BRIDGE. */
	m = nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP);
	if (!m || nlmsg_append(m, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_nl_request(sk, m, peer_dump_one, &pd, false);
	if (r < 0)
		return cir_nl_err(err, r, "list fdb entries");
	return (int)pd.n;
}

static const unsigned char zero_mac[6];

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
		r = fdb_change(sk, vx.ifindex, zero_mac, &have[i], false, err);
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
		r = fdb_change(sk, vx.ifindex, zero_mac, &peers[k], true, err);
		if (r < 0)
			return r;
		(*added)++;
	}
	return 0;
}

/* ---- the containers' entries (spec/cluster.md "Per-container FDB entries") ---- */

struct mac_dump {
	int ifindex;
	struct cir_overlay_fdb *v;
	size_t n, cap;
	bool nomem;
};

static int mac_dump_one(struct nl_msg *m, void *arg)
{
	struct mac_dump *md = arg;
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *tb[NDA_MAX + 1];
	struct cir_overlay_fdb *e;
	struct ndmsg *nd;
	unsigned int len;

	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) < 0)
		return NL_OK;
	nd = nlmsg_data(h);
	/* The vxlan's own entries (NTF_SELF) with a destination; not the
	 * bridge's (NTF_MASTER) on that port, nor the all-zero peers. */
	if (nd->ndm_family != AF_BRIDGE || nd->ndm_ifindex != md->ifindex ||
	    !(nd->ndm_flags & NTF_SELF) || (nd->ndm_flags & NTF_MASTER) || !tb[NDA_LLADDR] ||
	    nla_len(tb[NDA_LLADDR]) != 6 || memcmp(nla_data(tb[NDA_LLADDR]), zero_mac, 6) == 0 ||
	    !tb[NDA_DST])
		return NL_OK;
	len = (unsigned int)nla_len(tb[NDA_DST]);
	if (len != 4 && len != 16)
		return NL_OK;
	if (md->n == md->cap) {
		size_t cap = md->cap ? md->cap * 2 : 64;
		struct cir_overlay_fdb *v = reallocarray(md->v, cap, sizeof(*v));

		if (!v) {
			md->nomem = true;
			return NL_OK;
		}
		md->v = v;
		md->cap = cap;
	}
	e = &md->v[md->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->mac, nla_data(tb[NDA_LLADDR]), 6);
	e->dst.af = len == 4 ? AF_INET : AF_INET6;
	memcpy(e->dst.addr, nla_data(tb[NDA_DST]), len);
	return NL_OK;
}

int cir_overlay_macs(struct nl_sock *sk, const char *vxlan, struct cir_overlay_fdb **out,
		     size_t *n, struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *m = NULL;
	struct ndmsg nd = { .ndm_family = AF_BRIDGE };
	struct mac_dump md = { 0 };
	struct cir_link_info vx;
	int r;

	*out = NULL;
	*n = 0;
	r = cir_link_get(sk, vxlan, &vx, err);
	if (r < 0)
		return r;
	md.ifindex = vx.ifindex;
	m = nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP);
	if (!m || nlmsg_append(m, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_nl_request(sk, m, mac_dump_one, &md, false);
	if (r < 0 || md.nomem) {
		free(md.v);
		return r < 0 ? cir_nl_err(err, r, "list fdb entries")
			     : cir_err(err, ENOMEM, "out of memory");
	}
	*out = md.v;
	*n = md.n;
	return 0;
}

int cir_overlay_fdb_sync(struct nl_sock *sk, const char *vxlan, const struct cir_overlay_fdb *want,
			 size_t n, unsigned int *added, unsigned int *removed,
			 struct cir_error *err)
{
	_cleanup_free_ struct cir_overlay_fdb *have = NULL;
	struct cir_link_info vx;
	size_t nh = 0;
	int r;

	*added = *removed = 0;
	r = cir_link_get(sk, vxlan, &vx, err);
	if (r < 0)
		return r;
	r = cir_overlay_macs(sk, vxlan, &have, &nh, err);
	if (r < 0)
		return r;
	/* Entries not wanted (or towards another host) first: a MAC that
	 * moved is then added afresh below. */
	for (size_t i = 0; i < nh; i++) {
		bool keep = false;

		for (size_t k = 0; k < n && !keep; k++)
			keep = memcmp(have[i].mac, want[k].mac, 6) == 0 &&
			       cir_ip_eq(&have[i].dst, &want[k].dst);
		if (keep)
			continue;
		r = fdb_change(sk, vx.ifindex, have[i].mac, &have[i].dst, false, err);
		if (r < 0)
			return r;
		(*removed)++;
	}
	for (size_t k = 0; k < n; k++) {
		bool has = false;

		for (size_t i = 0; i < nh && !has; i++)
			has = memcmp(have[i].mac, want[k].mac, 6) == 0 &&
			      cir_ip_eq(&have[i].dst, &want[k].dst);
		if (has)
			continue;
		r = fdb_change(sk, vx.ifindex, want[k].mac, &want[k].dst, true, err);
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

int cir_overlay_underlay_mtu(struct nl_sock *sk, const struct cir_ip *local, unsigned int *mtu,
			     struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r, ifindex = 0;

	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o && !ifindex;
	     o = nl_cache_get_next(o)) {
		struct nl_addr *a = rtnl_addr_get_local((struct rtnl_addr *)o);

		if (a && nl_addr_get_family(a) == local->af &&
		    nl_addr_get_len(a) == (local->af == AF_INET ? 4u : 16u) &&
		    memcmp(nl_addr_get_binary_addr(a), local->addr, nl_addr_get_len(a)) == 0)
			ifindex = rtnl_addr_get_ifindex((struct rtnl_addr *)o);
	}
	if (!ifindex) {
		char s[CIR_IP_STRLEN];

		return cir_err(err, EADDRNOTAVAIL, "underlay address %s is on no link here",
			       cir_ip_format(local, s, sizeof(s)));
	}
	{
		_cleanup_rtnl_link_ struct rtnl_link *l = NULL;

		r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
		if (r < 0)
			return cir_nl_err(err, r, "underlay link");
		*mtu = rtnl_link_get_mtu(l);
	}
	return 0;
}

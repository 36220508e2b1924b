// SPDX-License-Identifier: Apache-2.0
/*
 * link.c - one wrapper per link operation over libnl-route.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>

#include "cleanup.h"
#include "error.h"
#include "link.h"
#include "nl.h"

static void fill_info(struct rtnl_link *l, struct cir_link_info *out)
{
	struct nl_addr *a = rtnl_link_get_addr(l);
	const char *kind = rtnl_link_get_type(l);

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(l) ?: "");
	out->ifindex = rtnl_link_get_ifindex(l);
	out->link = rtnl_link_get_link(l);
	out->master = rtnl_link_get_master(l);
	out->mtu = rtnl_link_get_mtu(l);
	out->up = rtnl_link_get_flags(l) & IFF_UP;
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
	snprintf(out->alias, sizeof(out->alias), "%s", rtnl_link_get_ifalias(l) ?: "");
	if (a && nl_addr_get_len(a) == 6) {
		const unsigned char *m = nl_addr_get_binary_addr(a);

		snprintf(out->mac, sizeof(out->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
			 m[2], m[3], m[4], m[5]);
	}
}

int cir_link_get(struct nl_sock *sk, const char *name, struct cir_link_info *out,
		 struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == ENOENT || r == ENODEV)
			return cir_err(err, ENODEV, "link %s not found", name);
		return cir_err(err, r, "link %s: %s", name, strerror(r));
	}
	if (out)
		fill_info(l, out);
	return 0;
}

struct peer_addr {
	int ifindex;
	unsigned char mac[6];
	bool found;
};

static int peer_addr_one(struct nl_msg *m, void *arg)
{
	struct peer_addr *pa = arg;
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	ifi = nlmsg_data(h);
	if (ifi->ifi_index != pa->ifindex || !tb[IFLA_ADDRESS] || nla_len(tb[IFLA_ADDRESS]) != 6)
		return NL_OK;
	memcpy(pa->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	pa->found = true;
	return NL_OK;
}

int cir_link_peer_mac(struct nl_sock *sk, const char *name, unsigned char mac[6],
		      struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	_cleanup_nl_msg_ struct nl_msg *m = NULL;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct peer_addr pa = { 0 };
	int32_t nsid = -1;
	const char *kind;
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0 || !l) {
		r = r < 0 ? cir_nl_errno(r) : ENODEV;
		if (r == ENOENT || r == ENODEV)
			return cir_err(err, ENODEV, "link %s not found", name);
		return cir_err(err, r, "link %s: %s", name, strerror(r));
	}
	kind = rtnl_link_get_type(l);
	if (!kind || strcmp(kind, "veth") != 0)
		return cir_err(err, EINVAL, "link %s is not a veth", name);
	pa.ifindex = rtnl_link_get_link(l);
	if (pa.ifindex <= 0)
		return cir_err(err, ENODEV, "veth %s has no peer", name);
	/* No netnsid: the peer is in this namespace.  The kernel gives the
	 * peer's namespace an id in ours when it reports the veth. */
	if (rtnl_link_get_link_netnsid(l, &nsid) < 0)
		nsid = -1;
	/* By hand: libnl's link lookup cannot ask in another namespace. */
	ifi.ifi_index = pa.ifindex;
	m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (nsid >= 0 && nla_put_s32(m, IFLA_TARGET_NETNSID, nsid) < 0))
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_nl_request(sk, m, peer_addr_one, &pa, true);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == ENOENT || r == ENODEV)
			return cir_err(err, ENODEV, "veth %s: peer not found", name);
		return cir_err(err, r, "veth %s: peer: %s", name, strerror(r));
	}
	if (!pa.found)
		return cir_err(err, ENODEV, "veth %s: peer has no MAC address", name);
	memcpy(mac, pa.mac, 6);
	return 0;
}

int cir_link_get_index(struct nl_sock *sk, int ifindex, struct cir_link_info *out,
		       struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	char what[32];
	int r;

	r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (r < 0) {
		snprintf(what, sizeof(what), "ifindex %d", ifindex);
		return cir_nl_err(err, r, what);
	}
	if (out)
		fill_info(l, out);
	return 0;
}

int cir_link_list(struct nl_sock *sk, int (*fn)(const struct cir_link_info *l, void *arg),
		  void *arg, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	struct cir_link_info li;
	int r;

	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list links");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		fill_info((struct rtnl_link *)o, &li);
		r = fn(&li, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One RTM_NEWLINK change of ifindex: master (-1 keeps it, 0 releases),
 * up (-1 keeps the flag, 0 down, 1 up), alias (NULL keeps it). */
static int link_change_alias(struct nl_sock *sk, int ifindex, int master, int up,
			     const char *alias, const char *what, struct cir_error *err);

static int link_change(struct nl_sock *sk, int ifindex, int master, int up, const char *what,
		       struct cir_error *err)
{
	return link_change_alias(sk, ifindex, master, up, NULL, what, err);
}

static int link_change_alias(struct nl_sock *sk, int ifindex, int master, int up,
			     const char *alias, const char *what, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *orig = NULL, *chg = NULL;
	int r;

	orig = rtnl_link_alloc();
	chg = rtnl_link_alloc();
	if (!orig || !chg)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_ifindex(orig, ifindex);
	if (master >= 0)
		rtnl_link_set_master(chg, master);
	if (up > 0)
		rtnl_link_set_flags(chg, IFF_UP);
	else if (up == 0)
		rtnl_link_unset_flags(chg, IFF_UP);
	if (alias)
		rtnl_link_set_ifalias(chg, alias);
	r = rtnl_link_change(sk, orig, chg, 0);
	if (r < 0)
		return cir_nl_err(err, r, what);
	return 0;
}

int cir_link_set_up(struct nl_sock *sk, int ifindex, bool up, struct cir_error *err)
{
	return link_change(sk, ifindex, -1, up, up ? "set link up" : "set link down", err);
}

/* A random, unicast, locally administered MAC. */
static int set_random_mac(struct rtnl_link *l, struct cir_error *err)
{
	_cleanup_nl_addr_ struct nl_addr *a = NULL;
	unsigned char mac[6];

	if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
		return cir_err(err, errno ? errno : EIO, "random mac: %s", strerror(errno));
	mac[0] = (mac[0] & 0xfe) | 0x02;
	a = nl_addr_build(AF_LLC, mac, sizeof(mac));
	if (!a)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_addr(l, a);
	return 0;
}

int cir_link_set_alias(struct nl_sock *sk, int ifindex, const char *alias,
		       struct cir_error *err)
{
	return link_change_alias(sk, ifindex, -1, -1, alias, "set link alias", err);
}

int cir_link_bridge_ensure(struct nl_sock *sk, const char *name, unsigned int mtu,
			   bool promisc, const char *alias, struct cir_link_info *out,
			   bool *created, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct cir_link_info info;
	bool made = false;
	int r;

	r = cir_link_get(sk, name, &info, err);
	if (r == -ENODEV) {
		l = rtnl_link_alloc();
		if (!l)
			return cir_err(err, ENOMEM, "out of memory");
		rtnl_link_set_name(l, name);
		r = rtnl_link_set_type(l, "bridge");
		if (r < 0)
			return cir_nl_err(err, r, "bridge type");
		if (mtu)
			rtnl_link_set_mtu(l, mtu);
		/* A fixed address: otherwise the bridge takes the lowest port's
		 * MAC and changes it when that port leaves, and every container
		 * keeps a stale ARP entry for its gateway. */
		r = set_random_mac(l, err);
		if (r < 0)
			return r;
		rtnl_link_set_flags(l, IFF_UP | (promisc ? IFF_PROMISC : 0));
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		/* An unknown link kind is EOPNOTSUPP ("Unknown device type"). */
		if (r < 0 && cir_nl_errno(r) == EOPNOTSUPP)
			return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_BRIDGE,
						    "create bridge");
		if (r < 0 && cir_nl_errno(r) != EEXIST)
			return cir_nl_err(err, r, "create bridge");
		made = r >= 0;
		r = cir_link_get(sk, name, &info, err);
		/* The kernel ignores IFLA_IFALIAS in a create: a second request. */
		if (r >= 0 && made && alias && *alias) {
			r = cir_link_set_alias(sk, info.ifindex, alias, err);
			if (r >= 0)
				snprintf(info.alias, sizeof(info.alias), "%s", alias);
		}
	}
	if (r < 0)
		return cir_err_wrap(err, "bridge %s", name);
	if (strcmp(info.kind, "bridge") != 0)
		return cir_err(err, EEXIST, "bridge %s: a %s link with that name exists", name,
			       info.kind[0] ? info.kind : "non-bridge");
	if (!info.up) {
		r = cir_link_set_up(sk, info.ifindex, true, err);
		if (r < 0)
			return cir_err_wrap(err, "bridge %s", name);
		info.up = true;
	}
	if (out)
		*out = info;
	if (created)
		*created = made;
	return 0;
}

int cir_link_veth_create(struct nl_sock *sk, const char *host, const char *peer, int peer_nsfd,
			 unsigned int mtu, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct rtnl_link *p;
	int r;

	l = rtnl_link_veth_alloc();
	if (!l)
		return cir_err(err, ENOMEM, "out of memory");
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, host);
	rtnl_link_set_name(p, peer);
	if (mtu) {
		rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_mtu(p, mtu);
	}
	if (peer_nsfd >= 0)
		rtnl_link_set_ns_fd(p, peer_nsfd);
	rtnl_link_put(p);   /* get_peer took a reference */
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		char what[2 * IFNAMSIZ + 8];

		r = cir_nl_errno(r);
		snprintf(what, sizeof(what), "veth %s/%s", host, peer);
		if (r == EOPNOTSUPP)
			return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, r, CIR_KF_VETH, what);
		return cir_err(err, r, "%s: %s", what, strerror(r));
	}
	return 0;
}

int cir_link_set_master_up(struct nl_sock *sk, int ifindex, int master, struct cir_error *err)
{
	return link_change(sk, ifindex, master, 1, "attach to bridge", err);
}

int cir_link_set_hairpin(struct nl_sock *sk, int ifindex, bool on, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *orig = NULL, *chg = NULL;
	int r;

	orig = rtnl_link_alloc();
	chg = rtnl_link_bridge_alloc();
	if (!orig || !chg)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_family(orig, AF_BRIDGE);
	rtnl_link_set_family(chg, AF_BRIDGE);
	if (on)
		r = rtnl_link_bridge_set_flags(chg, RTNL_BRIDGE_HAIRPIN_MODE);
	else
		r = rtnl_link_bridge_unset_flags(chg, RTNL_BRIDGE_HAIRPIN_MODE);
	if (r < 0)
		return cir_nl_err(err, r, "hairpin mode");
	r = rtnl_link_change(sk, orig, chg, 0);
	if (r < 0)
		return cir_nl_err(err, r, "hairpin mode");
	return 0;
}

int cir_link_set_ipv6_link_local(struct nl_sock *sk, int ifindex, bool on,
				 struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *orig = NULL, *chg = NULL;
	int r;

	orig = rtnl_link_alloc();
	chg = rtnl_link_alloc();
	if (!orig || !chg)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_ifindex(orig, ifindex);
	r = rtnl_link_inet6_set_addr_gen_mode(chg, on ? IN6_ADDR_GEN_MODE_EUI64 :
					      IN6_ADDR_GEN_MODE_NONE);
	if (r < 0)
		return cir_nl_err(err, r, "ipv6 address generation mode");
	r = rtnl_link_change(sk, orig, chg, 0);
	/* A kernel without IPv6 has nothing to generate. */
	if (r < 0 && (cir_nl_errno(r) == EAFNOSUPPORT || cir_nl_errno(r) == EOPNOTSUPP))
		return 0;
	if (r < 0)
		return cir_nl_err(err, r, "ipv6 address generation mode");
	return 0;
}

int cir_link_delete(struct nl_sock *sk, const char *name, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	int r;

	l = rtnl_link_alloc();
	if (!l)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_link_set_name(l, name);
	r = rtnl_link_delete(sk, l);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == ENOENT || r == ENODEV)
			return cir_err(err, ENODEV, "link %s not found", name);
		return cir_err(err, r, "delete link %s: %s", name, strerror(r));
	}
	return 0;
}

int cir_link_detach_down(struct nl_sock *sk, const char *name, const char *alias,
			 struct cir_error *err)
{
	struct cir_link_info li;
	int r;

	/* libnl cannot address a change by name: resolve the index first. */
	r = cir_link_get(sk, name, &li, err);
	if (r < 0)
		return r;
	r = link_change_alias(sk, li.ifindex, 0, 0, alias, "detach link", err);
	if (r == -ENODEV || r == -ENOENT)
		return cir_err(err, ENODEV, "link %s not found", name);
	return r;
}

int cir_link_count_ports(struct nl_sock *sk, int master, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r, n = 0;

	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list links");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
		if (rtnl_link_get_master((struct rtnl_link *)o) == master)
			n++;
	return n;
}

int cir_link_delete_detached(struct nl_sock *sk, const char *alias, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r, n = 0;

	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list links");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;

		if (rtnl_link_get_master(l) != 0 || (rtnl_link_get_flags(l) & IFF_UP) ||
		    strcmp(rtnl_link_get_ifalias(l) ?: "", alias) != 0)
			continue;
		if (cir_link_delete(sk, rtnl_link_get_name(l), NULL) >= 0)
			n++;
	}
	return n;
}

/* ---- ifb devices (lib/qos.c redirects a device's ingress into one) ---- */

/* The link called name: 0 and *out, or -ENODEV when there is none. */
static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out,
		    struct cir_error *err)
{
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, out);
	if (r < 0)
		return cir_nl_err(err, r, name);
	return 0;
}

static int is_ifb(struct rtnl_link *l)
{
	const char *t = rtnl_link_get_type(l);

	return t && strcmp(t, "ifb") == 0;
}

int cir_link_ifb_index(struct nl_sock *sk, const char *name, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	int r;

	r = link_get(sk, name, &l, err);
	if (r < 0)
		return cir_err_wrap(err, "ifb");
	if (!is_ifb(l))
		return cir_err(err, EINVAL, "ifb %s: link exists and is not an ifb", name);
	return rtnl_link_get_ifindex(l);
}

int cir_link_ifb_create(struct nl_sock *sk, const char *name, uint32_t mtu, int *ifindex_out,
			struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *cur = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *up = NULL;
	int r;

	if (!name || !name[0] || strlen(name) >= IFNAMSIZ)
		return cir_err(err, EINVAL, "ifb '%s': invalid interface name", name ? name : "");
	l = rtnl_link_alloc();
	if (!l)
		return cir_err(err, ENOMEM, "ifb %s: %s", name, strerror(ENOMEM));
	rtnl_link_set_name(l, name);
	r = rtnl_link_set_type(l, "ifb");
	if (r < 0)
		return cir_nl_err(err, r, "ifb");
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	/* ifb defaults to 32 packets, which becomes the leaf pfifo limit
	 * under HTB and makes shaped TCP drop early: use a veth's 1000. */
	rtnl_link_set_txqlen(l, 1000);
	rtnl_link_set_flags(l, IFF_UP);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	/* An unknown link kind is EOPNOTSUPP ("Unknown device type"). */
	if (r < 0 && cir_nl_errno(r) == EOPNOTSUPP)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_IFB, "create ifb");
	if (r < 0 && cir_nl_errno(r) != EEXIST) {
		cir_nl_err(err, r, name);
		return cir_err_wrap(err, "create ifb");
	}

	r = link_get(sk, name, &cur, err);
	if (r < 0)
		return cir_err_wrap(err, "ifb");
	if (!is_ifb(cur))
		return cir_err(err, EEXIST, "ifb %s: a link of another kind has that name", name);
	if (!(rtnl_link_get_flags(cur) & IFF_UP)) {
		up = rtnl_link_alloc();
		if (!up)
			return cir_err(err, ENOMEM, "ifb %s: %s", name, strerror(ENOMEM));
		rtnl_link_set_flags(up, IFF_UP);
		r = rtnl_link_change(sk, cur, up, 0);
		if (r < 0)
			return cir_nl_err(err, r, "ifb up");
	}
	if (ifindex_out)
		*ifindex_out = rtnl_link_get_ifindex(cur);
	return 0;
}

int cir_link_ifb_delete(struct nl_sock *sk, const char *name, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *cur = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *del = NULL;
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r < 0 && cir_nl_errno(r) == ENODEV)
		return 0;
	if (r < 0)
		return cir_nl_err(err, r, name);
	if (!is_ifb(cur))
		return cir_err(err, EINVAL, "ifb %s: link is not an ifb, not deleting it", name);
	del = rtnl_link_alloc();
	if (!del)
		return cir_err(err, ENOMEM, "ifb %s: %s", name, strerror(ENOMEM));
	rtnl_link_set_ifindex(del, rtnl_link_get_ifindex(cur));
	r = rtnl_link_delete(sk, del);
	if (r < 0 && cir_nl_errno(r) == ENODEV)
		return 0;
	if (r < 0) {
		cir_nl_err(err, r, name);
		return cir_err_wrap(err, "delete ifb");
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * addr.c - addresses and routes through libnl-route.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "addr.h"
#include "cleanup.h"
#include "nl.h"

static int parse(const char *s, int family_hint, struct nl_addr **out, struct cir_error *err)
{
	int r;

	if (!s || !*s)
		return cir_err(err, EINVAL, "empty address");
	if (strcmp(s, "default") == 0)
		s = family_hint == AF_INET6 ? "::/0" : "0.0.0.0/0";
	r = nl_addr_parse(s, family_hint, out);
	if (r < 0) {
		char show[CIR_ERR_SHOWN_MAX];

		return cir_err(err, EINVAL, "invalid address \"%s\"",
			       cir_err_shown(s, show, sizeof(show)));
	}
	return 0;
}

static int build_addr(int ifindex, const char *cidr, struct rtnl_addr **out,
		      struct cir_error *err)
{
	_cleanup_nl_addr_ struct nl_addr *local = NULL;
	_cleanup_rtnl_addr_ struct rtnl_addr *a = NULL;
	int r;

	r = parse(cidr, AF_UNSPEC, &local, err);
	if (r < 0)
		return r;
	a = rtnl_addr_alloc();
	if (!a)
		return cir_err(err, ENOMEM, "out of memory");
	rtnl_addr_set_ifindex(a, ifindex);
	r = rtnl_addr_set_local(a, local);
	if (r < 0)
		return cir_nl_err(err, r, "address");
	if (nl_addr_get_family(local) == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	*out = TAKE_PTR(a);
	return 0;
}

int cir_addr_has(struct nl_sock *sk, int ifindex, const char *cidr, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	_cleanup_nl_addr_ struct nl_addr *want = NULL;
	int r, found = 0;

	r = parse(cidr, AF_UNSPEC, &want, err);
	if (r < 0)
		return r;
	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_ifindex(a) != ifindex || !l)
			continue;
		if (nl_addr_cmp(l, want) == 0 &&
		    rtnl_addr_get_prefixlen(a) == (int)nl_addr_get_prefixlen(want)) {
			found = 1;
			break;
		}
	}
	return found;
}

int cir_addr_add(struct nl_sock *sk, int ifindex, const char *cidr, bool exist_ok,
		 struct cir_error *err)
{
	_cleanup_rtnl_addr_ struct rtnl_addr *a = NULL;
	int r;

	r = build_addr(ifindex, cidr, &a, err);
	if (r < 0)
		return r;
	r = rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == EEXIST && exist_ok)
			return 0;
		return cir_err(err, r, "address %s: %s", cidr, strerror(r));
	}
	return 0;
}

int cir_addr_del(struct nl_sock *sk, int ifindex, const char *cidr, struct cir_error *err)
{
	_cleanup_rtnl_addr_ struct rtnl_addr *a = NULL;
	int r;

	r = build_addr(ifindex, cidr, &a, err);
	if (r < 0)
		return r;
	r = rtnl_addr_delete(sk, a, 0);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == ENOENT)
			r = EADDRNOTAVAIL;
		return cir_err(err, r, "delete address %s: %s", cidr, strerror(r));
	}
	return 0;
}

static int build_route(const char *dst, const char *gw, int ifindex, struct rtnl_route **out,
		       struct cir_error *err)
{
	_cleanup_rtnl_route_ struct rtnl_route *rt = NULL;
	_cleanup_nl_addr_ struct nl_addr *d = NULL, *g = NULL;
	struct rtnl_nexthop *nh;
	int family = AF_UNSPEC, r;

	if (gw && *gw) {
		r = parse(gw, AF_UNSPEC, &g, err);
		if (r < 0)
			return r;
		family = nl_addr_get_family(g);
	}
	r = parse(dst, family, &d, err);
	if (r < 0)
		return r;
	family = nl_addr_get_family(d);
	rt = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	if (!rt || !nh) {
		if (nh)
			rtnl_route_nh_free(nh);
		return cir_err(err, ENOMEM, "out of memory");
	}
	rtnl_route_set_family(rt, family);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	rtnl_route_set_scope(rt, g ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_type(rt, RTN_UNICAST);
	r = rtnl_route_set_dst(rt, d);
	if (r < 0) {
		rtnl_route_nh_free(nh);
		return cir_nl_err(err, r, "route destination");
	}
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(rt, nh);
	*out = TAKE_PTR(rt);
	return 0;
}

int cir_route_add(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  bool exist_ok, struct cir_error *err)
{
	_cleanup_rtnl_route_ struct rtnl_route *rt = NULL;
	int r;

	r = build_route(dst, gw, ifindex, &rt, err);
	if (r < 0)
		return r;
	r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = cir_nl_errno(r);
		if (r == EEXIST && exist_ok)
			return 0;
		return cir_err(err, r, "route %s%s%s: %s", dst, gw && *gw ? " via " : "",
			       gw ? gw : "", strerror(r));
	}
	return 0;
}

int cir_route_has(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	_cleanup_rtnl_route_ struct rtnl_route *want = NULL;
	int r, found = 0;

	r = build_route(dst, gw, ifindex, &want, err);
	if (r < 0)
		return r;
	r = rtnl_route_alloc_cache(sk, rtnl_route_get_family(want), 0, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;

		struct nl_addr *d = rtnl_route_get_dst(rt), *wd = rtnl_route_get_dst(want);

		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(rt) < 1)
			continue;
		/* The kernel reports a default route with an empty destination. */
		if (nl_addr_get_prefixlen(d) != nl_addr_get_prefixlen(wd) ||
		    (nl_addr_get_prefixlen(wd) > 0 && nl_addr_cmp_prefix(d, wd) != 0))
			continue;
		nh = rtnl_route_nexthop_n(rt, 0);
		if (ifindex > 0 && rtnl_route_nh_get_ifindex(nh) != ifindex)
			continue;
		if (gw && *gw) {
			struct nl_addr *g = rtnl_route_nh_get_gateway(nh);
			struct nl_addr *wg =
				rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(want, 0));

			if (!g || nl_addr_cmp_prefix(g, wg) != 0)
				continue;
		}
		found = 1;
		break;
	}
	return found;
}

/* --------------------------------------------------------------- batch */

/* One request: header, ifaddrmsg, IFA_LOCAL and IFA_ADDRESS of 16 bytes. */
#define ADDR_REQ_MAX (NLMSG_LENGTH(sizeof(struct ifaddrmsg)) + 2 * RTA_SPACE(16))
/* Room one failure takes in the receive buffer (the kernel's skb for an
 * error without the echo; measured about 850 bytes on 6.x): every request
 * of a send may fail (EEXIST: a restore with every VIP in place), and
 * failures that do not fit are dropped with the ACK, so the whole send is
 * redone one by one. */
#define ADDR_FAIL_TRUESIZE 1024

int cir_addr_batch_new(struct nl_sock *sk, struct cir_nl_batch **out, struct cir_error *err)
{
	return cir_nl_batch_new(sk, CIR_ADDR_BATCH_BYTES, CIR_ADDR_BATCH_BYTES / 40,
				ADDR_FAIL_TRUESIZE, "address batch", out, err);
}

static void put_rta(struct nlmsghdr *nlh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int cir_addr_batch_add(struct cir_nl_batch *b, int ifindex, int af, const void *addr,
		       unsigned int prefixlen, uint32_t tag, cir_nl_batch_failed failed,
		       void *arg, struct cir_error *err)
{
	union {
		struct nlmsghdr h;
		char buf[ADDR_REQ_MAX];
	} req;
	struct ifaddrmsg *ifa;
	size_t alen = af == AF_INET6 ? 16 : 4;

	if ((af != AF_INET && af != AF_INET6) || prefixlen > alen * 8 || ifindex <= 0)
		return cir_err(err, EINVAL, "address batch: bad address");
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	req.h.nlmsg_type = RTM_NEWADDR;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = NLMSG_DATA(&req.h);
	ifa->ifa_family = (unsigned char)af;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_flags = af == AF_INET6 ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	put_rta(&req.h, IFA_LOCAL, addr, alen);
	put_rta(&req.h, IFA_ADDRESS, addr, alen);
	return cir_nl_batch_add(b, &req.h, tag, failed, arg, err);
}

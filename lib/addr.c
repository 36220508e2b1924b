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

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* One request: header, ifaddrmsg, IFA_LOCAL and IFA_ADDRESS of 16 bytes. */
#define ADDR_REQ_MAX (NLMSG_LENGTH(sizeof(struct ifaddrmsg)) + 2 * RTA_SPACE(16))
#define ADDR_BATCH_MAX_REQ (CIR_ADDR_BATCH_BYTES / 40)

struct cir_addr_batch {
	struct nl_sock *sk;
	char buf[CIR_ADDR_BATCH_BYTES];
	size_t len;
	uint32_t seq[ADDR_BATCH_MAX_REQ];
	uint32_t tag[ADDR_BATCH_MAX_REQ];
	size_t n, max;          /* queued; most per send */
	struct nlmsghdr *last;
};

/* Room one failure takes in the receive buffer (the kernel's skb for an
 * error without the echo; measured about 850 bytes on 6.x). */
#define ADDR_FAIL_TRUESIZE 1024

int cir_addr_batch_new(struct nl_sock *sk, struct cir_addr_batch **out, struct cir_error *err)
{
	struct cir_addr_batch *b = calloc(1, sizeof(*b));
	socklen_t rl = sizeof(int);
	int one = 1, rcvbuf = 0;

	if (!b)
		return cir_err(err, ENOMEM, "address batch: %s", strerror(ENOMEM));
	b->sk = sk;
	/* Failures without the request echoed (see lib/ipvs's batch). */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Every request of a send may fail (EEXIST: a restore with every VIP
	 * in place): that many failures must fit the receive buffer, or they
	 * and the ACK are dropped and the whole send is redone one by one. */
	b->max = ADDR_BATCH_MAX_REQ;
	if (getsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl) == 0 &&
	    rcvbuf / ADDR_FAIL_TRUESIZE < (int)b->max)
		b->max = rcvbuf / ADDR_FAIL_TRUESIZE > 16 ? (size_t)(rcvbuf / ADDR_FAIL_TRUESIZE) : 16;
	*out = b;
	return 0;
}

void cir_addr_batch_free(struct cir_addr_batch *b)
{
	free(b);
}

int cir_addr_batch_flush(struct cir_addr_batch *b, void (*failed)(uint32_t, int, void *),
			 void *arg, struct cir_error *err)
{
	int fd = nl_socket_get_fd(b->sk), sent;
	uint32_t want;
	bool done = false;
	static char rbuf[65536];

	if (b->n == 0)
		return 0;
	b->last->nlmsg_flags |= NLM_F_ACK;
	want = b->last->nlmsg_seq;
	if (send(fd, b->buf, b->len, 0) < 0) {
		int e = errno;

		b->len = b->n = 0;
		return cir_err(err, e, "address batch: send: %s", strerror(e));
	}
	/* The kernel handles a netlink send synchronously: when send()
	 * returns, every answer is queued, or was dropped by an overrun
	 * (ENOBUFS; the ACK itself may be among them).  So read without
	 * waiting: an empty queue before the ACK means it was lost. */
	while (!done) {
		ssize_t got = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		struct nlmsghdr *nlh = (struct nlmsghdr *)rbuf;
		size_t left;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			failed(UINT32_MAX, ENOBUFS, arg);
			break;
		}
		if (got < 0 && errno == ENOBUFS) {
			failed(UINT32_MAX, ENOBUFS, arg);
			continue;
		}
		if (got < 0) {
			int e = errno;

			b->len = b->n = 0;
			return cir_err(err, e, "address batch: receive: %s", strerror(e));
		}
		left = (size_t)got;
		for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(e->error)))
				continue;
			if (e->error) {
				for (size_t i = 0; i < b->n; i++)
					if (b->seq[i] == nlh->nlmsg_seq) {
						failed(b->tag[i], -e->error, arg);
						break;
					}
			}
			if (nlh->nlmsg_seq == want)
				done = true;
		}
	}
	sent = (int)b->n;
	b->len = b->n = 0;
	b->last = NULL;
	return sent;
}

static void put_rta(struct nlmsghdr *nlh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int cir_addr_batch_add(struct cir_addr_batch *b, int ifindex, int af, const void *addr,
		       unsigned int prefixlen, uint32_t tag,
		       void (*failed)(uint32_t, int, void *), void *arg, struct cir_error *err)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen = af == AF_INET6 ? 16 : 4;
	int sent = 0;

	if ((af != AF_INET && af != AF_INET6) || prefixlen > alen * 8 || ifindex <= 0)
		return cir_err(err, EINVAL, "address batch: bad address");
	if (b->len + ADDR_REQ_MAX > sizeof(b->buf) || b->n >= b->max) {
		sent = cir_addr_batch_flush(b, failed, arg, err);
		if (sent < 0)
			return sent;
	}
	nlh = (struct nlmsghdr *)(b->buf + b->len);
	memset(nlh, 0, ADDR_REQ_MAX);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_pid = nl_socket_get_local_port(b->sk);
	nlh->nlmsg_seq = nl_socket_use_seq(b->sk);
	ifa = NLMSG_DATA(nlh);
	ifa->ifa_family = (unsigned char)af;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_flags = af == AF_INET6 ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	put_rta(nlh, IFA_LOCAL, addr, alen);
	put_rta(nlh, IFA_ADDRESS, addr, alen);
	b->last = nlh;
	b->seq[b->n] = nlh->nlmsg_seq;
	b->tag[b->n++] = tag;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return sent;
}

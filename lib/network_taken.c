// SPDX-License-Identifier: Apache-2.0
/*
 * network_taken.c - what a new subnet must not overlap: the subnets of the
 * other networks, the host's addresses and the routes of its main table
 * (default routes aside), read once into a set the callers test against.
 */
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "cleanup.h"
#include "network.h"
#include "nl.h"

/* ---- what a new subnet must not overlap ---- */

static int taken_add(struct cir_net_taken_set *t, const struct cir_cidr *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int taken_add(struct cir_net_taken_set *t, const struct cir_cidr *c, const char *fmt, ...)
{
	va_list ap;

	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 32;
		void *p = reallocarray(t->v, nc, sizeof(*t->v));

		if (!p)
			return -ENOMEM;
		t->v = p;
		t->cap = nc;
	}
	t->v[t->n].c = *c;
	va_start(ap, fmt);
	vsnprintf(t->v[t->n].what, sizeof(t->v[t->n].what), fmt, ap);
	va_end(ap);
	t->n++;
	return 0;
}

void cir_net_taken_free(struct cir_net_taken_set *t)
{
	free(t->v);
	*t = (struct cir_net_taken_set){ 0 };
}

struct taken_scan {
	struct cir_netdb *db;
	const char *self;
	struct cir_net_taken_set *t;
};

static int taken_network(const char *name, void *arg)
{
	struct taken_scan *s = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cidr other;
	int r = 0;

	if (s->self && strcmp(name, s->self) == 0)
		return 0;
	if (cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;
	for (unsigned int i = 0; r >= 0 && i < n.conf.n_subnets; i++)
		if (cir_cidr_parse(n.conf.subnets[i], 0, &other, &e) == 0)
			r = taken_add(s->t, &other, "network %s (%s)", name, n.conf.subnets[i]);
	cir_network_close(&n);
	return r;
}

/* An IPv4 or IPv6 address of family af as *c with prefix: false for any
 * other kind. */
static bool cidr_of(int af, struct nl_addr *a, unsigned int prefix, struct cir_cidr *c)
{
	size_t len = nl_addr_get_len(a);

	if ((af != AF_INET || len != 4) && (af != AF_INET6 || len != 16))
		return false;
	*c = (struct cir_cidr){ 0 };
	c->ip.af = af;
	memcpy(c->ip.addr, nl_addr_get_binary_addr(a), len);
	c->prefix = prefix;
	return true;
}

static int taken_addresses(struct nl_sock *sk, struct cir_net_taken_set *t, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r;

	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		struct cir_cidr c;
		char ifn[IF_NAMESIZE] = "?", ab[CIR_CIDR_STRLEN];

		if (!local || !cidr_of(rtnl_addr_get_family(a), local,
				       (unsigned int)rtnl_addr_get_prefixlen(a), &c))
			continue;
		if_indextoname(rtnl_addr_get_ifindex(a), ifn);
		if (taken_add(t, &c, "address %s on %s", cir_cidr_format(&c, ab, sizeof(ab)), ifn) < 0)
			return cir_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Routes of the main table more specific than a default route: a subnet
 * there would take over traffic the host sends elsewhere (a VPN, a
 * routed lab network). */
static int taken_routes(struct nl_sock *sk, struct cir_net_taken_set *t, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r;

	r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		struct cir_cidr c;
		char ifn[IF_NAMESIZE] = "?", db[CIR_CIDR_STRLEN];

		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || !dst ||
		    nl_addr_get_prefixlen(dst) == 0 || rtnl_route_get_type(rt) != RTN_UNICAST ||
		    !cidr_of(rtnl_route_get_family(rt), dst, nl_addr_get_prefixlen(dst), &c))
			continue;
		if (rtnl_route_get_nnexthops(rt) > 0)
			if_indextoname(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0)), ifn);
		if (taken_add(t, &c, "route %s on %s", cir_cidr_format(&c, db, sizeof(db)), ifn) < 0)
			return cir_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

int cir_net_taken(struct cir_netdb *db, const char *self, struct cir_net_taken_set *t,
		  struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct taken_scan s = { db, self, t };
	int r;

	*t = (struct cir_net_taken_set){ 0 };
	r = cir_netdb_list(db, taken_network, &s, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = taken_addresses(sk, t, err);
	if (r >= 0)
		r = taken_routes(sk, t, err);
	if (r < 0)
		cir_net_taken_free(t);
	return r;
}

const struct cir_net_taken *cir_net_taken_find(const struct cir_net_taken_set *t,
					       const struct cir_cidr *sn)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].c.ip.af == sn->ip.af && cir_cidr_overlap(&t->v[i].c, sn))
			return &t->v[i];
	return NULL;
}

int cir_net_overlaps(struct cir_netdb *db, const char *subnet, const char *self,
		     struct cir_error *err)
{
	struct cir_net_taken_set t;
	const struct cir_net_taken *hit;
	char buf[CIR_CIDR_STRLEN];
	struct cir_cidr sn;
	int r;

	r = cir_cidr_parse(subnet, 0, &sn, err);
	if (r < 0)
		return r;
	cir_cidr_network(&sn, &sn.ip);
	r = cir_net_taken(db, self, &t, err);
	if (r < 0)
		return r;
	hit = cir_net_taken_find(&t, &sn);
	if (hit)
		cir_err(err, EEXIST, "subnet %s overlaps %s", cir_cidr_format(&sn, buf, sizeof(buf)),
			hit->what);
	cir_net_taken_free(&t);
	return hit ? 1 : 0;
}

/* ---- kernel objects of a managed network ---- */

/* Candidates a pool search may test: a /16 pool holds 256 /24s; a /8,
 * 65,536.  Each test is an in-memory comparison against one snapshot. */
#define POOL_MAX_CANDIDATES 65536

/* The store and the kernel are read once (cir_net_taken: the same reads as
 * one create), so the lock is never held across per-candidate reads, and
 * the walk is bounded. */
int cir_net_pool_pick(struct cir_netdb *db, const char *pool, unsigned int size,
		      char *out, size_t len, struct cir_error *err)
{
	struct cir_net_taken_set t;
	struct cir_cidr p, cand;
	const char *kind;
	unsigned int prefix;
	uint64_t count;
	int r;

	if (cir_cidr_parse(pool, CIR_CIDR_NETWORK, &p, err) < 0)
		return cir_err_wrap(err, "subnet pool");
	if (p.ip.af != AF_INET)
		return cir_err(err, EINVAL, "subnet pool %s: only IPv4 pools are supported", pool);
	kind = cir_cidr_special(&p);
	if (kind)
		return cir_err(err, EPERM, "subnet pool %s is in a %s range: a hook takes subnets "
			       "from private-use ranges only", pool, kind);
	if (!cir_cidr_private(&p))
		return cir_err(err, EPERM, "subnet pool %s is not a private-use range: a hook takes "
			       "subnets from private-use ranges only", pool);
	prefix = p.prefix > size ? p.prefix : size;
	if (prefix > 30)
		return cir_err(err, EINVAL, "subnet pool %s is too small", pool);
	count = 1ULL << (prefix - p.prefix);
	if (count > POOL_MAX_CANDIDATES)
		count = POOL_MAX_CANDIDATES;
	r = cir_net_taken(db, NULL, &t, err);
	if (r < 0)
		return r;
	cand = p;
	cand.prefix = prefix;
	for (uint64_t i = 0; i < count; i++) {
		if (i > 0 && cir_ip_add(&cand.ip, 1LL << (32 - prefix), &cand.ip) < 0)
			break;
		if (!cir_net_taken_find(&t, &cand)) {
			cir_net_taken_free(&t);
			cir_cidr_format(&cand, out, len);
			return 0;
		}
	}
	cir_net_taken_free(&t);
	return cir_err_code(err, CIR_CNI_POOL_EXHAUSTED, ENOSPC,
			    "no free /%u left in subnet pool %s", prefix, pool);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * ipam_range.c - the allocator's pure part: range sets checked and made
 * canonical, and the round-robin walk over their candidates (no store, no
 * I/O; lib/ipam.c allocates with them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ipam.h"

int cir_ipam_range_canon(struct cir_ipam_range *r, struct cir_error *err)
{
	char sub[CIR_CIDR_STRLEN], a[CIR_IP_STRLEN], b[CIR_IP_STRLEN];
	unsigned int bits = cir_ip_bits(r->subnet.ip.af);
	struct cir_ip net, first, last;
	struct {
		const char *name;
		struct cir_ip *ip;
	} fields[] = {
		{ "rangeStart", &r->start },
		{ "rangeEnd", &r->end },
		{ "gateway", &r->gateway },
	};

	if (!bits)
		return cir_err(err, EINVAL, "range: missing subnet");
	cir_cidr_format(&r->subnet, sub, sizeof(sub));
	cir_cidr_network(&r->subnet, &net);
	if (!cir_ip_eq(&net, &r->subnet.ip))
		return cir_err(err, EINVAL, "subnet %s: not a network address", sub);
	if (r->subnet.prefix > bits - 2)
		return cir_err(err, EINVAL, "subnet %s: /%u leaves no room for hosts (at most /%u)",
			       sub, r->subnet.prefix, bits - 2);
	if (cir_cidr_first_host(&r->subnet, &first) < 0 ||
	    cir_cidr_last_host(&r->subnet, &last) < 0)
		return cir_err(err, EINVAL, "subnet %s: no usable host", sub);

	if (!r->start.af)
		r->start = first;
	if (!r->end.af)
		r->end = last;
	if (!r->gateway.af)
		r->gateway = first;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct cir_ip *ip = fields[i].ip;

		cir_ip_format(ip, a, sizeof(a));
		if (ip->af != r->subnet.ip.af)
			return cir_err(err, EINVAL, "subnet %s: %s %s is of another address family",
				       sub, fields[i].name, a);
		if (!cir_cidr_contains(&r->subnet, ip))
			return cir_err(err, EINVAL, "subnet %s: %s %s is outside the subnet",
				       sub, fields[i].name, a);
		if (cir_ip_cmp(ip, &first) < 0 || cir_ip_cmp(ip, &last) > 0)
			return cir_err(err, EINVAL, "subnet %s: %s %s is not a host address",
				       sub, fields[i].name, a);
	}
	if (cir_ip_cmp(&r->start, &r->end) > 0)
		return cir_err(err, EINVAL, "subnet %s: rangeStart %s is after rangeEnd %s", sub,
			       cir_ip_format(&r->start, a, sizeof(a)),
			       cir_ip_format(&r->end, b, sizeof(b)));
	return 0;
}

int cir_ipam_config_check(struct cir_ipam_config *cfg, struct cir_error *err)
{
	char a[CIR_IP_STRLEN], b[CIR_IP_STRLEN], c[CIR_IP_STRLEN], d[CIR_IP_STRLEN];
	int r;

	if (cfg->n == 0)
		return cir_err(err, EINVAL, "ipam: no subnet or ranges");
	if (cfg->n > CIR_IPAM_MAX_SETS)
		return cir_err(err, EINVAL, "ipam: more than %d range sets", CIR_IPAM_MAX_SETS);
	for (size_t s = 0; s < cfg->n; s++) {
		struct cir_ipam_rangeset *set = &cfg->sets[s];

		if (set->n == 0)
			return cir_err(err, EINVAL, "ipam: range set %zu is empty", s);
		if (set->n > CIR_IPAM_MAX_RANGES)
			return cir_err(err, EINVAL, "ipam: range set %zu has more than %d ranges", s,
				       CIR_IPAM_MAX_RANGES);
		for (size_t i = 0; i < set->n; i++) {
			r = cir_ipam_range_canon(&set->r[i], err);
			if (r < 0)
				return cir_err_wrap(err, "ipam");
			if (set->r[i].subnet.ip.af != set->r[0].subnet.ip.af)
				return cir_err(err, EINVAL, "ipam: range set %zu mixes address families", s);
		}
	}
	/* No address may belong to two ranges, across all sets. */
	for (size_t s = 0; s < cfg->n; s++)
		for (size_t i = 0; i < cfg->sets[s].n; i++)
			for (size_t t = s; t < cfg->n; t++)
				for (size_t j = (t == s ? i + 1 : 0); j < cfg->sets[t].n; j++) {
					const struct cir_ipam_range *x = &cfg->sets[s].r[i];
					const struct cir_ipam_range *y = &cfg->sets[t].r[j];

					if (x->start.af != y->start.af ||
					    cir_ip_cmp(&x->start, &y->end) > 0 ||
					    cir_ip_cmp(&y->start, &x->end) > 0)
						continue;
					return cir_err(err, EINVAL, "ipam: range %s-%s overlaps range %s-%s",
						       cir_ip_format(&x->start, a, sizeof(a)),
						       cir_ip_format(&x->end, b, sizeof(b)),
						       cir_ip_format(&y->start, c, sizeof(c)),
						       cir_ip_format(&y->end, d, sizeof(d)));
				}
	return 0;
}

void cir_ipam_config_from_subnet(struct cir_ipam_config *cfg, const struct cir_cidr *subnet)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n = 1;
	cfg->sets[0].n = 1;
	cfg->sets[0].r[0].subnet = *subnet;
}

int cir_ipam_set_find(const struct cir_ipam_rangeset *set, const struct cir_ip *ip)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct cir_ipam_range *r = &set->r[i];

		if (ip->af == r->start.af && cir_ip_cmp(ip, &r->start) >= 0 &&
		    cir_ip_cmp(ip, &r->end) <= 0)
			return (int)i;
	}
	return -1;
}

static void iter_advance(struct cir_ipam_iter *it)
{
	const struct cir_ipam_range *r = &it->set->r[it->ri];

	if (cir_ip_cmp(&it->cur, &r->end) >= 0 || cir_ip_next(&it->cur, &it->cur) < 0) {
		it->ri = (it->ri + 1) % it->set->n;
		it->cur = it->set->r[it->ri].start;
	}
}

void cir_ipam_iter_init(struct cir_ipam_iter *it, const struct cir_ipam_rangeset *set,
			const struct cir_ip *last)
{
	int ri = (last && last->af) ? cir_ipam_set_find(set, last) : -1;

	memset(it, 0, sizeof(*it));
	it->set = set;
	if (set->n == 0) {
		it->done = true;
		return;
	}
	if (ri < 0) {
		it->ri = 0;
		it->cur = set->r[0].start;
	} else {
		it->ri = (size_t)ri;
		it->cur = *last;
		iter_advance(it);
	}
	it->first_ri = it->ri;
	it->first = it->cur;
}

static bool skipped(const struct cir_ipam_range *r, const struct cir_ip *ip)
{
	struct cir_ip edge;

	if (cir_ip_eq(ip, &r->gateway))
		return true;
	cir_cidr_network(&r->subnet, &edge);
	if (cir_ip_eq(ip, &edge))
		return true;
	cir_cidr_broadcast(&r->subnet, &edge);
	return ip->af == AF_INET && cir_ip_eq(ip, &edge);
}

bool cir_ipam_iter_next(struct cir_ipam_iter *it, struct cir_ip *out)
{
	while (!it->done) {
		struct cir_ip c = it->cur;
		size_t ri = it->ri;

		iter_advance(it);
		if (it->ri == it->first_ri && cir_ip_eq(&it->cur, &it->first))
			it->done = true;
		if (skipped(&it->set->r[ri], &c))
			continue;
		*out = c;
		return true;
	}
	return false;
}

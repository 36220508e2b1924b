// SPDX-License-Identifier: Apache-2.0
/*
 * lb_kernel.c - what makes traffic reach a VIP (dummy device, VIP
 * addresses, conntrack and forwarding sysctls, hairpin masquerade) and the
 * reconciliation of one service with the kernel's IPVS table (cir_lb_sync).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "addr.h"
#include "lb_int.h"
#include "link.h"
#include "nft.h"
#include "nl.h"
#include "sysctl.h"

/* ------------------------------------------------------------ kernel */

/* The dummy device carrying the VIPs: made (up) when missing. */
int cir_lb_device_ensure(struct cir_lb_db *db, int *ifindex, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct cir_link_info info;
	struct nl_sock *sk;
	int r;

	if (db->dev_ifindex) {
		*ifindex = db->dev_ifindex;
		return 0;
	}
	r = cir_lb_db_route(db, &sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	if (r == -ENODEV) {
		l = rtnl_link_alloc();
		if (!l)
			return cir_err(err, ENOMEM, "out of memory");
		rtnl_link_set_name(l, CIR_LB_DEVICE);
		r = rtnl_link_set_type(l, "dummy");
		if (r < 0)
			return cir_nl_err(err, r, "device " CIR_LB_DEVICE ": dummy type");
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && (cir_nl_errno(r) == EOPNOTSUPP || cir_nl_errno(r) == ENOENT)) {
			/* A kernel without the dummy driver: the VIPs go on lo,
			 * where any local address is taken (spec/lb.md). */
			r = cir_link_get(sk, "lo", &info, err);
			if (r < 0)
				return cir_err_wrap(err, "device lo (no dummy driver for %s)",
						    CIR_LB_DEVICE);
			*ifindex = db->dev_ifindex = info.ifindex;
			return 0;
		}
		if (r < 0 && cir_nl_errno(r) != EEXIST) {
			r = cir_nl_err(err, r, "create dummy device");
			if (r == -EOPNOTSUPP || r == -ENOENT)
				cir_err_wrap(err, "device %s (kernel without the dummy module?)",
					     CIR_LB_DEVICE);
			else
				cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
			return r;
		}
		r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	}
	if (r < 0)
		return cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
	if (strcmp(info.kind, "dummy") != 0)
		return cir_err(err, EEXIST, "device %s: a %s link with that name exists",
			       CIR_LB_DEVICE, info.kind[0] ? info.kind : "non-dummy");
	if (!info.up) {
		r = cir_link_set_up(sk, info.ifindex, true, err);
		if (r < 0)
			return cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
	}
	*ifindex = db->dev_ifindex = info.ifindex;
	return 0;
}

void cir_lb_vip_cidr(const struct cir_ip *ip, char *buf, size_t len)
{
	char s[CIR_IP_STRLEN];

	snprintf(buf, len, "%s/%u", cir_ip_format(ip, s, sizeof(s)), cir_ip_bits(ip->af));
}

/* The VIP as a host address on the device (one request, no listing);
 * returns 1 when added, 0 when it was there. */
int cir_lb_vip_ensure(struct cir_lb_db *db, int ifindex, const struct cir_ip *ip,
		      struct cir_error *err)
{
	char cidr[CIR_CIDR_STRLEN];
	int r;

	cir_lb_vip_cidr(ip, cidr, sizeof(cidr));
	r = cir_addr_add(db->rt, ifindex, cidr, false, err);
	if (r == -EEXIST) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? cir_err_wrap(err, "device %s", CIR_LB_DEVICE) : 1;
}

/* What a NAT'd VIP needs beyond IPVS: conntrack for IPVS flows (hairpin
 * masquerade and reply routing) and forwarding (replies to remote clients
 * are forwarded, then de-NAT'd by IPVS).  Returns the number of changes. */
int cir_lb_sysctls_ensure(struct cir_error *err)
{
	int r, n = 0;

	r = cir_sysctl_ensure("net/ipv4/vs/conntrack", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.conntrack");
	n += r;
	/* A target taken out (weight 0 by a failed check, or removed): its
	 * persistence templates expire instead of pinning clients to it, and
	 * packets of connections to a removed dest end them at once. */
	r = cir_sysctl_ensure("net/ipv4/vs/expire_quiescent_template", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.expire_quiescent_template");
	n += r;
	r = cir_sysctl_ensure("net/ipv4/vs/expire_nodest_conn", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.expire_nodest_conn");
	n += r;
	r = cir_sysctl_ip_forward_enable(err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.ip_forward");
	return n + r;
}

/* Everything a VIP needs on this host.  Returns the number of changes. */
int cir_lb_vip_setup(struct cir_lb_db *db, const struct cir_ip *ip, bool with_sysctls,
		     struct cir_error *err)
{
	int ifindex = 0, r, n;

	r = cir_lb_device_ensure(db, &ifindex, err);
	if (r < 0)
		return r;
	n = cir_lb_vip_ensure(db, ifindex, ip, err);
	if (n < 0 || db->sysctls_done || !with_sysctls)
		return n;
	r = cir_lb_sysctls_ensure(err);
	if (r < 0)
		return r;
	db->sysctls_done = true;
	return n + r;
}

/* The bridge whose subnet holds ip, into out ("" when none): the kernel's
 * route to ip, when it is on-link (no gateway) through a bridge.  One
 * lookup, not a dump of the host's addresses (which holds every VIP). */
int cir_lb_bridge_of(struct cir_lb_db *db, const struct cir_ip *ip, char out[CIR_IFNAMSIZ],
		     struct cir_error *err)
{
	_cleanup_nl_addr_ struct nl_addr *dst = NULL;
	_cleanup_rtnl_route_ struct rtnl_route *rt = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct rtnl_nexthop *nh;
	struct nl_sock *sk;
	const char *kind;
	int r, ifindex;

	out[0] = '\0';
	r = cir_lb_db_route(db, &sk, err);
	if (r < 0)
		return r;
	dst = nl_addr_build(ip->af, ip->addr, ip->af == AF_INET6 ? 16 : 4);
	if (!dst)
		return cir_err(err, ENOMEM, "out of memory");
	r = rtnl_route_lookup(sk, dst, &rt);
	if (r < 0)
		return 0;       /* no route: behind no bridge */
	if (rtnl_route_get_type(rt) != RTN_UNICAST || rtnl_route_get_nnexthops(rt) != 1)
		return 0;
	nh = rtnl_route_nexthop_n(rt, 0);
	if (!nh || rtnl_route_nh_get_gateway(nh))
		return 0;
	ifindex = rtnl_route_nh_get_ifindex(nh);
	if (ifindex <= 0)
		return 0;
	r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (r < 0)
		return cir_nl_err(err, r, "get link");
	kind = rtnl_link_get_type(l);
	if (kind && strcmp(kind, "bridge") == 0)
		snprintf(out, CIR_IFNAMSIZ, "%s", rtnl_link_get_name(l));
	return 0;
}

int cir_lb_hairpin_ensure(const struct cir_lb_target *t, struct cir_error *err)
{
	int r;

	if (!t->bridge[0] || t->method != CIR_IPVS_FWD_MASQ)
		return 0;
	r = cir_nft_hairpin_exists(t->bridge, err);
	if (r != 0)
		return r < 0 ? cir_err_wrap(err, "hairpin %s", t->bridge) : 0;
	r = cir_nft_hairpin_add(t->bridge, err);
	return r < 0 ? cir_err_wrap(err, "hairpin %s", t->bridge) : 1;
}

/* The service flags a record decides (the kernel may report others). */
#define SVC_FLAGS (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2)

/* A scheduler the kernel lacks (-ENOENT from IPVS): say which module. */
static int sched_missing(const struct cir_lb_service *s, struct cir_error *err)
{
	char up[IP_VS_SCHEDNAME_MAXLEN];
	size_t i;

	for (i = 0; s->sched[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(s->sched[i] >= 'a' && s->sched[i] <= 'z' ? s->sched[i] - 32
									: s->sched[i]);
	up[i] = '\0';
	return cir_err(err, ENOENT, "scheduler %s not available in this kernel (load module "
		       "ip_vs_%s, CONFIG_IP_VS_%s)", s->sched, s->sched, up);
}

int cir_lb_sync(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		struct cir_error *err)
{
	return cir_lb_sync_known(db, s, have_service, NULL, err);
}

/* The service itself: edited when its scheduler, flags or timeout differ,
 * made when absent.  *have_service: whether the kernel has it (< 0: not
 * known yet, asked of the kernel, or read from known when given); set to
 * what was found.  Returns the changes. */
static int sync_service(struct cir_ipvs *h, const struct cir_lb_service *s,
			const struct cir_ipvs_service *want, int *have_service,
			const struct cir_ipvs_service *known, struct cir_error *err)
{
	struct cir_ipvs_service got;
	int r, changes = 0;

	if (*have_service < 0) {
		if (known) {
			got = *known;
			r = 0;
		} else {
			r = cir_ipvs_service_get(h, want, &got, err);
		}
		if (r < 0 && r != -ENOENT)
			return r;
		*have_service = r == 0;
		if (*have_service && (strcmp(got.sched, want->sched) != 0 ||
				      (got.flags & SVC_FLAGS) != want->flags ||
				      (want->flags && got.timeout != want->timeout))) {
			r = cir_ipvs_service_edit(h, want, err);
			if (r == -ENOENT)
				return sched_missing(s, err);
			if (r < 0)
				return r;
			changes++;
		}
	}
	if (*have_service)
		return changes;
	r = cir_ipvs_service_add(h, want, err);
	if (r == -ENOENT)
		return sched_missing(s, err);
	return r < 0 ? r : changes + 1;
}

/* Every target of s the kernel should have, added or edited against its
 * dests cur[ncur].  Returns the changes. */
static int sync_dests_add(struct cir_ipvs *h, const struct cir_lb_service *s,
			  const struct cir_ipvs_service *want, const struct cir_ipvs_dest *cur,
			  size_t ncur, struct cir_error *err)
{
	int r, changes = 0;

	for (size_t i = 0; i < s->n_targets; i++) {
		struct cir_ipvs_dest d;
		size_t k;

		if (!cir_lb_target_in_kernel(s, &s->targets[i]))
			continue;
		cir_lb_target_to_ipvs(&s->targets[i], &d);
		for (k = 0; k < ncur; k++)
			if (cir_ipvs_dest_key_eq(&cur[k], &d, want->af))
				break;
		if (k < ncur && cir_lb_dest_same(&cur[k], &d))
			continue;
		r = k < ncur ? cir_ipvs_dest_edit(h, want, &d, err)
			     : cir_ipvs_dest_add(h, want, &d, err);
		if (r == -EEXIST)
			r = cir_ipvs_dest_edit(h, want, &d, err);
		if (r < 0)
			return r;
		changes++;
	}
	return changes;
}

/* Every dest of cur[ncur] that s no longer keeps in the kernel, deleted.
 * Returns the changes. */
static int sync_dests_prune(struct cir_ipvs *h, const struct cir_lb_service *s,
			    const struct cir_ipvs_service *want, const struct cir_ipvs_dest *cur,
			    size_t ncur, struct cir_error *err)
{
	int r, changes = 0;

	for (size_t k = 0; k < ncur; k++) {
		struct cir_lb_target t = { 0 };
		int j;

		t.addr.ip.af = cur[k].af ? cur[k].af : want->af;
		memcpy(t.addr.ip.addr, &cur[k].addr, t.addr.ip.af == AF_INET6 ? 16 : 4);
		t.addr.port = cur[k].port;
		j = cir_lb_target_find(s, &t.addr);
		if (j >= 0 && cir_lb_target_in_kernel(s, &s->targets[j]))
			continue;
		r = cir_ipvs_dest_del(h, want, &cur[k], err);
		if (r < 0 && r != -ENOENT)
			return r;
		changes++;
	}
	return changes;
}

/* cir_lb_sync, with the kernel's copy of the service (known, from a dump
 * of all services: restore) instead of a service get when given. */
int cir_lb_sync_known(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		      const struct cir_ipvs_service *known, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service want;
	struct cir_ipvs *h;
	size_t ncur = 0;
	int r, changes;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &want);
	r = sync_service(h, s, &want, &have_service, known, err);
	if (r < 0)
		return r;
	changes = r;
	if (have_service) {
		/* cur stays empty for a service just made. */
		r = cir_ipvs_dest_dump(h, &want, &cur, &ncur, err);
		if (r < 0)
			return r;
	}
	r = sync_dests_add(h, s, &want, cur, ncur, err);
	if (r < 0)
		return r;
	changes += r;
	r = sync_dests_prune(h, s, &want, cur, ncur, err);
	return r < 0 ? r : changes + r;
}

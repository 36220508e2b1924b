// SPDX-License-Identifier: Apache-2.0
/*
 * lb_cluster_snat.c - this host's source address on the cluster networks
 * that targets of cluster services sit on (lib/lb_cluster.h,
 * spec/cluster.md "Cluster services").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cleanup.h"
#include "cluster_alloc.h"
#include "etcd.h"
#include "ipam.h"
#include "lb_cluster_int.h"
#include "lb_int.h"
#include "lbbackend.h"
#include "link.h"
#include "netconf.h"
#include "nft.h"
#include "overlay.h"

/* ---- this host's source address on the cluster networks ----
 *
 * IPVS NATs a connection to a target; the target answers the connection's
 * source.  On a cluster network that source must be this host's own: the
 * bridge's address is the anycast gateway (spec/cluster.md), which a
 * target on another host would find on its own host.  So for every
 * cluster network that a NAT'd target of a cluster service sits on, the
 * agent takes one address of the network for the host (from its blocks,
 * like a container's: IPAM id CIR_LB_SNAT_ID), puts it on the bridge as a
 * /32 (/128), and has connections to the cluster services' VIPs that leave
 * through the bridge leave with it (cir_nft_lbsnat_set).  When no such
 * target is left, the address and the rule go. */

#define CIR_LB_SNAT_ID "circuit-services"
#define CIR_LB_SNAT_IF "lb"

struct snat_want {
	char bridge[CIR_IFNAMSIZ];
	struct cir_ip *vips;
	size_t n;
};

struct snat_scan {
	struct snat_want w[SNAT_BRIDGES_MAX];
	size_t n;
	bool nomem;
};

static int snat_collect(const struct cir_lb_service *svc, void *arg)
{
	struct snat_scan *sc = arg;

	if (!svc->cluster || svc->backend != CIR_LB_BACKEND_IPVS)
		return 0;
	for (size_t i = 0; i < svc->n_targets; i++) {
		const struct cir_lb_target *t = &svc->targets[i];
		struct snat_want *w = NULL;
		bool have = false;
		void *p;

		if (t->method != CIR_IPVS_FWD_MASQ || !t->bridge[0])
			continue;
		for (size_t k = 0; k < sc->n && !w; k++)
			if (strcmp(sc->w[k].bridge, t->bridge) == 0)
				w = &sc->w[k];
		if (!w && sc->n == SNAT_BRIDGES_MAX)
			continue;
		if (!w) {
			w = &sc->w[sc->n++];
			snprintf(w->bridge, sizeof(w->bridge), "%s", t->bridge);
		}
		for (size_t k = 0; k < w->n && !have; k++)
			have = cir_ip_eq(&w->vips[k], &svc->vip.ip);
		if (have)
			continue;
		p = realloc(w->vips, (w->n + 1) * sizeof(*w->vips));
		if (!p) {
			sc->nomem = true;
			return -ENOMEM;
		}
		w->vips = p;
		w->vips[w->n++] = svc->vip.ip;
	}
	return 0;
}

static struct snat_want *snat_wanted(struct snat_scan *sc, const char *bridge)
{
	for (size_t k = 0; k < sc->n; k++)
		if (strcmp(sc->w[k].bridge, bridge) == 0)
			return &sc->w[k];
	return NULL;
}

/* The slot of bridge in s->snat (or a free one), SNAT_BRIDGES_MAX when full. */
static size_t snat_slot(struct cir_lb_cluster_sync *s, const char *bridge)
{
	size_t free_slot = SNAT_BRIDGES_MAX;

	for (size_t i = 0; i < SNAT_BRIDGES_MAX; i++) {
		if (strcmp(s->snat[i].bridge, bridge) == 0)
			return i;
		if (!s->snat[i].bridge[0] && free_slot == SNAT_BRIDGES_MAX)
			free_slot = i;
	}
	return free_slot;
}

/* This host's address on network nc (taken now when it has none). */
static int snat_address(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
			struct cir_ip *out, bool *taken, struct cir_error *err)
{
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result res;
	struct cir_ipam_range rg = { 0 };
	int r;

	*taken = false;
	r = cir_ipam_open(&h, &s->db->st, nc->name, err);
	if (r < 0)
		return r;
	r = cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = cir_cidr_parse_subnet(nc->subnet, &rg.subnet, err);
		if (r >= 0 && nc->gateway[0])
			r = cir_ip_parse(nc->gateway, &rg.gateway, err);
		if (r >= 0)
			r = cir_ipam_range_canon(&rg, err);
		if (r >= 0)
			r = cir_cluster_alloc(&h, &rg, nc->block_size, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF,
					      NULL, 0, &res, err);
		*taken = r >= 0;
	}
	if (r < 0)
		return r;
	*out = res.ips[0].addr.ip;
	return 0;
}

/* The address as a host address on the bridge: "A/32" or "A/128". */
static void host_cidr(const struct cir_ip *ip, char *buf, size_t len)
{
	char a[CIR_IP_STRLEN];

	snprintf(buf, len, "%s/%d", cir_ip_format(ip, a, sizeof(a)), ip->af == AF_INET6 ? 128 : 32);
}

/* The text that tells whether the bridge's SNAT rule changed: this
 * host's cidr, then every VIP of w; NULL when out of memory. */
static char *snat_rule_text(const char *cidr, const struct snat_want *w)
{
	char a[CIR_IP_STRLEN];
	char *rule = strdup(cidr);

	for (size_t i = 0; rule && i < w->n; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s %s", rule, cir_ip_format(&w->vips[i], a, sizeof(a))) < 0)
			p = NULL;
		free(rule);
		rule = p;
	}
	return rule;
}

/* The SNAT rule of network nc's bridge: w's VIPs from this host's addr. */
static int snat_rule_set(const struct cir_netconf *nc, const struct snat_want *w,
			 const struct cir_ip *addr, struct cir_error *err)
{
	char vx[16];
	struct cir_nft_lbmac mac = { .vxlan = vx };

	cir_overlay_name(nc->name, vx);
	cir_cluster_net_mac(nc->name, mac.gateway);
	/* Its own MAC: locally administered, unique as the address. */
	mac.host[0] = 0x02;
	mac.host[1] = 0xc3;
	memcpy(mac.host + 2, addr->addr, 4);
	return cir_nft_lbsnat_set(w->bridge, addr, w->vips, w->n, &mac, err);
}

static int snat_apply(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
		      const struct snat_want *w, struct cir_error *err)
{
	struct cir_link_info info;
	struct nl_sock *sk;
	struct cir_ip addr;
	char cidr[CIR_CIDR_STRLEN], a[CIR_IP_STRLEN];
	_cleanup_free_ char *rule = NULL;
	bool taken;
	size_t slot;
	int r;

	if (strchr(nc->subnet, ':'))
		return cir_err(err, EOPNOTSUPP, "IPv6: cluster services reach targets on this host "
			       "only (not done: the host's own address over the overlay)");
	r = snat_address(s, nc, &addr, &taken, err);
	if (r < 0)
		return cir_err_wrap(err, "this host's address on network %s", nc->name);
	host_cidr(&addr, cidr, sizeof(cidr));
	r = cir_lb_db_route(s->db, &sk, err);
	if (r >= 0)
		r = cir_link_get(sk, w->bridge, &info, err);
	if (r >= 0)
		r = cir_addr_add(sk, info.ifindex, cidr, true, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge %s: address %s", w->bridge, cidr);
	rule = snat_rule_text(cidr, w);
	if (!rule)
		return cir_err(err, ENOMEM, "out of memory");
	slot = snat_slot(s, w->bridge);
	if (slot < SNAT_BRIDGES_MAX && s->snat[slot].rule && strcmp(s->snat[slot].rule, rule) == 0)
		return 0;
	r = snat_rule_set(nc, w, &addr, err);
	if (r < 0)
		return r;
	if (slot < SNAT_BRIDGES_MAX) {
		snprintf(s->snat[slot].bridge, sizeof(s->snat[slot].bridge), "%s", w->bridge);
		free(s->snat[slot].rule);
		s->snat[slot].rule = TAKE_PTR(rule);
	}
	if (taken)
		cir_lbc_say(s, false, "cluster: network %s: this host's address for cluster "
			    "services is %s (the source of their connections to targets)",
			    nc->name, cir_ip_format(&addr, a, sizeof(a)));
	return 1;
}

/* No cluster service needs network nc here (any more): its address and
 * rule go. */
static int snat_remove(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
		       struct cir_error *err)
{
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result res;
	struct cir_link_info info;
	struct nl_sock *sk;
	char cidr[CIR_CIDR_STRLEN];
	size_t slot = snat_slot(s, nc->bridge);
	bool had = slot < SNAT_BRIDGES_MAX && s->snat[slot].bridge[0];
	int r;

	r = cir_ipam_open_existing(&h, &s->db->st, nc->name, err);
	if (r == -ENOENT && !had) {
		cir_err_clear(err);
		return 0;
	}
	r = r < 0 ? r : cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err);
	if (r == -ENOENT && !had) {
		cir_err_clear(err);
		return 0;
	}
	cir_err_clear(err);
	{
		char vx[16];

		cir_overlay_name(nc->name, vx);
		r = cir_nft_lbsnat_del(nc->bridge, vx, err);
	}
	if (r < 0)
		return r;
	if (had) {
		free(s->snat[slot].rule);
		memset(&s->snat[slot], 0, sizeof(s->snat[slot]));
	}
	if (h.network[0] && cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err) >= 0) {
		host_cidr(&res.ips[0].addr.ip, cidr, sizeof(cidr));
		if (cir_lb_db_route(s->db, &sk, err) >= 0 &&
		    cir_link_get(sk, nc->bridge, &info, err) >= 0)
			cir_addr_del(sk, info.ifindex, cidr, err);
		cir_err_clear(err);
		r = cir_cluster_release(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, err);
		if (r < 0)
			return r;
		cir_lbc_say(s, false, "cluster: network %s: this host's address for cluster "
			    "services %s released (no target of theirs there)", nc->name, cidr);
	}
	cir_err_clear(err);
	return 1;
}

struct snat_net_scan {
	struct cir_lb_cluster_sync *s;
	struct cir_netdb *db;
	struct snat_scan *sc;
};

static int snat_net(const char *name, void *arg)
{
	struct snat_net_scan *ns = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct snat_want *w;
	char key[CIR_NAME_MAX + 16];
	int r;

	if (cir_network_open(ns->db, name, false, &n, &err) < 0)
		return 0;
	if (!n.conf.cluster || !n.conf.bridge[0]) {
		cir_network_close(&n);
		return 0;
	}
	w = snat_wanted(ns->sc, n.conf.bridge);
	r = w ? snat_apply(ns->s, &n.conf, w, &err) : snat_remove(ns->s, &n.conf, &err);
	snprintf(key, sizeof(key), "~net:%s", name);
	if (r < 0) {
		if (cir_lbc_warn_new(ns->s, key, err.msg))
			cir_lbc_say(ns->s, true, "cluster: network %s: cluster services: %s (retrying)",
				    name, err.msg);
	} else {
		cir_lbc_service_ok(ns->s, key);
	}
	cir_network_close(&n);
	return 0;
}

void cir_lbc_snat_sync(struct cir_lb_cluster_sync *s)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct snat_scan *sc = calloc(1, sizeof(*sc));
	struct cir_error err = CIR_ERROR_INIT;
	struct snat_net_scan ns = { .s = s, .db = &db, .sc = sc };

	if (!sc)
		return;
	if (cir_lb_list(s->db, snat_collect, sc, &err) >= 0 &&
	    cir_netdb_open(&db, s->db->st.path, &err) >= 0)
		cir_netdb_list(&db, snat_net, &ns, &err);
	for (size_t k = 0; k < sc->n; k++)
		free(sc->w[k].vips);
	free(sc);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_local.c - a cluster network on this host (spec/cluster.md
 * "Cluster networks"): materialised as a local network (a record and
 * conflist like any managed network's, plus its VXLAN overlay) when it is
 * first used here or when the agent's sync sees it; the overlay's peers;
 * the cluster's part of `network ls` and `network delete`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "cluster_local.h"
#include "link.h"
#include "names.h"
#include "network_int.h"
#include "nl.h"
#include "overlay.h"

size_t cir_cluster_peer_ips(const struct cir_cluster *cl, const struct cir_cluster_host *h,
			    size_t n, struct cir_ip *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		struct cir_ip ip;

		if (strcmp(h[i].name, cl->conf.host_name) == 0 ||
		    cir_ip_parse(h[i].underlay, &ip, NULL) < 0 || cir_ip_eq(&ip, &cl->underlay))
			continue;
		out[k++] = ip;
	}
	return k;
}

int cir_cluster_overlay_ensure(struct cir_cluster *cl, const struct cir_netconf *nc,
			       const struct cir_ip *peers, size_t np, unsigned int *added,
			       unsigned int *removed, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_overlay o = { .network = nc->name, .bridge = nc->bridge, .vni = nc->vni,
				 .local = cl->underlay, .mtu = nc->mtu };
	char vx[16];
	int r;

	*added = *removed = 0;
	cir_overlay_name(nc->name, vx);
	o.vxlan = vx;
	cir_cluster_net_mac(nc->name, o.mac);
	r = cir_ip_parse(nc->gateway, &o.gateway, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: gateway", nc->name);
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_overlay_ensure(sk, &o, err);
	if (r >= 0 && peers)
		r = cir_overlay_sync(sk, vx, peers, np, added, removed, err);
	return r < 0 ? cir_err_wrap(err, "overlay") : 0;
}

/* Cluster network cn as a local record: one subnet and its gateway, the
 * bridge, container MTU = the underlay's umtu - 50 (IPv4 underlay) or - 70
 * (IPv6), masquerade, VNI, block size. */
static int cluster_netconf(const struct cir_cluster *cl, const struct cir_cluster_net *cn,
			   unsigned int umtu, struct cir_netconf *nc, struct cir_error *err)
{
	char sn[CIR_CIDR_STRLEN], gw[CIR_IP_STRLEN];
	int r;

	snprintf(nc->name, sizeof(nc->name), "%s", cn->name);
	r = cir_netconf_add_subnet(nc, cir_cidr_format(&cn->subnet, sn, sizeof(sn)),
				   cir_ip_format(&cn->gateway, gw, sizeof(gw)), err);
	if (r < 0)
		return r;
	cir_name_bridge(nc->name, nc->bridge);
	if (umtu < 68 + 70)
		return cir_err(err, EINVAL, "network %s: underlay MTU %u is too small for VXLAN",
			       cn->name, umtu);
	nc->mtu = umtu - (cl->underlay.af == AF_INET ? CIR_CLUSTER_VXLAN_OVERHEAD
						      : CIR_CLUSTER_VXLAN_OVERHEAD + 20);
	/* An IPv6 subnet needs links of 1280 or more (RFC 8200): below it the
	 * kernel refuses the gateway's address, so say why before making
	 * anything. */
	if (cn->subnet.ip.af == AF_INET6 && nc->mtu < 1280)
		return cir_err(err, EINVAL, "network %s: overlay MTU %u (underlay %u - %u) is "
			       "below IPv6's minimum 1280", cn->name, nc->mtu, umtu, umtu - nc->mtu);
	nc->masquerade = true;
	nc->masquerade6 = true;
	nc->managed = true;
	nc->cluster = true;
	nc->vni = cn->vni;
	nc->block_size = cn->block;
	nc->created = (long long)time(NULL);
	return 0;
}

/* The record of cn as it would be made here, and its conflist: the
 * underlay and its MTU read first. */
static int cluster_record(struct nl_sock *sk, struct cir_cluster *cl,
			  const struct cir_cluster_net *cn, struct cir_netconf *nc,
			  char **conflist, struct cir_error *err)
{
	unsigned int umtu = 0;
	int r;

	r = cir_overlay_underlay_mtu(sk, &cl->underlay, &umtu, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", cn->name);
	r = cluster_netconf(cl, cn, umtu, nc, err);
	if (r >= 0)
		r = cir_conflist_generate(nc, NULL, conflist, err);
	return r;
}

/* The record, bridge, gateway, masquerade and overlay of nc (the global
 * lock held); on failure what was made goes. */
static int materialise_make(const struct cir_net_ctx *ctx, struct cir_netdb *db,
			    struct nl_sock *sk, struct cir_cluster *cl,
			    const struct cir_netconf *nc, const char *conflist,
			    const struct cir_ip *peers, size_t np, struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	unsigned int added, removed;
	char vx[16];
	int r;

	r = cir_net_overlaps(db, nc->subnet, nc->name, err);
	if (r > 0)
		return cir_err_wrap(err, "cluster network %s", nc->name);
	if (r < 0)
		return r;
	r = cir_network_create(db, nc, conflist, err);
	if (r < 0)
		return r;
	r = cir_net_ensure(ctx, nc, err);
	if (r >= 0)
		r = cir_cluster_overlay_ensure(cl, nc, peers, np, &added, &removed, err);
	if (r >= 0)
		return 1;
	cir_overlay_name(nc->name, vx);
	cir_overlay_remove(sk, nc->name, vx, &e2);
	cir_link_delete(sk, nc->bridge, &e2);
	cir_network_remove(db, nc->name, &e2);
	return r;
}

int cir_cluster_net_materialise(const struct cir_net_ctx *ctx, struct cir_netdb *db,
				bool have_lock, struct cir_cluster *cl,
				const struct cir_cluster_net *cn, const struct cir_ip *peers,
				size_t np, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_free_ char *conflist = NULL;
	_cleanup_close_ int lock = -1;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_netconf nc = { 0 };
	int r;

	r = cir_cluster_underlay(cl, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", cn->name);
	r = cluster_record(sk, cl, cn, &nc, &conflist, err);
	if (r < 0)
		return r;
	if (!have_lock) {
		lock = cir_netdb_lock(db, err);
		if (lock < 0)
			return lock;
	}
	r = cir_network_open(db, nc.name, false, &n, err);
	cir_network_close(&n);
	if (r == 0)
		return 0;       /* made meanwhile */
	cir_err_clear(err);
	return materialise_make(ctx, db, sk, cl, &nc, conflist, peers, np, err);
}

/* Cluster network name of the cluster at state_dir, when there is one:
 * 1 with *cl open and *cn its record, 0 when none of that name (or no
 * cluster, or one that cannot be opened), -errno when etcd cannot say
 * (*err "cluster network NAME: ..."). */
static int cluster_net_lookup(const char *state_dir, const char *name,
			      struct cir_cluster **cl, struct cir_cluster_net *cn,
			      struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (cir_cluster_open(cl, state_dir, &e2) < 0 || !*cl)
		return 0;
	r = cir_cluster_net_get(*cl, name, cn, &e2);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		*err = e2;
		return cir_err_wrap(err, "cluster network %s", name);
	}
	return 1;
}

/* Materialise cn here with every registered host as a peer. */
static int materialise_with_peers(const struct cir_net_ctx *ctx, struct cir_netdb *db,
				  bool have_lock, struct cir_cluster *cl,
				  const struct cir_cluster_net *cn, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_host *h = NULL;
	struct cir_ip peers[CIR_OVERLAY_PEERS_MAX];
	size_t nh = 0, np;

	if (cir_cluster_underlay(cl, err) < 0)
		return -err->errnum;
	if (cir_cluster_peers(cl, &h, &nh, NULL, err) < 0)
		return -err->errnum;
	np = cir_cluster_peer_ips(cl, h, nh, peers, CIR_OVERLAY_PEERS_MAX);
	return cir_cluster_net_materialise(ctx, db, have_lock, cl, cn, peers, np, err);
}

int cir_cluster_net_open_any(const struct cir_net_ctx *ctx, const char *state_dir,
			     struct cir_netdb *db, bool have_lock, const char *name, bool lock,
			     struct cir_network *n, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_cluster_net cn;
	int r = cir_network_open(db, name, lock, n, err);

	if (r != -ENOENT)
		return r;
	/* Not here: a cluster network, made here on first use. */
	r = cluster_net_lookup(state_dir, name, &cl, &cn, err);
	if (r == 0)
		return -ENOENT;   /* *err says "network NAME not found" */
	if (r < 0)
		return r;
	cir_err_clear(err);
	r = materialise_with_peers(ctx, db, have_lock, cl, &cn, err);
	if (r < 0)
		return r;
	if (r > 0)
		cir_net_log(ctx, CIR_LOG_INFO, "cluster network %s made on this host (VNI %u)",
			    name, cn.vni);
	return cir_network_open(db, name, lock, n, err);
}

bool cir_cluster_configured(const char *state_dir)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error e = CIR_ERROR_INIT;

	return cir_cluster_open(&cl, state_dir, &e) >= 0 && cl;
}

int cir_cluster_net_catalog(const char *state_dir, struct cir_cluster_net **out, size_t *n,
			    struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	int r;

	*out = NULL;
	*n = 0;
	if (cir_cluster_open(&cl, state_dir, &e) < 0 || !cl)
		return 0;
	r = cir_cluster_nets(cl, out, n, NULL, err);
	return r < 0 ? r : 1;
}

int cir_cluster_net_finish_delete(const char *state_dir, const char *name, bool was_local,
				  struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char vx[16];
	int r;

	cir_overlay_name(name, vx);
	if (was_local && cir_nl_route_open(&sk, err) >= 0)
		cir_overlay_remove(sk, name, vx, err);
	cir_err_clear(err);
	r = cir_cluster_open(&cl, state_dir, err);
	if (r < 0)
		return r;
	if (!cl)
		return was_local ? 0 : -ENOENT;
	r = cir_cluster_net_delete(cl, name, err);
	if (r == -ENOENT && was_local) {
		cir_err_clear(err);
		r = 0;
	}
	return r;
}

int cir_cluster_net_delete_any(const struct cir_net_ctx *ctx, const char *state_dir,
			       struct cir_netdb *db, const char *name, struct cir_error *err)
{
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e2 = CIR_ERROR_INIT;
	bool local, cluster;
	int r, r2;

	local = cir_network_open(db, name, false, &n, &e2) == 0;
	cluster = local && n.conf.cluster;
	cir_network_close(&n);
	r = cir_net_delete(ctx, db, name, err);
	/* A cluster network: its overlay here and its record in etcd. */
	if (!(r >= 0 && cluster) && !(r == -ENOENT && !local && cir_cluster_configured(state_dir)))
		return r;
	cir_err_clear(&e2);
	r2 = cir_cluster_net_finish_delete(state_dir, name, local, &e2);
	if (r2 == -ENOENT && !local)
		return r;       /* neither here nor in the cluster: "not found" */
	*err = e2;
	return r2;
}

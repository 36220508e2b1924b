// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_sync_reconcile.c - the agent's full reconcile (spec/cluster.md
 * "The agent's sync"): every cluster network made or checked here, one
 * line per change of state per network, networks deleted from the cluster
 * removed here once empty, what the quick path of a host leaving needs
 * kept; and the restart check of this host's blocks after every
 * registration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cluster_alloc.h"
#include "cluster_local.h"
#include "cluster_members.h"
#include "cluster_sync_int.h"
#include "overlay.h"
#include "store.h"

/* ---- reporting: one line per change of state ---- */

/* The slot of network name in s->warned, else a free one (new: true),
 * else SYNC_WARNED_MAX. */
static size_t warned_slot(struct cir_cluster_sync *s, const char *name, bool *new)
{
	size_t free_slot = SYNC_WARNED_MAX;

	*new = false;
	for (size_t i = 0; i < SYNC_WARNED_MAX; i++) {
		if (!s->warned[i].name[0] && free_slot == SYNC_WARNED_MAX)
			free_slot = i;
		if (strcmp(s->warned[i].name, name) == 0)
			return i;
	}
	*new = true;
	return free_slot;
}

/* Report a network's problem once (msg NULL: it is fine again). */
static void net_report(struct cir_cluster_sync *s, const char *name, const char *msg)
{
	bool new;
	size_t i = warned_slot(s, name, &new);

	if (new) {
		if (!msg)
			return;
		if (i == SYNC_WARNED_MAX) {
			sync_warn(s, "cluster: network %s: %s", name, msg);
			return;
		}
		snprintf(s->warned[i].name, sizeof(s->warned[i].name), "%s", name);
		s->warned[i].msg[0] = '\0';
	}
	if (!msg) {
		sync_info(s, "cluster: network %s in step again", name);
		s->warned[i].name[0] = '\0';
		return;
	}
	if (strcmp(s->warned[i].msg, msg) != 0)
		sync_warn(s, "cluster: network %s: %s (retrying)", name, msg);
	snprintf(s->warned[i].msg, sizeof(s->warned[i].msg), "%s", msg);
}

/* ---- the reconcile: every network of the cluster here ---- */

/* One network of the cluster here: made, or its bridge, masquerade and
 * overlay checked; what changed reported. */
static void reconcile_one(struct cir_cluster_sync *s, struct cir_netdb *db,
			  struct cir_cluster *cl, const struct cir_cluster_net *cn,
			  const struct cir_ip *peers, size_t np)
{
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	unsigned int added = 0, removed = 0;
	int r;

	if (cir_network_open(db, cn->name, false, &n, &e) == 0) {
		if (!n.conf.cluster) {
			cir_network_close(&n);
			return;     /* a local network of that name: left alone */
		}
		r = cir_net_ensure(s->ctx, &n.conf, &e);
		if (r >= 0)
			r = cir_cluster_overlay_ensure(cl, &n.conf, peers, np, &added, &removed,
						       &e);
		cir_network_close(&n);
	} else {
		cir_err_clear(&e);
		r = cir_cluster_net_materialise(s->ctx, db, false, cl, cn, peers, np, &e);
		if (r > 0)
			sync_info(s, "cluster: network %s made on this host (VNI %u, %zu peers)",
				  cn->name, cn->vni, np);
	}
	net_report(s, cn->name, r < 0 ? e.msg : NULL);
	if (r >= 0 && (added || removed))
		sync_info(s, "cluster: network %s: %u peers added, %u removed (%zu now)",
			  cn->name, added, removed, np);
}

struct local_scan {
	struct cir_netdb *db;
	const struct cir_cluster_net *nets;
	size_t n;
	char gone[SYNC_GONE_MAX][CIR_CNI_NAME_MAX + 1];
	size_t ngone;
};

/* Local cluster networks that the cluster no longer has, without members. */
static int find_gone(const char *name, void *arg)
{
	struct local_scan *ls = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	bool known = false;

	if (cir_network_open(ls->db, name, false, &n, &e) < 0)
		return 0;
	for (size_t i = 0; i < ls->n && !known; i++)
		known = strcmp(ls->nets[i].name, name) == 0;
	if (n.conf.cluster && !known && ls->ngone < SYNC_GONE_MAX &&
	    cir_member_list(&n, NULL, NULL, &e) == 0)
		snprintf(ls->gone[ls->ngone++], sizeof(ls->gone[0]), "%s", name);
	cir_network_close(&n);
	return 0;
}

/* Networks deleted from the cluster: gone here too once empty. */
static void reconcile_gone(struct cir_cluster_sync *s, struct cir_netdb *db,
			   const struct cir_cluster_net *nets, size_t nn, struct cir_error *err)
{
	_cleanup_free_ struct local_scan *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return;
	ls->db = db;
	ls->nets = nets;
	ls->n = nn;
	cir_netdb_list(db, find_gone, ls, err);
	for (size_t i = 0; i < ls->ngone; i++) {
		struct cir_error e = CIR_ERROR_INIT;
		_cleanup_close_ int lock = cir_netdb_lock(db, &e);

		if (lock >= 0 && cir_net_delete(s->ctx, db, ls->gone[i], &e) >= 0 &&
		    cir_cluster_net_finish_delete(s->state_dir, ls->gone[i], true, &e) >= 0)
			sync_info(s, "cluster: network %s deleted from the cluster: removed here",
				  ls->gone[i]);
	}
}

/* Keep the hosts' underlays and the overlays' names for cir_cs_quick_leave(). */
static void remember(struct cir_cluster_sync *s, const struct cir_cluster_host *h, size_t nh,
		     const struct cir_cluster_net *nets, size_t nn)
{
	struct sync_host *nhv = calloc(nh ? nh : 1, sizeof(*nhv));
	char (*nvx)[16] = calloc(nn ? nn : 1, sizeof(*nvx));
	struct cir_cluster_net *nnets = calloc(nn ? nn : 1, sizeof(*nnets));
	size_t k = 0;

	if (!nhv || !nvx || !nnets) {
		free(nhv);
		free(nvx);
		free(nnets);
		return;         /* the quick path waits for the reconcile */
	}
	if (nn)
		memcpy(nnets, nets, nn * sizeof(*nnets));
	for (size_t i = 0; i < nh; i++) {
		snprintf(nhv[k].name, sizeof(nhv[k].name), "%s", h[i].name);
		if (cir_ip_parse(h[i].underlay, &nhv[k].ip, NULL) == 0)
			k++;
	}
	for (size_t i = 0; i < nn; i++)
		cir_overlay_name(nets[i].name, nvx[i]);
	free(s->hosts);
	free(s->vx);
	free(s->nets);
	s->hosts = nhv;
	s->nhosts = k;
	s->vx = nvx;
	s->nets = nnets;
	s->nvx = nn;
}

int cir_cs_reconcile(struct cir_cluster_sync *s, struct cir_cluster *cl, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_net *nets = NULL;
	_cleanup_free_ struct cir_cluster_host *h = NULL;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	static struct cir_ip peers[CIR_OVERLAY_PEERS_MAX];
	size_t nn = 0, nh = 0, np;
	int64_t r1 = 0, r2 = 0;
	int r;

	if (cir_cluster_underlay(cl, err) < 0 || cir_cluster_nets(cl, &nets, &nn, &r1, err) < 0 ||
	    cir_cluster_peers(cl, &h, &nh, &r2, err) < 0)
		return -err->errnum;
	np = cir_cluster_peer_ips(cl, h, nh, peers, CIR_OVERLAY_PEERS_MAX);
	remember(s, h, nh, nets, nn);
	r = cir_cs_db_open(s, &db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nn; i++)
		reconcile_one(s, &db, cl, &nets[i], peers, np);
	reconcile_gone(s, &db, nets, nn, err);
	cir_err_clear(err);
	/* Every network's container entries, after its overlay (and with
	 * the hosts just listed). */
	cir_cs_fdb_due(s, cl, true);
	s->rev = r1 > r2 ? r1 : r2;
	return 0;
}

/* ---- the restart check of the blocks ---- */

struct check_scan {
	struct cir_cluster_sync *s;
	struct cir_netdb *db;
	int r;
	struct cir_error err;
};

static void check_report(void *arg, const char *network, const struct cir_cidr *b,
			 const char *holder, unsigned int used)
{
	struct cir_cluster_sync *s = arg;
	char bs[CIR_CIDR_STRLEN];

	cir_cidr_format(b, bs, sizeof(bs));
	if (!holder)
		sync_info(s, "cluster: network %s: block %s was free in etcd (this host's lease "
			  "had expired): reclaimed, %u addresses in use here", network, bs, used);
	else
		sync_warn(s, "cluster: network %s: block %s is held by host %s now: dropped here "
			  "(%u addresses of it still in use here)", network, bs, holder, used);
}

static int check_one(const char *name, void *arg)
{
	struct check_scan *cs = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cluster *cl = cir_cluster_agent_cluster(cs->s->a);
	bool cluster;
	int r;

	if (cir_network_open(cs->db, name, false, &n, &e) < 0)
		return 0;
	cluster = n.conf.cluster;
	cir_network_close(&n);
	if (!cluster)
		return 0;
	r = cir_cluster_blocks_check(cl, cs->s->state_dir, name, check_report, cs->s, &e);
	if (r < 0 && cs->r >= 0) {
		cs->r = r;
		cs->err = e;
	}
	return 0;
}

/* After every registration: the blocks this host lists against etcd's
 * (a host back after its TTL lost them there). */
int cir_cs_blocks_check(struct cir_cluster_sync *s, struct cir_error *err)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct check_scan cs = { .s = s, .db = &db, .r = 0, .err = CIR_ERROR_INIT };
	int r = cir_cs_db_open(s, &db, err);

	if (r < 0)
		return r;
	cir_netdb_list(&db, check_one, &cs, err);
	cir_err_clear(err);
	if (cs.r < 0) {
		*err = cs.err;
		return cir_err_wrap(err, "restart check of the blocks");
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_sync.c - the agent's data plane of the cluster networks
 * (spec/cluster.md "The agent's sync"): every cluster network materialised
 * here and its bridge, masquerade and overlay checked, the overlays' FDB
 * as the host registry says, networks deleted from the cluster removed
 * here once empty, the restart check of this host's blocks after every
 * registration.  Driven by a full list every 10 s and by a watch stream
 * on /circuit/v1/ between; lines through ctx->log.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "cluster_alloc.h"
#include "cluster_local.h"
#include "cluster_members.h"
#include "cluster_poke.h"
#include "cluster_sync.h"
#include "link.h"
#include "network_int.h"
#include "nft.h"
#include "nl.h"
#include "overlay.h"
#include "store.h"

#define sync_info(s, ...) cir_net_log((s)->ctx, CIR_LOG_INFO, __VA_ARGS__)
#define sync_warn(s, ...) cir_net_log((s)->ctx, CIR_LOG_WARN, __VA_ARGS__)

/* A full list this often (ms) at least: the safety net under the watch. */
#define SYNC_LIST_MS 10000
#define SYNC_WARNED_MAX 32
#define SYNC_LEFT_MAX 16
#define SYNC_GONE_MAX 64
#define SYNC_FDIRTY_MAX 16
/* The watch's member changes make one range per network at most this
 * often (ms): a burst of ADDs (3 x 64 concurrent in t-cluster-net) is a
 * few ranges per agent, not one per container. */
#define SYNC_FDB_GAP_MS 200
/* circuit-ipam's pokes (cluster_poke.h) run the members sync of their
 * networks at most this often (ms): a burst of ADDs is a few syncs. */
#define SYNC_POKE_GAP_MS 20
#define SYNC_POKE_MAX 16

struct sync_host {
	char name[CIR_CLUSTER_NAME_MAX + 1];
	struct cir_ip ip;
};

struct cir_cluster_sync {
	const struct cir_net_ctx *ctx;
	const char *state_dir;
	struct cir_cluster_agent *a;
	int64_t rev;                 /* last revision seen, 0 = list first */
	int64_t wrev;                /* the watch stream: next revision to deliver */
	struct cir_etcd_stream *w;   /* the watch stream, NULL = none running */
	long long next_list;         /* ms: next full list (a safety net) */
	bool dirty;                  /* the watch saw hosts/ or networks/ change */
	bool services;               /* the watch saw services/ change (lb_cluster.h) */
	unsigned int checked_gen;    /* registration whose blocks were checked */
	/* From the last reconcile, for the quick path of a host leaving: the
	 * registered hosts' underlays and the overlays of the cluster's
	 * networks. */
	struct sync_host *hosts;
	size_t nhosts;
	char (*vx)[16];
	size_t nvx;
	struct cir_cluster_net *nets;   /* the cluster's networks, same order */
	/* Networks whose member keys on other hosts changed (the watch):
	 * their containers' FDB entries are due; all of them on overflow or
	 * after a failure. */
	char fdirty[SYNC_FDIRTY_MAX][CIR_CNI_NAME_MAX + 1];
	size_t nfdirty;
	bool fdirty_all;
	long long fdb_next;          /* ms: the watch's next FDB update, at the earliest */
	/* Other hosts' member keys that carry a MAC (from the last range of
	 * their network, and the watch's PUTs since): only their DELETE, or
	 * a PUT with a MAC, changes an entry. */
	char **fkeys;
	size_t nfkeys, capfkeys;
	char ffailing[CIR_ERROR_MSG_MAX];   /* the FDB entries: last problem */
	/* Hosts whose key the watch saw deleted (their lease expired). */
	char left[SYNC_LEFT_MAX][CIR_CLUSTER_NAME_MAX + 1];
	size_t nleft;
	char failing[CIR_ERROR_MSG_MAX];
	char mfailing[CIR_ERROR_MSG_MAX];   /* the members' sync: last problem */
	/* The poke socket (-1: none) and the networks poked since the last
	 * members sync (all of them on overflow). */
	int poke_fd;
	bool poke_polled;            /* poke_fd is pfd[0] of the loop's set */
	char poked[SYNC_POKE_MAX][CIR_CNI_NAME_MAX + 1];
	size_t npoked;
	bool poked_all;
	unsigned int poke_qlen;      /* a read of this many: some were refused */
	long long poke_next;         /* ms: the next poked members sync, at the earliest */
	/* The last problem reported per network: one line per change. */
	struct {
		char name[CIR_CNI_NAME_MAX + 1];
		char msg[CIR_ERROR_MSG_MAX];
	} warned[SYNC_WARNED_MAX];
};

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

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stream_end(struct cir_cluster_sync *s)
{
	cir_etcd_stream_close(s->w);
	s->w = NULL;
}

static void sync_fail(struct cir_cluster_sync *s, const char *msg)
{
	/* One line per state change, not per retry. */
	if (strcmp(s->failing, msg) != 0)
		sync_warn(s, "cluster: data plane: %s (retrying)", msg);
	snprintf(s->failing, sizeof(s->failing), "%s", msg);
	s->rev = 0;
	stream_end(s);
}

static int db_open(struct cir_cluster_sync *s, struct cir_netdb *db, struct cir_error *err)
{
	int r = cir_netdb_open(db, s->state_dir, err);

	if (r < 0)
		return cir_err_wrap(err, "state %s", cir_store_root(s->state_dir));
	return 0;
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

/* Keep the hosts' underlays and the overlays' names for quick_leave(). */
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

/* ---- the containers' FDB entries (spec/cluster.md "Per-container FDB
 * entries") ---- */

/* The underlay of registered host name at the last reconcile; NULL when
 * unknown (not registered: its keys go with its lease). */
static const struct cir_ip *host_ip(const struct cir_cluster_sync *s, const char *name)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i].ip;
	return NULL;
}

/* ---- the member keys with a MAC (s->fkeys) ---- */

static bool fkey_has(const struct cir_cluster_sync *s, const char *key)
{
	for (size_t i = 0; i < s->nfkeys; i++)
		if (strcmp(s->fkeys[i], key) == 0)
			return true;
	return false;
}

/* Out of memory: forgotten, the next full list finds it again. */
static void fkey_add(struct cir_cluster_sync *s, const char *key)
{
	char *k;

	if (fkey_has(s, key))
		return;
	if (s->nfkeys == s->capfkeys) {
		size_t cap = s->capfkeys ? s->capfkeys * 2 : 64;
		char **v = reallocarray(s->fkeys, cap, sizeof(*v));

		if (!v)
			return;
		s->fkeys = v;
		s->capfkeys = cap;
	}
	k = strdup(key);
	if (k)
		s->fkeys[s->nfkeys++] = k;
}

/* Forget the keys under prefix (a network's, before its range). */
static void fkey_drop(struct cir_cluster_sync *s, const char *prefix)
{
	size_t k = 0, n = strlen(prefix);

	for (size_t i = 0; i < s->nfkeys; i++) {
		if (strncmp(s->fkeys[i], prefix, n) == 0)
			free(s->fkeys[i]);
		else
			s->fkeys[k++] = s->fkeys[i];
	}
	s->nfkeys = k;
}

/* Network cn's vxlan entries as its member keys say: one per container of
 * another registered host whose key carries a MAC, towards that host's
 * underlay.  Never this host's members, never the gateway MAC (the same on
 * every host), one entry per MAC (the first key in host, container order
 * wins).  A network not made here: nothing. */
static int fdb_one(struct cir_cluster_sync *s, struct nl_sock *sk, struct cir_cluster *cl,
		   const struct cir_cluster_net *cn, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_member *m = NULL;
	_cleanup_free_ struct cir_overlay_fdb *want = NULL;
	const char *self = cl->conf.host_name;
	unsigned int added = 0, removed = 0;
	size_t n = 0, k = 0;
	char vx[16], key[CIR_ETCD_KEY_MAX];
	int r;

	cir_overlay_name(cn->name, vx);
	if (cir_link_get(sk, vx, NULL, err) < 0) {
		cir_err_clear(err);
		return 0;
	}
	r = cir_cluster_members(cl, cn->name, NULL, &m, &n, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: members", cn->name);
	want = calloc(n ? n : 1, sizeof(*want));
	if (!want)
		return cir_err(err, ENOMEM, "out of memory");
	snprintf(key, sizeof(key), "%smembers/%s/", CIR_CLUSTER_PREFIX, cn->name);
	fkey_drop(s, key);
	for (size_t i = 0; i < n; i++) {
		const struct cir_ip *ip;
		unsigned char mac[6];
		bool dup = false;

		if (strcmp(m[i].host, self) == 0 || !cir_cluster_mac_parse(m[i].mac, mac))
			continue;
		snprintf(key, sizeof(key), "%smembers/%s/%s/%s:%s", CIR_CLUSTER_PREFIX, cn->name,
			 m[i].host, m[i].cid, m[i].ifname);
		fkey_add(s, key);
		if (memcmp(mac, cn->mac, 6) == 0)
			continue;
		ip = host_ip(s, m[i].host);
		if (!ip || (cl->underlay.af && cir_ip_eq(ip, &cl->underlay)))
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = memcmp(want[j].mac, mac, 6) == 0;
		if (dup)
			continue;
		memcpy(want[k].mac, mac, 6);
		want[k].dst = *ip;
		k++;
	}
	r = cir_overlay_fdb_sync(sk, vx, want, k, &added, &removed, err);
	if (r == -ENODEV) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return cir_err_wrap(err, "network %s: container FDB entries", cn->name);
	if (added || removed)
		sync_info(s, "cluster: network %s: %u container FDB entries added, %u removed "
			  "(%zu now)", cn->name, added, removed, k);
	return 0;
}

/* The networks due (all: every network of the last reconcile).  A failure
 * (etcd unreachable) leaves the entries as they are and every network due
 * again at the next tick; one line per change of state. */
static void fdb_due(struct cir_cluster_sync *s, struct cir_cluster *cl, bool all)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	size_t nd = s->nfdirty;
	char (*due)[CIR_CNI_NAME_MAX + 1] = s->fdirty;
	int r = 0;

	all = all || s->fdirty_all;
	s->nfdirty = 0;
	s->fdirty_all = false;
	if (!all && !nd)
		return;
	r = cir_nl_route_open(&sk, &e);
	for (size_t i = 0; r >= 0 && i < s->nvx; i++) {
		bool take = all;

		for (size_t j = 0; j < nd && !take; j++)
			take = strcmp(due[j], s->nets[i].name) == 0;
		if (take)
			r = fdb_one(s, sk, cl, &s->nets[i], &e);
	}
	if (r < 0) {
		s->fdirty_all = true;
		if (strcmp(s->ffailing, e.msg) != 0)
			sync_warn(s, "cluster: %s (retrying)", e.msg);
		snprintf(s->ffailing, sizeof(s->ffailing), "%s", e.msg);
		return;
	}
	if (s->ffailing[0])
		sync_info(s, "cluster: container FDB entries in step again");
	s->ffailing[0] = '\0';
}

/* A member key of another host changed (the watch): its network's
 * entries are due. */
static void fdb_mark(struct cir_cluster_sync *s, const char *key)
{
	static const char pfx[] = CIR_CLUSTER_PREFIX "members/";
	const char *net = key + strlen(pfx), *host, *end;
	const char *self = cir_cluster_agent_cluster(s->a)->conf.host_name;
	size_t nl;

	host = strchr(net, '/');
	if (!host)
		return;
	nl = (size_t)(host - net);
	host++;
	end = strchr(host, '/');
	if (!nl || nl > CIR_CNI_NAME_MAX || !end ||
	    ((size_t)(end - host) == strlen(self) && strncmp(host, self, strlen(self)) == 0))
		return;
	for (size_t i = 0; i < s->nfdirty; i++)
		if (strlen(s->fdirty[i]) == nl && strncmp(s->fdirty[i], net, nl) == 0)
			return;
	if (s->nfdirty == SYNC_FDIRTY_MAX) {
		s->fdirty_all = true;
		return;
	}
	memcpy(s->fdirty[s->nfdirty], net, nl);
	s->fdirty[s->nfdirty][nl] = '\0';
	s->nfdirty++;
}

static int reconcile(struct cir_cluster_sync *s, struct cir_cluster *cl, struct cir_error *err)
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
	r = db_open(s, &db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nn; i++)
		reconcile_one(s, &db, cl, &nets[i], peers, np);
	reconcile_gone(s, &db, nets, nn, err);
	cir_err_clear(err);
	/* Every network's container entries, after its overlay (and with
	 * the hosts just listed). */
	fdb_due(s, cl, true);
	s->rev = r1 > r2 ? r1 : r2;
	return 0;
}

/* ---- a host leaving: its FDB entries out at once ---- */

/* ip out of overlay vx's FDB: how many entries went. */
static unsigned int overlay_drop_peer(struct nl_sock *sk, const char *vx, const struct cir_ip *ip)
{
	static struct cir_ip peers[CIR_OVERLAY_PEERS_MAX];
	struct cir_error e = CIR_ERROR_INIT;
	unsigned int added = 0, removed = 0;
	size_t k = 0;
	int n = cir_overlay_peers(sk, vx, peers, CIR_OVERLAY_PEERS_MAX, &e);

	if (n < 0)
		return 0;       /* not made here (yet) */
	for (int i = 0; i < n && (size_t)i < CIR_OVERLAY_PEERS_MAX; i++)
		if (!cir_ip_eq(&peers[i], ip))
			peers[k++] = peers[i];
	if (k == (size_t)n)
		return 0;
	if (cir_overlay_sync(sk, vx, peers, k, &added, &removed, &e) < 0)
		cir_err_clear(&e);
	return removed;
}

/* The underlay host name had at the last reconcile; NULL when unknown
 * or this host. */
static const struct cir_ip *left_host_ip(struct cir_cluster_sync *s, const char *name)
{
	if (strcmp(name, cir_cluster_agent_cluster(s->a)->conf.host_name) == 0)
		return NULL;
	for (size_t i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i].ip;
	return NULL;
}

/* Hosts the watch saw leave: their FDB entries out of every overlay at
 * once, before the full reconcile (which would remove them too). */
static void quick_leave(struct cir_cluster_sync *s)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	size_t nleft = s->nleft;

	s->nleft = 0;
	if (cir_nl_route_open(&sk, &e) < 0)
		return;
	for (size_t l = 0; l < nleft; l++) {
		const struct cir_ip *ip = left_host_ip(s, s->left[l]);
		unsigned int total = 0;

		if (!ip)
			continue;
		for (size_t v = 0; v < s->nvx; v++)
			total += overlay_drop_peer(sk, s->vx[v], ip);
		if (total)
			sync_info(s, "cluster: host %s left (its lease expired): its FDB entries "
				  "removed from %u overlays", s->left[l], total);
	}
}

/* ---- the watch stream ---- */

/* A member key in the watch: only a change that can move an entry marks
 * its network (a DELETE of a key known to carry a MAC, a PUT with one),
 * so that a burst of keys without a MAC (IPAM-only ADDs) costs no range.
 * This host's keys never do (fdb_mark). */
static void fdb_event(struct cir_cluster_sync *s, const struct cir_etcd_kv *kv)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cluster_member m;
	const char *self = cir_cluster_agent_cluster(s->a)->conf.host_name;

	if (kv->deleted) {
		if (fkey_has(s, kv->key))
			fdb_mark(s, kv->key);
		return;
	}
	if (cir_cluster_member_parse(kv->key, kv->key_len, kv->value, kv->value_len, &m, &e) < 0 ||
	    !m.mac[0]) {
		/* Damaged, or without its MAC now: an entry may have to go. */
		if (fkey_has(s, kv->key))
			fdb_mark(s, kv->key);
		return;
	}
	if (strcmp(m.host, self) == 0)
		return;
	fkey_add(s, kv->key);
	fdb_mark(s, kv->key);
}

static int on_watch(void *arg, const struct cir_etcd_resp *resp, struct cir_error *err)
{
	struct cir_cluster_sync *s = arg;
	static const char *const watched[] = { CIR_CLUSTER_PREFIX "hosts/",
					       CIR_CLUSTER_PREFIX "networks/" };
	static const char members[] = CIR_CLUSTER_PREFIX "members/";

	for (size_t i = 0; i < resp->nkvs; i++) {
		const struct cir_etcd_kv *kv = &resp->kvs[i];

		if (strncmp(kv->key, members, strlen(members)) == 0)
			fdb_event(s, kv);
		for (size_t k = 0; k < 2; k++)
			if (strncmp(kv->key, watched[k], strlen(watched[k])) == 0)
				s->dirty = true;
		if (strncmp(kv->key, CIR_CLUSTER_PREFIX "services/",
			    strlen(CIR_CLUSTER_PREFIX "services/")) == 0)
			s->services = true;
		if (kv->deleted && strncmp(kv->key, watched[0], strlen(watched[0])) == 0 &&
		    s->nleft < SYNC_LEFT_MAX &&
		    strlen(kv->key + strlen(watched[0])) < sizeof(s->left[0]))
			strcpy(s->left[s->nleft++], kv->key + strlen(watched[0]));
	}
	return 0;
}

/* A watch stream from the revision after the last one seen: changes made
 * while none ran come at once from etcd's history. */
static int stream_start(struct cir_cluster_sync *s, struct cir_cluster *cl,
			struct cir_error *err)
{
	s->wrev = s->rev + 1;
	return cir_etcd_stream_open(cl->etcd, CIR_CLUSTER_PREFIX, true, s->rev + 1, on_watch, s,
				    &s->wrev, &s->w, err);
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
static int blocks_check(struct cir_cluster_sync *s, struct cir_error *err)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct check_scan cs = { .s = s, .db = &db, .r = 0, .err = CIR_ERROR_INIT };
	int r = db_open(s, &db, err);

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

/* ---- the loop's entry points ---- */

int cir_cluster_sync_new(const struct cir_net_ctx *ctx, const char *state_dir,
			 struct cir_cluster_agent *a, struct cir_cluster_sync **out,
			 struct cir_error *err)
{
	struct cir_cluster_sync *s = calloc(1, sizeof(*s));
	struct cir_error e2 = CIR_ERROR_INIT;

	if (!s)
		return cir_err(err, ENOMEM, "out of memory");
	s->ctx = ctx;
	s->state_dir = state_dir;
	s->a = a;
	/* libnftables now: the agent's filter allows no new executable
	 * mappings unless a cluster needs them. */
	if (cir_nft_load(&e2) < 0)
		sync_warn(s, "cluster: %s", e2.msg);
	cir_err_clear(&e2);
	/* Bound now, before the filter; without it circuit-ipam writes the
	 * member keys itself (its fallback). */
	s->poke_qlen = cir_cluster_poke_qlen();
	s->poke_fd = cir_cluster_poke_bind(state_dir, &e2);
	if (s->poke_fd < 0)
		sync_warn(s, "cluster: %s (circuit-ipam publishes members itself)", e2.msg);
	*out = s;
	return 0;
}

/* ---- this host's member keys (spec/cluster.md "Members across hosts") ---- */

struct members_scan {
	struct cir_cluster_sync *s;
	struct cir_netdb *db;
	struct cir_cluster *cl;
	int r;
	struct cir_error err;
};

static int members_one(const char *name, void *arg)
{
	struct members_scan *ms = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	unsigned int put = 0, del = 0;
	bool cluster;
	int r;

	if (ms->r < 0 || cir_network_open(ms->db, name, false, &n, &e) < 0)
		return 0;
	cluster = n.conf.cluster;
	cir_network_close(&n);
	if (!cluster)
		return 0;
	r = cir_cluster_members_sync(ms->cl, ms->s->state_dir, name, &put, &del, &e);
	if (r < 0) {
		ms->r = r;
		ms->err = e;
		cir_err_wrap(&ms->err, "network %s: members", name);
		return 0;
	}
	if (put || del)
		sync_info(ms->s, "cluster: network %s: members in etcd caught up (%u published, "
			  "%u stale removed)", name, put, del);
	return 0;
}

/* Put this host's members that etcd lacks (their ADD could not publish
 * them, or the lease changed), delete its stale ones: one line per
 * change of state when etcd cannot be reached. */
static void members_sync(struct cir_cluster_sync *s, struct cir_cluster *cl, bool poked)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct members_scan ms = { .s = s, .db = &db, .cl = cl, .r = 0,
				   .err = CIR_ERROR_INIT };
	struct cir_error e = CIR_ERROR_INIT;

	cl->lease = cir_cluster_lease_recorded(cl);
	if (db_open(s, &db, &e) < 0)
		return;
	/* The poked networks only, unless they overflowed. */
	if (poked && !s->poked_all)
		for (size_t i = 0; i < s->npoked; i++)
			members_one(s->poked[i], &ms);
	else
		cir_netdb_list(&db, members_one, &ms, &e);
	if (ms.r < 0) {
		if (strcmp(s->mfailing, ms.err.msg) != 0)
			sync_warn(s, "cluster: %s (retrying)", ms.err.msg);
		snprintf(s->mfailing, sizeof(s->mfailing), "%s", ms.err.msg);
		return;
	}
	s->mfailing[0] = '\0';
}

/* A full list (none made yet, the watch saw a change, or 10 s went):
 * 0, or -1 failed (reported). */
static int tick_list(struct cir_cluster_sync *s, struct cir_cluster *cl)
{
	struct cir_error err = CIR_ERROR_INIT;

	s->dirty = false;
	s->next_list = now_ms() + SYNC_LIST_MS;
	if (reconcile(s, cl, &err) < 0) {
		sync_fail(s, err.msg);
		return -1;
	}
	if (s->failing[0])
		sync_info(s, "cluster: data plane in step again");
	s->failing[0] = '\0';
	members_sync(s, cl, false);
	/* A new stream with every full list: a stream stalled without a
	 * reset (a member's host gone) lasts 10 s at most. */
	stream_end(s);
	return 0;
}

void cir_cluster_sync_tick(struct cir_cluster_sync *s)
{
	struct cir_cluster *cl;
	struct cir_error err = CIR_ERROR_INIT;
	unsigned int gen;

	if (!s || !cir_cluster_agent_registered(s->a))
		return;
	cl = cir_cluster_agent_cluster(s->a);
	gen = cir_cluster_agent_generation(s->a);
	if (gen != s->checked_gen) {
		if (blocks_check(s, &err) < 0) {
			sync_fail(s, err.msg);
			return;
		}
		s->checked_gen = gen;
	}
	if ((!s->rev || s->dirty || now_ms() >= s->next_list) && tick_list(s, cl) < 0)
		return;
	fdb_due(s, cl, false);
	/* Changes since the last revision seen: made while no stream ran,
	 * they come at once from etcd's history. */
	if (!s->w && stream_start(s, cl, &err) < 0)
		sync_fail(s, err.msg);
}

size_t cir_cluster_sync_fds(struct cir_cluster_sync *s, struct pollfd *pfd, size_t max,
			    long long *wake)
{
	size_t n = 0;

	if (!s)
		return 0;
	/* The poke socket first: cir_cluster_sync_ready finds it at pfd[0]. */
	s->poke_polled = s->poke_fd >= 0 && max > 0;
	if (s->poke_polled) {
		pfd[0] = (struct pollfd){ .fd = s->poke_fd, .events = POLLIN };
		n = 1;
	}
	/* Pokes waiting for their gap: wake up for them. */
	if ((s->npoked || s->poked_all) && s->poke_next < *wake)
		*wake = s->poke_next;
	/* Member changes waiting for their gap: wake up for them. */
	if (s->w && (s->nfdirty || s->fdirty_all) && s->fdb_next < *wake)
		*wake = s->fdb_next;
	return n + (s->w ? cir_etcd_stream_pollfds(s->w, pfd + n, max - n, wake) : 0);
}

/* Read every queued poke into s->poked.  A full queue read means some
 * sender may have got EAGAIN (its network unknown here): every network
 * then (circuit-ipam does not write the key itself on EAGAIN). */
static void poke_read(struct cir_cluster_sync *s)
{
	char name[CIR_CNI_NAME_MAX + 1];
	unsigned int got = 0;
	size_t i;
	int r;

	while ((r = cir_cluster_poke_recv(s->poke_fd, name)) != 0) {
		if (r != -EBADMSG && r < 0)
			break;
		if (++got >= s->poke_qlen)
			s->poked_all = true;
		if (r < 0)
			continue;
		for (i = 0; i < s->npoked && strcmp(s->poked[i], name) != 0; i++)
			;
		if (i < s->npoked)
			continue;
		if (s->npoked < SYNC_POKE_MAX)
			memcpy(s->poked[s->npoked++], name, sizeof(name));
		else
			s->poked_all = true;
	}
}

/* The poked networks' members sync, when the gap is over; before the
 * registration the first full list syncs every network anyway. */
static void poke_run(struct cir_cluster_sync *s)
{
	if (!s->npoked && !s->poked_all)
		return;
	if (!cir_cluster_agent_registered(s->a)) {
		s->npoked = 0;
		s->poked_all = false;
		return;
	}
	if (now_ms() < s->poke_next)
		return;
	members_sync(s, cir_cluster_agent_cluster(s->a), true);
	s->npoked = 0;
	s->poked_all = false;
	s->poke_next = now_ms() + SYNC_POKE_GAP_MS;
}

/* The stream ended (r != 0 from its step): again at once, unless it never
 * came up or its revision is compacted (then the next tick lists).
 * 0 running again, -1 failed (reported). */
static int stream_restart(struct cir_cluster_sync *s, struct cir_cluster *cl, int r,
			  struct cir_error *err)
{
	bool was_up = cir_etcd_stream_established(s->w);

	stream_end(s);
	if (r < 0 && (!was_up || r == -ESTALE)) {
		sync_fail(s, err->msg);
		return -1;
	}
	/* The server ended an established stream, or it broke (a member
	 * stopped): again at once, from the next endpoint if this one is
	 * gone. */
	if (stream_start(s, cl, err) < 0) {
		sync_fail(s, err->msg);
		return -1;
	}
	return 0;
}

void cir_cluster_sync_ready(struct cir_cluster_sync *s, const struct pollfd *pfd, size_t n)
{
	struct cir_cluster *cl;
	struct cir_error err = CIR_ERROR_INIT;
	int r;

	if (!s)
		return;
	if (s->poke_polled && n > 0) {
		if (pfd[0].revents)
			poke_read(s);
		pfd++;
		n--;
	}
	poke_run(s);
	if (!s->w)
		return;
	cl = cir_cluster_agent_cluster(s->a);
	r = cir_etcd_stream_step(s->w, pfd, n, &err);
	if (s->wrev - 1 > s->rev)
		s->rev = s->wrev - 1;
	if (r != 0 && stream_restart(s, cl, r, &err) < 0)
		return;
	if (s->nleft)
		quick_leave(s);
	if (s->dirty && cir_cluster_agent_registered(s->a)) {
		/* A host or network changed: the data plane now. */
		s->dirty = false;
		s->next_list = now_ms() + SYNC_LIST_MS;
		if (reconcile(s, cl, &err) < 0)
			sync_fail(s, err.msg);
	}
	/* Containers joined or left another host: their entries now, or
	 * when the gap since the last update is over (a burst). */
	if ((s->nfdirty || s->fdirty_all) && s->rev && cir_cluster_agent_registered(s->a) &&
	    now_ms() >= s->fdb_next) {
		fdb_due(s, cl, false);
		s->fdb_next = now_ms() + SYNC_FDB_GAP_MS;
	}
}

bool cir_cluster_sync_services_changed(struct cir_cluster_sync *s)
{
	bool was = s && s->services;

	if (s)
		s->services = false;
	return was;
}

void cir_cluster_sync_free(struct cir_cluster_sync *s)
{
	if (s) {
		stream_end(s);
		cir_cluster_poke_unbind(s->poke_fd, s->state_dir);
		free(s->hosts);
		free(s->vx);
		free(s->nets);
		for (size_t i = 0; i < s->nfkeys; i++)
			free(s->fkeys[i]);
		free(s->fkeys);
	}
	free(s);
}

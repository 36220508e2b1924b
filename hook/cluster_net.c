// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_net.c - cluster networks in the CLI (spec/cluster.md "Cluster
 * networks"): `circuit network create NAME SUBNET --scope cluster`, the
 * SCOPE of `network ls`, and materialising a cluster network on this host
 * (a local record and conflist like any managed network's, plus its VXLAN
 * overlay) when it is first used here or when `circuit agent` sees it; the
 * agent also keeps every overlay's peers in step with the host registry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "cli.h"
#include "output.h"
#include "cluster.h"
#include "link.h"
#include "names.h"
#include "netconf.h"
#include "nl.h"
#include "overlay.h"
#include "cluster_alloc.h"

int cli_cluster_net_create(struct cli *c, const char *name, const char *subnet,
			   const char *vni, const char *block, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_cluster_net n;
	unsigned long long v = 0, b = 0;
	int r;

	if (vni && cli_parse_uint(vni, CIR_CLUSTER_VNI_MIN, CIR_CLUSTER_VNI_MAX, &v) < 0)
		return cir_err(err, EINVAL, "invalid --vni \"%.32s\" (%u..%u)", vni,
			       CIR_CLUSTER_VNI_MIN, CIR_CLUSTER_VNI_MAX);
	if (block && cli_parse_uint(block, 1, 128, &b) < 0)
		return cir_err(err, EINVAL, "invalid --block-size \"%.32s\" (a prefix length)",
			       block);
	r = cir_cluster_net_init(&n, name, subnet, (unsigned int)v, (unsigned int)b, err);
	if (r < 0)
		return r;
	r = cir_cluster_open(&cl, c->state_dir, err);
	if (r < 0)
		return r;
	if (!cl)
		return cir_cluster_err_none(err);
	return cir_cluster_net_create(cl, &n, err);
}

/* Peers of this host: every registered host but itself. */
static size_t peer_ips(const struct cir_cluster *cl, const struct cir_cluster_host *h, size_t n,
		       struct cir_ip *out, size_t max)
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

/* The overlay of local record nc (a cluster network) made and its peers
 * set (peers NULL: left as they are).  *added and *removed count FDB changes. */
static int overlay_ensure(struct cir_cluster *cl, const struct cir_netconf *nc,
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
	nc->mtu = umtu - (cl->underlay.af == AF_INET ? CIR_CLUSTER_VXLAN_OVERHEAD
						      : CIR_CLUSTER_VXLAN_OVERHEAD + 20);
	if (umtu < 68 + 70)
		return cir_err(err, EINVAL, "network %s: underlay MTU %u is too small for VXLAN",
			       cn->name, umtu);
	nc->masquerade = true;
	nc->masquerade6 = true;
	nc->managed = true;
	nc->cluster = true;
	nc->vni = cn->vni;
	nc->block_size = cn->block;
	nc->created = (long long)time(NULL);
	return 0;
}

/* The record, bridge, gateway, masquerade and overlay of nc (the global
 * lock held); on failure what was made goes. */
static int materialise_make(struct cli *c, struct cir_netdb *db, struct nl_sock *sk,
			    struct cir_cluster *cl, const struct cir_netconf *nc,
			    const char *conflist, const struct cir_ip *peers, size_t np,
			    struct cir_error *err)
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
	r = cir_net_ensure(cli_net_ctx(c), nc, err);
	if (r >= 0)
		r = overlay_ensure(cl, nc, peers, np, &added, &removed, err);
	if (r >= 0)
		return 1;
	cir_overlay_name(nc->name, vx);
	cir_overlay_remove(sk, nc->name, vx, &e2);
	cir_link_delete(sk, nc->bridge, &e2);
	cir_network_remove(db, nc->name, &e2);
	return r;
}

/*
 * Make cluster network cn a local network here: record, conflist,
 * bridge, gateway, masquerade (cir_net_ensure), overlay.  Takes the
 * global lock.  1 made, 0 it was here already.
 */
static int materialise(struct cli *c, struct cir_netdb *db, bool have_lock,
		       struct cir_cluster *cl, const struct cir_cluster_net *cn,
		       const struct cir_ip *peers, size_t np, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_free_ char *conflist = NULL;
	_cleanup_close_ int lock = -1;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_netconf nc = { 0 };
	unsigned int umtu = 0;
	int r;

	r = cir_cluster_underlay(cl, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_overlay_underlay_mtu(sk, &cl->underlay, &umtu, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", cn->name);
	r = cluster_netconf(cl, cn, umtu, &nc, err);
	if (r >= 0)
		r = cir_conflist_generate(&nc, NULL, &conflist, err);
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
	return materialise_make(c, db, sk, cl, &nc, conflist, peers, np, err);
}

int cli_network_open_any(struct cli *c, struct cir_netdb *db, bool have_lock, const char *name,
			 bool lock, struct cir_network *n, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_free_ struct cir_cluster_host *h = NULL;
	struct cir_ip peers[CIR_OVERLAY_PEERS_MAX];
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_cluster_net cn;
	size_t nh = 0, np = 0;
	int r = cir_network_open(db, name, lock, n, err);

	if (r != -ENOENT)
		return r;
	/* Not here: a cluster network, made here on first use. */
	if (cir_cluster_open(&cl, c->state_dir, &e2) < 0 || !cl)
		return r;
	r = cir_cluster_net_get(cl, name, &cn, &e2);
	if (r == -ENOENT)
		return -ENOENT;   /* *err says "network NAME not found" */
	if (r < 0) {
		*err = e2;
		return cir_err_wrap(err, "cluster network %s", name);
	}
	cir_err_clear(err);
	if (cir_cluster_underlay(cl, err) < 0)
		return -err->errnum;
	if (cir_cluster_peers(cl, &h, &nh, NULL, err) < 0)
		return -err->errnum;
	np = peer_ips(cl, h, nh, peers, CIR_OVERLAY_PEERS_MAX);
	r = materialise(c, db, have_lock, cl, &cn, peers, np, err);
	if (r < 0)
		return r;
	if (r > 0)
		cli_info("cluster network %s made on this host (VNI %u)", name, cn.vni);
	return cir_network_open(db, name, lock, n, err);
}

/* ---- network ls ---- */

int cli_cluster_net_ls(struct cli *c, struct cli_out *o,
		       bool (*listed)(void *arg, const char *name), void *arg)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_free_ struct cir_cluster_net *v = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	size_t n = 0;

	if (cir_cluster_open(&cl, c->state_dir, &e) < 0 || !cl)
		return 0;
	if (cir_cluster_nets(cl, &v, &n, NULL, &e) < 0) {
		cli_warn("cluster networks not listed: %s", e.msg);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char sn[CIR_CIDR_STRLEN], gw[CIR_IP_STRLEN];

		if (listed(arg, v[i].name))
			continue;
		cir_cidr_format(&v[i].subnet, sn, sizeof(sn));
		cli_out_row(o);
		cli_print_str(o, CLI_PRINT_ANY, "name", v[i].name);
		cli_print_str(o, CLI_PRINT_ANY, "subnet", sn);
		cli_print_str(o, CLI_PRINT_JSON, "gateway",
			      cir_ip_format(&v[i].gateway, gw, sizeof(gw)));
		cli_print_str(o, CLI_PRINT_ANY, "scope", "cluster");
		cli_print_int(o, CLI_PRINT_JSON, "vni", v[i].vni, NULL);
		cli_print_int(o, CLI_PRINT_JSON, "blockSize", v[i].block, NULL);
		cli_print_bool(o, CLI_PRINT_JSON, "local", false);
		cli_print_int(o, CLI_PRINT_JSON, "members", 0, NULL);
		if (cli_out_row_end(o) < 0)
			return -ENOMEM;
	}
	return 1;
}

bool cli_cluster_configured(struct cli *c)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error e = CIR_ERROR_INIT;

	return cir_cluster_open(&cl, c->state_dir, &e) >= 0 && cl;
}

/* ---- delete ---- */

int cli_cluster_net_delete(struct cli *c, const char *name, bool was_local,
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
	r = cir_cluster_open(&cl, c->state_dir, err);
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

/* ---- the agent: materialise every cluster network, keep peers ---- */

struct cli_cluster_sync {
	struct cli *c;
	struct cir_cluster_agent *a;
	int64_t rev;                 /* last revision seen, 0 = list first */
	int64_t wrev;                /* the watch stream: next revision to deliver */
	struct cir_etcd_stream *w;   /* the watch stream, NULL = none running */
	long long next_list;         /* ms: next full list (a safety net) */
	bool dirty;                  /* the watch saw hosts/ or networks/ change */
	unsigned int checked_gen;    /* registration whose blocks were checked */
	/* From the last reconcile, for the quick path of a host leaving: the
	 * registered hosts' underlays and the overlays of the cluster's
	 * networks. */
	struct sync_host {
		char name[CIR_CLUSTER_NAME_MAX + 1];
		struct cir_ip ip;
	} *hosts;
	size_t nhosts;
	char (*vx)[16];
	size_t nvx;
	/* Hosts whose key the watch saw deleted (their lease expired). */
	char left[16][CIR_CLUSTER_NAME_MAX + 1];
	size_t nleft;
	char failing[CIR_ERROR_MSG_MAX];
	/* The last problem reported per network: one line per change. */
	struct {
		char name[CIR_CNI_NAME_MAX + 1];
		char msg[CIR_ERROR_MSG_MAX];
	} warned[32];
};

/* Report a network's problem once (msg NULL: it is fine again). */
static void net_warn(struct cli_cluster_sync *s, const char *name, const char *msg)
{
	size_t i, free_slot = sizeof(s->warned) / sizeof(s->warned[0]);

	for (i = 0; i < sizeof(s->warned) / sizeof(s->warned[0]); i++) {
		if (!s->warned[i].name[0] && free_slot == sizeof(s->warned) / sizeof(s->warned[0]))
			free_slot = i;
		if (strcmp(s->warned[i].name, name) == 0)
			break;
	}
	if (i == sizeof(s->warned) / sizeof(s->warned[0])) {
		if (!msg)
			return;
		i = free_slot;
		if (i == sizeof(s->warned) / sizeof(s->warned[0])) {
			cli_warn("cluster: network %s: %s", name, msg);
			return;
		}
		snprintf(s->warned[i].name, sizeof(s->warned[i].name), "%s", name);
		s->warned[i].msg[0] = '\0';
	}
	if (!msg) {
		cli_info("cluster: network %s in step again", name);
		s->warned[i].name[0] = '\0';
		return;
	}
	if (strcmp(s->warned[i].msg, msg) != 0)
		cli_warn("cluster: network %s: %s (retrying)", name, msg);
	snprintf(s->warned[i].msg, sizeof(s->warned[i].msg), "%s", msg);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cli_cluster_sync *cli_cluster_sync_new(struct cli *c, struct cir_cluster_agent *a)
{
	struct cli_cluster_sync *s = calloc(1, sizeof(*s));

	if (s) {
		s->c = c;
		s->a = a;
	}
	return s;
}

static void stream_end(struct cli_cluster_sync *s)
{
	cir_etcd_stream_close(s->w);
	s->w = NULL;
}

static void sync_fail(struct cli_cluster_sync *s, const char *msg)
{
	/* One line per state change, not per retry. */
	if (strcmp(s->failing, msg) != 0)
		cli_warn("cluster: data plane: %s (retrying)", msg);
	snprintf(s->failing, sizeof(s->failing), "%s", msg);
	s->rev = 0;
	stream_end(s);
}

struct local_scan {
	struct cir_netdb *db;
	const struct cir_cluster_net *nets;
	size_t n;
	char gone[64][CIR_CNI_NAME_MAX + 1];
	size_t ngone;
};

/* Local cluster networks that the cluster no longer has. */
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
	if (n.conf.cluster && !known && ls->ngone < 64 && cir_member_list(&n, NULL, NULL, &e) == 0)
		snprintf(ls->gone[ls->ngone++], sizeof(ls->gone[0]), "%s", name);
	cir_network_close(&n);
	return 0;
}

/* One network of the cluster here: made, or its bridge, masquerade and
 * overlay checked; what changed logged. */
static void reconcile_one(struct cli_cluster_sync *s, struct cir_netdb *db,
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
		r = cir_net_ensure(cli_net_ctx(s->c), &n.conf, &e);
		if (r >= 0)
			r = overlay_ensure(cl, &n.conf, peers, np, &added, &removed, &e);
		cir_network_close(&n);
	} else {
		cir_err_clear(&e);
		r = materialise(s->c, db, false, cl, cn, peers, np, &e);
		if (r > 0)
			cli_info("cluster: network %s made on this host (VNI %u, %zu peers)",
				 cn->name, cn->vni, np);
	}
	net_warn(s, cn->name, r < 0 ? e.msg : NULL);
	if (r >= 0 && (added || removed))
		cli_info("cluster: network %s: %u peers added, %u removed (%zu now)",
			 cn->name, added, removed, np);
}

/* Networks deleted from the cluster: gone here too once empty. */
static void reconcile_gone(struct cli_cluster_sync *s, struct cir_netdb *db,
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

		if (lock >= 0 && cir_net_delete(cli_net_ctx(s->c), db, ls->gone[i], &e) >= 0 &&
		    cli_cluster_net_delete(s->c, ls->gone[i], true, &e) >= 0)
			cli_info("cluster: network %s deleted from the cluster: removed here",
				 ls->gone[i]);
	}
}

/* Keep the hosts' underlays and the overlays' names for quick_leave(). */
static void remember(struct cli_cluster_sync *s, const struct cir_cluster_host *h, size_t nh,
		     const struct cir_cluster_net *nets, size_t nn)
{
	struct sync_host *nhv = calloc(nh ? nh : 1, sizeof(*nhv));
	char (*nvx)[16] = calloc(nn ? nn : 1, sizeof(*nvx));
	size_t k = 0;

	if (!nhv || !nvx) {
		free(nhv);
		free(nvx);
		return;         /* the quick path waits for the reconcile */
	}
	for (size_t i = 0; i < nh; i++) {
		snprintf(nhv[k].name, sizeof(nhv[k].name), "%s", h[i].name);
		if (cir_ip_parse(h[i].underlay, &nhv[k].ip, NULL) == 0)
			k++;
	}
	for (size_t i = 0; i < nn; i++)
		cir_overlay_name(nets[i].name, nvx[i]);
	free(s->hosts);
	free(s->vx);
	s->hosts = nhv;
	s->nhosts = k;
	s->vx = nvx;
	s->nvx = nn;
}

/* Hosts the watch saw leave: their FDB entries out of every overlay at
 * once, before the full reconcile (which would remove them too). */
static void quick_leave(struct cli_cluster_sync *s)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	static struct cir_ip peers[CIR_OVERLAY_PEERS_MAX];
	struct cir_error e = CIR_ERROR_INIT;
	size_t nleft = s->nleft;

	s->nleft = 0;
	if (cir_nl_route_open(&sk, &e) < 0)
		return;
	for (size_t l = 0; l < nleft; l++) {
		const struct cir_ip *ip = NULL;
		unsigned int total = 0;

		for (size_t i = 0; i < s->nhosts && !ip; i++)
			if (strcmp(s->hosts[i].name, s->left[l]) == 0)
				ip = &s->hosts[i].ip;
		if (!ip || strcmp(s->left[l], cir_cluster_agent_cluster(s->a)->conf.host_name) == 0)
			continue;
		for (size_t v = 0; v < s->nvx; v++) {
			unsigned int added = 0, removed = 0;
			size_t k = 0;
			int n = cir_overlay_peers(sk, s->vx[v], peers, CIR_OVERLAY_PEERS_MAX, &e);

			if (n < 0) {
				cir_err_clear(&e);
				continue;       /* not made here (yet) */
			}
			for (int i = 0; i < n && (size_t)i < CIR_OVERLAY_PEERS_MAX; i++)
				if (!cir_ip_eq(&peers[i], ip))
					peers[k++] = peers[i];
			if (k == (size_t)n)
				continue;
			if (cir_overlay_sync(sk, s->vx[v], peers, k, &added, &removed, &e) < 0)
				cir_err_clear(&e);
			total += removed;
		}
		if (total)
			cli_info("cluster: host %s left (its lease expired): its FDB entries removed "
				 "from %u overlays", s->left[l], total);
	}
}

static int reconcile(struct cli_cluster_sync *s, struct cir_cluster *cl, struct cir_error *err)
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
	np = peer_ips(cl, h, nh, peers, CIR_OVERLAY_PEERS_MAX);
	remember(s, h, nh, nets, nn);
	r = cli_db_open(s->c, &db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nn; i++)
		reconcile_one(s, &db, cl, &nets[i], peers, np);
	reconcile_gone(s, &db, nets, nn, err);
	cir_err_clear(err);
	s->rev = r1 > r2 ? r1 : r2;
	return 0;
}

static int on_watch(void *arg, const struct cir_etcd_resp *resp, struct cir_error *err)
{
	struct cli_cluster_sync *s = arg;
	static const char *const watched[] = { CIR_CLUSTER_PREFIX "hosts/",
					       CIR_CLUSTER_PREFIX "networks/" };

	for (size_t i = 0; i < resp->nkvs; i++) {
		const struct cir_etcd_kv *kv = &resp->kvs[i];

		for (size_t k = 0; k < 2; k++)
			if (strncmp(kv->key, watched[k], strlen(watched[k])) == 0)
				s->dirty = true;
		if (kv->deleted && strncmp(kv->key, watched[0], strlen(watched[0])) == 0 &&
		    s->nleft < sizeof(s->left) / sizeof(s->left[0]) &&
		    strlen(kv->key + strlen(watched[0])) < sizeof(s->left[0]))
			strcpy(s->left[s->nleft++], kv->key + strlen(watched[0]));
	}
	return 0;
}

static void check_report(void *arg, const char *network, const struct cir_cidr *b,
			 const char *holder, unsigned int used)
{
	char bs[CIR_CIDR_STRLEN];

	cir_cidr_format(b, bs, sizeof(bs));
	if (!holder)
		cli_info("cluster: network %s: block %s was free in etcd (this host's lease had "
			 "expired): reclaimed, %u addresses in use here", network, bs, used);
	else
		cli_warn("cluster: network %s: block %s is held by host %s now: dropped here "
			 "(%u addresses of it still in use here)", network, bs, holder, used);
}

struct check_scan {
	struct cli_cluster_sync *s;
	struct cir_netdb *db;
	int r;
	struct cir_error err;
};

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
	r = cir_cluster_blocks_check(cl, cs->s->c->state_dir, name, check_report, NULL, &e);
	if (r < 0 && cs->r >= 0) {
		cs->r = r;
		cs->err = e;
	}
	return 0;
}

/* After every registration: the blocks this host lists against etcd's
 * (a host back after its TTL lost them there). */
static int blocks_check(struct cli_cluster_sync *s, struct cir_error *err)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct check_scan cs = { .s = s, .db = &db, .r = 0, .err = CIR_ERROR_INIT };
	int r = cli_db_open(s->c, &db, err);

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

void cli_cluster_sync_tick(struct cli_cluster_sync *s)
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
	if (!s->rev || s->dirty || now_ms() >= s->next_list) {
		s->dirty = false;
		s->next_list = now_ms() + 10000;
		if (reconcile(s, cl, &err) < 0) {
			sync_fail(s, err.msg);
			return;
		}
		if (s->failing[0])
			cli_info("cluster: data plane in step again");
		s->failing[0] = '\0';
		/* A new stream with every full list: a stream stalled without
		 * a reset (a member's host gone) lasts 10 s at most. */
		stream_end(s);
	}
	if (!s->w) {
		/* Changes since the last revision seen: made while no stream
		 * ran, they come at once from etcd's history. */
		s->wrev = s->rev + 1;
		if (cir_etcd_stream_open(cl->etcd, CIR_CLUSTER_PREFIX, true, s->rev + 1, on_watch, s,
					 &s->wrev, &s->w, &err) < 0)
			sync_fail(s, err.msg);
	}
}

size_t cli_cluster_sync_fds(struct cli_cluster_sync *s, struct pollfd *pfd, size_t max,
			    long long *wake)
{
	return s && s->w ? cir_etcd_stream_pollfds(s->w, pfd, max, wake) : 0;
}

void cli_cluster_sync_ready(struct cli_cluster_sync *s, const struct pollfd *pfd, size_t n)
{
	struct cir_cluster *cl;
	struct cir_error err = CIR_ERROR_INIT;
	int r;

	if (!s || !s->w)
		return;
	cl = cir_cluster_agent_cluster(s->a);
	r = cir_etcd_stream_step(s->w, pfd, n, &err);
	if (s->wrev - 1 > s->rev)
		s->rev = s->wrev - 1;
	if (r != 0) {
		bool was_up = cir_etcd_stream_established(s->w);

		stream_end(s);
		if (r < 0 && (!was_up || r == -ESTALE)) {
			sync_fail(s, err.msg);
			return;
		}
		/* The server ended an established stream, or it broke (a
		 * member stopped): again at once, from the next endpoint if
		 * this one is gone. */
		if (cir_etcd_stream_open(cl->etcd, CIR_CLUSTER_PREFIX, true, s->rev + 1, on_watch, s,
					 &s->wrev, &s->w, &err) < 0) {
			sync_fail(s, err.msg);
			return;
		}
	}
	if (s->nleft)
		quick_leave(s);
	if (s->dirty && cir_cluster_agent_registered(s->a)) {
		/* A host or network changed: the data plane now. */
		s->dirty = false;
		s->next_list = now_ms() + 10000;
		if (reconcile(s, cl, &err) < 0)
			sync_fail(s, err.msg);
	}
}

void cli_cluster_sync_free(struct cli_cluster_sync *s)
{
	if (s) {
		stream_end(s);
		free(s->hosts);
		free(s->vx);
	}
	free(s);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_sync_fdb.c - the agent's FDB work on the overlays (spec/cluster.md
 * "Per-container FDB entries"): the other hosts' containers' entries from
 * their member keys, marked due by the watch; a host the watch saw leave
 * out of every overlay at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "cluster_members.h"
#include "cluster_sync_int.h"
#include "link.h"
#include "nl.h"
#include "overlay.h"

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
void cir_cs_fdb_due(struct cir_cluster_sync *s, struct cir_cluster *cl, bool all)
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
void cir_cs_quick_leave(struct cir_cluster_sync *s)
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

/* ---- member keys in the watch ---- */

/* A member key in the watch: only a change that can move an entry marks
 * its network (a DELETE of a key known to carry a MAC, a PUT with one),
 * so that a burst of keys without a MAC (IPAM-only ADDs) costs no range.
 * This host's keys never do (fdb_mark). */
void cir_cs_fdb_event(struct cir_cluster_sync *s, const struct cir_etcd_kv *kv)
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

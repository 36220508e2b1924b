// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_sync.c - the agent's data plane of the cluster networks
 * (spec/cluster.md "The agent's sync"): the loop's entry points, the watch
 * stream on /circuit/v1/, this host's member keys and circuit-ipam's pokes.
 * The reconcile (every cluster network materialised here and its bridge,
 * masquerade and overlay checked, networks deleted from the cluster
 * removed here once empty, the restart check of this host's blocks after
 * every registration) is cluster_sync_reconcile.c; the overlays' FDB as
 * the host registry and the member keys say is cluster_sync_fdb.c (shared:
 * cluster_sync_int.h).  Driven by a full list every 10 s and by a watch
 * stream between; lines through ctx->log.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cluster_members.h"
#include "cluster_poke.h"
#include "cluster_sync_int.h"
#include "nft.h"
#include "store.h"

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

int cir_cs_db_open(struct cir_cluster_sync *s, struct cir_netdb *db, struct cir_error *err)
{
	int r = cir_netdb_open(db, s->state_dir, err);

	if (r < 0)
		return cir_err_wrap(err, "state %s", cir_store_root(s->state_dir));
	return 0;
}

/* ---- the watch stream ---- */

static int on_watch(void *arg, const struct cir_etcd_resp *resp, struct cir_error *err)
{
	struct cir_cluster_sync *s = arg;
	static const char *const watched[] = { CIR_CLUSTER_PREFIX "hosts/",
					       CIR_CLUSTER_PREFIX "networks/" };
	static const char members[] = CIR_CLUSTER_PREFIX "members/";

	for (size_t i = 0; i < resp->nkvs; i++) {
		const struct cir_etcd_kv *kv = &resp->kvs[i];

		if (strncmp(kv->key, members, strlen(members)) == 0)
			cir_cs_fdb_event(s, kv);
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
	if (cir_cs_db_open(s, &db, &e) < 0)
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
	if (cir_cs_reconcile(s, cl, &err) < 0) {
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
		if (cir_cs_blocks_check(s, &err) < 0) {
			sync_fail(s, err.msg);
			return;
		}
		s->checked_gen = gen;
	}
	if ((!s->rev || s->dirty || now_ms() >= s->next_list) && tick_list(s, cl) < 0)
		return;
	cir_cs_fdb_due(s, cl, false);
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
		cir_cs_quick_leave(s);
	if (s->dirty && cir_cluster_agent_registered(s->a)) {
		/* A host or network changed: the data plane now. */
		s->dirty = false;
		s->next_list = now_ms() + SYNC_LIST_MS;
		if (cir_cs_reconcile(s, cl, &err) < 0)
			sync_fail(s, err.msg);
	}
	/* Containers joined or left another host: their entries now, or
	 * when the gap since the last update is over (a burst). */
	if ((s->nfdirty || s->fdirty_all) && s->rev && cir_cluster_agent_registered(s->a) &&
	    now_ms() >= s->fdb_next) {
		cir_cs_fdb_due(s, cl, false);
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

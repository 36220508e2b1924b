/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_sync_int.h - what the files of the agent's data plane share
 * (spec/cluster.md "The agent's sync"): cluster_sync.c (the loop's entry
 * points, the watch stream, this host's member keys, circuit-ipam's
 * pokes), cluster_sync_reconcile.c (every network of the cluster here,
 * the restart check of the blocks) and cluster_sync_fdb.c (the
 * containers' FDB entries, a host leaving).  Not an API.
 */
#ifndef CIR_CLUSTER_SYNC_INT_H
#define CIR_CLUSTER_SYNC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster_sync.h"
#include "network_int.h"

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

/* cluster_sync.c: the state store, opened for one pass. */
int cir_cs_db_open(struct cir_cluster_sync *s, struct cir_netdb *db, struct cir_error *err);

/* cluster_sync_reconcile.c: every network of the cluster here (a full
 * list); the blocks this host lists against etcd's after a registration. */
int cir_cs_reconcile(struct cir_cluster_sync *s, struct cir_cluster *cl, struct cir_error *err);
int cir_cs_blocks_check(struct cir_cluster_sync *s, struct cir_error *err);

/* cluster_sync_fdb.c: the containers' FDB entries of the networks due
 * (all: every one); a member key in the watch; the hosts the watch saw
 * leave out of every overlay at once. */
void cir_cs_fdb_due(struct cir_cluster_sync *s, struct cir_cluster *cl, bool all);
void cir_cs_fdb_event(struct cir_cluster_sync *s, const struct cir_etcd_kv *kv);
void cir_cs_quick_leave(struct cir_cluster_sync *s);

#endif

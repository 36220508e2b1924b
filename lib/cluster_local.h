/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_local.h - a cluster network on this host (spec/cluster.md
 * "Cluster networks"): materialising it as a local network (record,
 * conflist, bridge, gateway, masquerade, VXLAN overlay) on first use, the
 * overlay's peers, the cluster's part of `network ls` and `network
 * delete`.  The `circuit` CLI, the OCI hook and the agent's sync
 * (cluster_sync.h) call these; what they have to say goes through the
 * struct cir_net_ctx's log callback (lib/network.h).  No printing.
 */
#ifndef CIR_CLUSTER_LOCAL_H
#define CIR_CLUSTER_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster.h"
#include "error.h"
#include "ip.h"
#include "netconf.h"
#include "network.h"

/* The underlays of the registered hosts h[0..n) but this one (by name or
 * by cl->underlay, which cir_cluster_underlay() set): at most max into
 * out, their number returned.  Hosts whose underlay does not parse are
 * skipped. */
size_t cir_cluster_peer_ips(const struct cir_cluster *cl, const struct cir_cluster_host *h,
			    size_t n, struct cir_ip *out, size_t max);

/*
 * The VXLAN overlay of local record nc (a cluster network) made on its
 * bridge, with the gateway's MAC, and its FDB set to peers[0..np) (peers
 * NULL: left as it is).  *added and *removed count FDB changes.  Errors
 * are wrapped "overlay" (the gateway: "network NAME: gateway").
 */
int cir_cluster_overlay_ensure(struct cir_cluster *cl, const struct cir_netconf *nc,
			       const struct cir_ip *peers, size_t np, unsigned int *added,
			       unsigned int *removed, struct cir_error *err);

/*
 * Make cluster network cn a local network here: record and conflist
 * (container MTU = the underlay's MTU less VXLAN's overhead), bridge,
 * gateway, masquerade (cir_net_ensure), overlay with peers[0..np).  Takes
 * the global lock unless have_lock.  1 made, 0 it was here already; on
 * failure nothing it made is left.
 */
int cir_cluster_net_materialise(const struct cir_net_ctx *ctx, struct cir_netdb *db,
				bool have_lock, struct cir_cluster *cl,
				const struct cir_cluster_net *cn, const struct cir_ip *peers,
				size_t np, struct cir_error *err);

/*
 * cir_network_open(), but a network that is not here and is a cluster
 * network is materialised here first, with the registered hosts as its
 * peers ("cluster network NAME made on this host (VNI N)" through
 * ctx->log).  have_lock: the caller holds the global lock.  Without a
 * cluster (or one that cannot be opened): exactly cir_network_open(),
 * -ENOENT with its "network NAME not found".
 */
int cir_cluster_net_open_any(const struct cir_net_ctx *ctx, const char *state_dir,
			     struct cir_netdb *db, bool have_lock, const char *name, bool lock,
			     struct cir_network *n, struct cir_error *err);

/* Is a cluster configured (and its configuration readable)? */
bool cir_cluster_configured(const char *state_dir);

/*
 * Every cluster network (*out malloc'ed, sorted), for `network ls`: 0 with
 * nothing when no cluster is configured or it cannot be opened (the
 * commands that need one say why), 1 listed, -errno when etcd could not
 * list them.
 */
int cir_cluster_net_catalog(const char *state_dir, struct cir_cluster_net **out, size_t *n,
			    struct cir_error *err);

/*
 * The cluster's part of `network delete NAME` (was_local: it was made
 * here and its local part is gone): its overlay here, then its record in
 * etcd (-EBUSY while a host holds blocks of it).  Without a cluster: 0
 * when was_local, else -ENOENT; a record already gone is 0 when was_local.
 */
int cir_cluster_net_finish_delete(const char *state_dir, const char *name, bool was_local,
				  struct cir_error *err);

/*
 * `network delete NAME` (the caller holds the global lock): cir_net_delete()
 * here, then, for a cluster network (made here, or not here but a cluster
 * is configured), cir_cluster_net_finish_delete().  -ENOENT with the local
 * "not found" when neither has it.
 */
int cir_cluster_net_delete_any(const struct cir_net_ctx *ctx, const char *state_dir,
			       struct cir_netdb *db, const char *name, struct cir_error *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_sync.h - the agent's data plane of the cluster networks
 * (spec/cluster.md "The agent's sync"): every cluster network made on this
 * host (cluster_local.h), its bridge, masquerade and overlay kept, the
 * overlays' FDB in step with the host registry, networks deleted from the
 * cluster removed here once empty, and after every registration the
 * restart check of this host's address blocks.
 *
 * It runs in `circuit agent`'s loop: tick once a second (the block check
 * after a registration, full lists every 10 s, the watch stream
 * (re)started); fds and ready around every poll of the loop drive the
 * watch stream, and a change to hosts/ or networks/ is reconciled at once
 * (a host whose lease expired first leaves every overlay's FDB).  The
 * member poke's socket (cluster_poke.h, bound by cir_cluster_sync_new) is
 * pfd[0] of the set fds fills; a poked network's members sync runs at
 * once, a burst at most every 20 ms.  Every
 * line it has to say (one per change of state, not per retry) goes to
 * ctx->log (lib/network.h); it never prints.
 */
#ifndef CIR_CLUSTER_SYNC_H
#define CIR_CLUSTER_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster.h"
#include "error.h"
#include "network.h"

struct cir_cluster_sync;
struct pollfd;

/*
 * A sync for agent a (its session and registration) over the state at
 * state_dir; ctx (kept, must outlive the sync) makes and deletes the
 * networks and hears the lines.  Loads libnftables now, while the agent's
 * seccomp filter is not yet installed (masquerade needs it; a failure is
 * a "cluster: ..." warning).  -ENOMEM.
 */
int cir_cluster_sync_new(const struct cir_net_ctx *ctx, const char *state_dir,
			 struct cir_cluster_agent *a, struct cir_cluster_sync **out,
			 struct cir_error *err);
void cir_cluster_sync_tick(struct cir_cluster_sync *s);
/* The watch stream's descriptors (0 when none runs) and its deadline. */
size_t cir_cluster_sync_fds(struct cir_cluster_sync *s, struct pollfd *pfd, size_t max,
			    long long *wake);
void cir_cluster_sync_ready(struct cir_cluster_sync *s, const struct pollfd *pfd, size_t n);
/* Whether the watch saw a key under /circuit/v1/services/ change since the
 * last call (the agent's sync of cluster services, lib/lb_cluster.h). */
bool cir_cluster_sync_services_changed(struct cir_cluster_sync *s);
/* NULL is fine. */
void cir_cluster_sync_free(struct cir_cluster_sync *s);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb_cluster.h - load-balanced services of the cluster (`circuit lb
 * create ... --scope cluster`, spec/cluster.md "Cluster services"): the
 * record in etcd, its verbs from any host, and the agent's part that keeps
 * this host's copy (an ordinary lib/lb record marked "scope": "cluster",
 * programmed by lib/lb's own code) in step with etcd.
 *
 *   /circuit/v1/services/NAME                 the service (lib/lb's record
 *                                             JSON, no per-host state)
 *   /circuit/v1/service-vips/IP/PROTO-PORT    NAME: one service per VIP
 *
 * Nothing here is reached without a cluster configured (the callers hold a
 * struct cir_cluster).  Library code: nothing printed.
 */
#ifndef CIR_LB_CLUSTER_H
#define CIR_LB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "error.h"
#include "lb.h"

#define CIR_LB_CLUSTER_KEYS CIR_CLUSTER_PREFIX "services/"
#define CIR_LB_CLUSTER_VIPS CIR_CLUSTER_PREFIX "service-vips/"
/* Attempts of a read-modify-write that lost a race (target add/remove). */
#define CIR_LB_CLUSTER_RETRIES 8

/*
 * Record service s (checked: name, VIP, scheduler, ipvs backend only) in
 * etcd with one transaction that creates the service key and its VIP key
 * only if neither exists.  -EEXIST "service NAME already exists in the
 * cluster" or "service M already uses tcp VIP:PORT in the cluster".
 */
int cir_lb_cluster_create(struct cir_cluster *cl, const struct cir_lb_service *s,
			  struct cir_error *err);

/* Service name into *out (cleared first; free with cir_lb_service_clear)
 * and its mod_revision into *rev (may be NULL).  -ENOENT "service NAME not
 * found" when absent, -EBADMSG when its record is damaged. */
int cir_lb_cluster_get(struct cir_cluster *cl, const char *name, struct cir_lb_service *out,
		       int64_t *rev, struct cir_error *err);

/* Every service of the cluster, sorted by name, into *out (free with
 * cir_lb_cluster_list_free).  The names of damaged records go to *bad
 * (malloc'ed, *nbad of them; may be NULL): their copies are kept. */
struct cir_lb_cluster_bad {
	char name[CIR_NAME_MAX + 1];
	char msg[CIR_ERROR_MSG_MAX];
};
int cir_lb_cluster_list(struct cir_cluster *cl, struct cir_lb_service **out, size_t *n,
			struct cir_lb_cluster_bad **bad, size_t *nbad, struct cir_error *err);
void cir_lb_cluster_list_free(struct cir_lb_service *v, size_t n);

/*
 * Add target t to service name (or change its weight, method and check),
 * a transaction on the record's mod_revision, read again and retried when
 * another host changed it meanwhile.  1 added, 0 changed; -ENOENT, -EINVAL
 * (family, port), -ENOSPC (CIR_LB_TARGETS_MAX), -EAGAIN after
 * CIR_LB_CLUSTER_RETRIES lost races.
 */
int cir_lb_cluster_target_add(struct cir_cluster *cl, const char *name,
			      const struct cir_lb_target *t, struct cir_error *err);
/* Remove target a of service name the same way; -ENOENT when either is
 * unknown. */
int cir_lb_cluster_target_remove(struct cir_cluster *cl, const char *name,
				 const struct cir_lb_addr *a, struct cir_error *err);
/* Delete service name and its VIP key (a transaction on the record's
 * mod_revision); -ENOENT when absent. */
int cir_lb_cluster_delete(struct cir_cluster *cl, const char *name, struct cir_error *err);

/* One record as stored: key and value (tests, fuzzing).  -EBADMSG when it
 * is not a valid cluster service of that name. */
int cir_lb_cluster_parse(const char *key, size_t klen, const char *value, size_t vlen,
			 struct cir_lb_service *out, struct cir_error *err);

/* ---- the agent's part ---- */

struct cir_lb_cluster_sync;

/* A sync of db's cluster copies with cl; log hears one line per change of
 * state (error true for problems), never per retry.  NULL on ENOMEM. */
struct cir_lb_cluster_sync *cir_lb_cluster_sync_new(struct cir_lb_db *db,
						    void (*log)(void *arg, bool error,
								const char *msg),
						    void *arg);
/*
 * One pass: list the cluster's services (one range request), cir_lb_adopt
 * each on this host, drop the copies whose service left the cluster.
 * A service that cannot be programmed here (no IPVS, a local service of
 * that name or VIP) is reported once and tried again every pass.  etcd
 * unreachable: nothing changes here (-errno, reported once).
 */
int cir_lb_cluster_sync_run(struct cir_lb_cluster_sync *s, struct cir_cluster *cl);
void cir_lb_cluster_sync_free(struct cir_lb_cluster_sync *s);

#endif

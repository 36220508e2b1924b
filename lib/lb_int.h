/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb_int.h - shared by lib/lb*.c only: what the load balancer's modules
 * use of each other beyond lib/lb.h.  Every function here is called with
 * lb/lock held where it touches the store or the kernel.
 *
 *   lb.c          the model: values, validation, record <-> IPVS, checks
 *   lb_record.c   a record's JSON (parse, emit)
 *   lb_index.c    the db handle, the lock, the VIP index (lb/vip/)
 *   lb_kernel.c   the host side of a VIP (device, address, sysctls,
 *                 hairpin) and the IPVS sync of one service
 *   lb_ipvs.c     the IPVS backend (lib/lbbackend.h)
 *   lb_verbs.c    applying a change (commit, rollback) and the verbs
 *   lb_adopt.c    a cluster service's copy (adopt, drop)
 *   lb_owner.c    targets owned by CNI attachments (detach, verify, gc)
 *   lb_restore.c  restore: every record back into the kernel
 *   lb_cluster.c  cluster services: records in etcd, the agent's copies
 *                 (lib/lb_cluster.h)
 *   lbcache_records.c  the records on disk (lb/<name>.json), journalled
 *   lbcache.c     the record cache (lb/cache, lb/cache.log)
 *   lbcache_codec.c    a cache entry's encoding
 */
#ifndef CIR_LB_INT_H
#define CIR_LB_INT_H

#include <stdbool.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "ipvs.h"
#include "lb.h"

/* A record is lb/<name>.json. */
#define RECORD_SUFFIX ".json"

static inline void cir_lb_service_clearp(struct cir_lb_service *s)
{
	cir_lb_service_clear(s);
}
#define _cleanup_service_ _cleanup_(cir_lb_service_clearp)

/* An IPVS dest the record decides differs from the kernel's. */
static inline bool cir_lb_dest_same(const struct cir_ipvs_dest *a, const struct cir_ipvs_dest *b)
{
	return a->weight == b->weight && a->fwd == b->fwd;
}

/* ---- lb.c: the model */

/* Deep copy src into *dst (dst's old targets are not freed), with room
 * for extra more targets. */
int cir_lb_service_copy(struct cir_lb_service *dst, const struct cir_lb_service *src,
			size_t extra, struct cir_error *err);
/* Whether t of s has a dest in the kernel's table (a down UDP target is
 * taken out, a down TCP target keeps a weight-0 dest). */
bool cir_lb_target_in_kernel(const struct cir_lb_service *s, const struct cir_lb_target *t);
/* Drop n->targets[i] (order kept). */
void cir_lb_target_drop(struct cir_lb_service *n, size_t i);

/* ---- lb_index.c: the db and the VIP index */

/* db's route socket (made on first use). */
int cir_lb_db_route(struct cir_lb_db *db, struct nl_sock **out, struct cir_error *err);
/* Reserve s's key for s (O_EXCL).  -EEXIST when another service holds
 * it; a key already naming s is s's. */
int cir_lb_index_reserve(struct cir_lb_db *db, const struct cir_lb_service *s,
			 struct cir_error *err);
/* Drop s's key (when it names s) and its address directory when empty.
 * *ip_shared: another service keeps this VIP address; *last: no service
 * keeps any key.  Either may be NULL. */
int cir_lb_index_release(struct cir_lb_db *db, const struct cir_lb_service *s, bool *ip_shared,
			 bool *last, struct cir_error *err);
/* The service holding s's key, other than s itself, into other ("" when
 * none); a stale entry is removed. */
int cir_lb_index_lookup(struct cir_lb_db *db, const struct cir_lb_service *s,
			char other[CIR_NAME_MAX + 1], struct cir_error *err);
/* Index s when its key is free: 1 when added, 0 when not. */
int cir_lb_index_add(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err);
/* Write the marker saying vip/ holds every record's key. */
int cir_lb_index_mark(struct cir_lb_db *db, struct cir_error *err);
/* Make sure vip/ holds every record's key; the number of keys added. */
int cir_lb_index_ensure(struct cir_lb_db *db, struct cir_error *err);

/* ---- lb_kernel.c: the host side of a VIP, the IPVS sync */

/* The dummy device carrying the VIPs: made (up) when missing. */
int cir_lb_device_ensure(struct cir_lb_db *db, int *ifindex, struct cir_error *err);
/* ip as "<ip>/32" or "<ip>/128" into buf. */
void cir_lb_vip_cidr(const struct cir_ip *ip, char *buf, size_t len);
/* The VIP as a host address on the device: 1 when added, 0 when there. */
int cir_lb_vip_ensure(struct cir_lb_db *db, int ifindex, const struct cir_ip *ip,
		      struct cir_error *err);
/* conntrack for IPVS flows and forwarding: the number of changes. */
int cir_lb_sysctls_ensure(struct cir_error *err);
/* The bridge whose subnet holds ip, into out ("" when none). */
int cir_lb_bridge_of(struct cir_lb_db *db, const struct cir_ip *ip, char out[CIR_IFNAMSIZ],
		     struct cir_error *err);
/* The hairpin masquerade a NAT'd target on t->bridge needs: 1 when added. */
int cir_lb_hairpin_ensure(const struct cir_lb_target *t, struct cir_error *err);
/* cir_lb_sync, with the kernel's copy of the service (known, from a dump
 * of all services: restore) instead of a service get when given. */
int cir_lb_sync_known(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		      const struct cir_ipvs_service *known, struct cir_error *err);

/* ---- lb_ipvs.c: the IPVS backend */

/* s's VIP/port is not an IPVS service Circuit does not own. */
int cir_lb_ipvs_free(struct cir_lb_db *db, const struct cir_lb_service *s,
		     struct cir_error *err);

/* ---- lb_verbs.c: applying a change */

/* Kernel to new, then the record to new; on failure the kernel back to
 * old.  With kernel_optional, a kernel without IPVS only changes the record. */
int cir_lb_commit(struct cir_lb_db *db, const struct cir_lb_service *old,
		  const struct cir_lb_service *new, bool kernel_optional, struct cir_error *err);

/* The steps of create, shared with lb_adopt.c.  n: a checked copy of s,
 * stamped with its creation time. */
int cir_lbv_create_prepare(const struct cir_lb_service *s, struct cir_lb_service *n,
			   struct cir_error *err);
/* With the lock held: n's name, its VIP key and (IPVS) its kernel service
 * are free. */
int cir_lbv_create_check_free(struct cir_lb_db *db, const struct cir_lb_service *n,
			      struct cir_error *err);
/* With the lock held: n's key, its data plane (and hairpins), its record;
 * on failure all of it undone. */
int cir_lbv_create_apply(struct cir_lb_db *db, struct cir_lb_service *n,
			 struct cir_error *err);
/* With the lock held: service s (as read) leaves the kernel and the store. */
int cir_lbv_delete_locked(struct cir_lb_db *db, const struct cir_lb_service *s,
			  struct cir_error *err);

/* ---- lb_restore.c */

/* IPVS's restore (with the lock held): every IPVS record into the kernel. */
int cir_lb_ipvs_restore(struct cir_lb_db *db, struct cir_error *err);

/* ---- lbcache_codec.c: the buffer the cache is written into */

struct cir_lbcache_buf {
	char *buf;
	size_t len, cap;
	bool oom;               /* set once a growth failed; later puts do nothing */
};

/* Append n bytes of p to e, growing it. */
void cir_lbcache_put(struct cir_lbcache_buf *e, const void *p, size_t n);

#endif

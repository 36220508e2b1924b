// SPDX-License-Identifier: Apache-2.0
/*
 * lb_verbs.c - the verbs: create, delete, target add/remove/health/drain
 * (a cluster service's copy: lb_adopt.c).
 *
 * Every verb is: take lb/lock, read the record, change a copy, make the
 * kernel match the copy (cir_lb_commit through the service's backend),
 * write the copy.  A failure after the kernel changed puts the kernel back
 * to the old record.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "conntrack.h"
#include "lb_int.h"
#include "lbbackend.h"
#include "lbcache.h"
#include "link.h"

/* ------------------------------------------------------ applying a change */

/*
 * A UDP target left the kernel's table of service s (lb remove, CNI
 * DEL/GC, a failed health check: cir_lb_target_in_kernel, the service deleted):
 * IPVS reschedules the next datagram of its flows (expire_nodest_conn=1),
 * and the conntrack entries IPVS made for them (vs.conntrack=1: orig dst
 * the VIP, reply source the departed target) are deleted, so that no NAT
 * or masquerade state of the dead path outlives it.  A target drained to
 * weight 0 keeps its dest and its flows: that is what draining means.
 * Best effort: never fails the change that removed the target.
 */
static int lb_flush_udp_target(struct cir_lb_db *db, const struct cir_lb_service *s,
			       const struct cir_lb_target *t, struct cir_error *err)
{
	struct cir_ct_filter f = {
		.family = s->vip.ip.af,
		.l4proto = IPPROTO_UDP,
		.orig_dst = s->vip.ip,
		.orig_dst_port = s->vip.port,
		.reply_src = t->addr.ip,
		.reply_src_port = t->addr.port,
	};

	(void)db;
	return cir_ct_flush(&f, err);
}

/* Every UDP target of old that is in the kernel's table and no longer in
 * new's (removed, or newly down): flush its flows.  new NULL: the service
 * went. */
static void flush_departed(struct cir_lb_db *db, const struct cir_lb_service *old,
			   const struct cir_lb_service *new)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (old->protocol != IPPROTO_UDP)
		return;
	for (size_t i = 0; i < old->n_targets; i++) {
		const struct cir_lb_target *t = &old->targets[i];
		int j = new ? cir_lb_target_find(new, &t->addr) : -1;
		bool was = cir_lb_target_in_kernel(old, t);
		bool is = j >= 0 && cir_lb_target_in_kernel(new, &new->targets[j]);

		if (was && !is)
			lb_flush_udp_target(db, old, t, &e2);
	}
}

static bool target_changed(const struct cir_lb_target *a, const struct cir_lb_target *b)
{
	return a->weight != b->weight || a->down != b->down || a->method != b->method;
}

/*
 * Make the backend's data plane go from old (NULL: nothing of it) to new:
 * a whole-service backend (IPVS) reconciles new; a per-target one gets a
 * command for every target that went, came or changed.  Returns the
 * number of changes.
 */
static int backend_apply(struct cir_lb_db *db, const struct cir_lb_service *old,
			 const struct cir_lb_service *new, struct cir_error *err)
{
	const struct cir_lb_backend_ops *ops = cir_lb_backend_ops(new->backend);
	int r, n = 0;

	if (ops->apply)
		return ops->apply(db, old, new, err);
	for (size_t i = 0; old && i < old->n_targets; i++) {
		if (cir_lb_target_find(new, &old->targets[i].addr) >= 0)
			continue;
		r = ops->target_remove(db, new, &old->targets[i], err);
		if (r < 0)
			return r;
		n += r;
	}
	for (size_t i = 0; i < new->n_targets; i++) {
		int k = old ? cir_lb_target_find(old, &new->targets[i].addr) : -1;

		if (k >= 0 && !target_changed(&old->targets[k], &new->targets[i]))
			continue;
		r = k < 0 ? ops->target_add(db, new, &new->targets[i], err)
			  : ops->target_weight(db, new, &new->targets[i], err);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Put the kernel back to old (NULL: remove new's service), keeping *err. */
static void kernel_undo(struct cir_lb_db *db, const struct cir_lb_service *old,
			const struct cir_lb_service *new)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (old)
		backend_apply(db, new, old, &e2);
	else
		cir_lb_backend_ops(new->backend)->remove(db, new, &e2);
}

/*
 * Kernel to new, then the record to new; on failure the kernel back to old.
 * With kernel_optional, a kernel without IPVS only changes the record.
 */
int cir_lb_commit(struct cir_lb_db *db, const struct cir_lb_service *old,
		  const struct cir_lb_service *new, bool kernel_optional, struct cir_error *err)
{
	int r;

	r = backend_apply(db, old, new, err);
	if (r == -EPROTONOSUPPORT && kernel_optional) {
		cir_err_clear(err);
	} else if (r < 0) {
		kernel_undo(db, old, new);
		cir_err_wrap(err, "service %s", new->name);
		/* Without IPVS nothing was programmed, and the record is kept. */
		if (r == -EPROTONOSUPPORT)
			cir_err_append(err, "; service %s was not changed", new->name);
		return r;
	}
	r = cir_lb_record_write(db, new, err);
	if (r < 0) {
		kernel_undo(db, old, new);
		return r;
	}
	if (old)
		flush_departed(db, old, new);
	return 0;
}

/* ------------------------------------------------------------- verbs */

static int vip_release(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err);

/* n: a checked copy of s, stamped with its creation time. */
int cir_lbv_create_prepare(const struct cir_lb_service *s, struct cir_lb_service *n,
			   struct cir_error *err)
{
	int r;

	r = cir_lb_service_check(s, err);
	if (r < 0)
		return r;
	r = cir_lb_service_copy(n, s, 0, err);
	if (r < 0)
		return r;
	if (!n->created)
		n->created = time(NULL);
	for (size_t i = 0; i < n->n_targets; i++)
		if (n->targets[i].addr.ip.af != n->vip.ip.af)
			return cir_err(err, EINVAL, "service %s: target family differs from the VIP's",
				       s->name);
	return 0;
}

/* With the lock held: n's name, its VIP key and (IPVS) its kernel service
 * are free. */
int cir_lbv_create_check_free(struct cir_lb_db *db, const struct cir_lb_service *n,
			      struct cir_error *err)
{
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1], a[CIR_LB_ADDR_STRLEN];
	char other[CIR_NAME_MAX + 1];
	int r;

	cir_lb_record_name(n->name, file, sizeof(file), err);
	r = cir_store_exists(db->fd, file, err);
	if (r < 0)
		return r;
	if (r > 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "service %s already exists",
				    n->name);
	r = cir_lb_index_ensure(db, err);
	if (r < 0)
		return r;
	r = cir_lb_index_lookup(db, n, other, err);
	if (r < 0)
		return r;
	cir_lb_addr_format(&n->vip, a, sizeof(a));
	if (other[0])
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "service %s already uses %s %s", other,
				    cir_lb_proto_name(n->protocol), a);
	if (n->backend == CIR_LB_BACKEND_IPVS)
		return cir_lb_ipvs_free(db, n, err);
	return 0;
}

/* With the lock held: n's key, its data plane (and hairpins), its record;
 * on failure all of it undone. */
int cir_lbv_create_apply(struct cir_lb_db *db, struct cir_lb_service *n,
			 struct cir_error *err)
{
	int r;

	for (size_t i = 0; i < n->n_targets; i++) {
		r = cir_lb_bridge_of(db, &n->targets[i].addr.ip, n->targets[i].bridge, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s", n->name);
	}
	r = cir_lb_index_reserve(db, n, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s", n->name);
	r = cir_lb_backend_ops(n->backend)->create(db, n, err);
	for (size_t i = 0; r >= 0 && n->backend == CIR_LB_BACKEND_IPVS && i < n->n_targets; i++)
		r = cir_lb_hairpin_ensure(&n->targets[i], err);
	if (r >= 0)
		r = cir_lb_record_write(db, n, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		kernel_undo(db, NULL, n);
		if (n->backend != CIR_LB_BACKEND_IPVS)
			vip_release(db, n, &e2);
		else
			cir_lb_index_release(db, n, NULL, NULL, &e2);
		return cir_err_wrap(err, "service %s", n->name);
	}
	return 0;
}

int cir_lb_create(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service n = { 0 };
	int r;

	r = cir_lbv_create_prepare(s, &n, err);
	if (r < 0)
		return r;
	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lbv_create_check_free(db, &n, err);
	if (r < 0)
		return r;
	return cir_lbv_create_apply(db, &n, err);
}

/* Drop s's index key; remove the VIP address from the device unless
 * another service has it; the device goes when no service is left. */
static int vip_release(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	struct cir_link_info info;
	struct nl_sock *sk;
	char cidr[CIR_CIDR_STRLEN];
	bool shared = false, last = true;
	int r;

	r = cir_lb_index_release(db, s, &shared, &last, err);
	if (r < 0)
		return r;
	if (last)
		cir_lb_cache_drop(db);  /* the last service: leave no cache */
	r = cir_lb_db_route(db, &sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	if (r == -ENODEV) {
		/* A kernel without the dummy driver had the VIP on lo. */
		cir_err_clear(err);
		if (shared || cir_link_get(sk, "lo", &info, err) < 0) {
			cir_err_clear(err);
			return 0;
		}
		cir_lb_vip_cidr(&s->vip.ip, cidr, sizeof(cidr));
		r = cir_addr_del(sk, info.ifindex, cidr, err);
		if (r == -EADDRNOTAVAIL || r == -ENODEV)
			cir_err_clear(err);
		return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : r;
	}
	if (r < 0)
		return r;
	if (last) {
		db->dev_ifindex = 0;
		r = cir_link_delete(sk, CIR_LB_DEVICE, err);
		return r == -ENODEV ? 0 : r;
	}
	if (shared)
		return 0;
	cir_lb_vip_cidr(&s->vip.ip, cidr, sizeof(cidr));
	r = cir_addr_del(sk, info.ifindex, cidr, err);
	return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : r;
}

/* With the lock held: service s (as read) leaves the kernel and the store. */
int cir_lbv_delete_locked(struct cir_lb_db *db, const struct cir_lb_service *s,
			  struct cir_error *err)
{
	int r;

	r = cir_lb_index_ensure(db, err);
	if (r < 0)
		return r;
	r = cir_lb_backend_ops(s->backend)->remove(db, s, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s", s->name);
	flush_departed(db, s, NULL);
	r = vip_release(db, s, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s: release VIP", s->name);
	r = cir_lb_record_remove(db, s->name, err);
	return r < 0 ? cir_err_wrap(err, "service %s", s->name) : 0;
}

int cir_lb_delete(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service s = { 0 };
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	int r;

	r = cir_lb_record_name(name, file, sizeof(file), err);
	if (r < 0)
		return r;
	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &s, err);
	if (r < 0)
		return r;
	return cir_lbv_delete_locked(db, &s, err);
}

int cir_lb_target_add(struct cir_lb_db *db, const char *name, const struct cir_lb_target *t,
		      struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char a[CIR_LB_ADDR_STRLEN];
	struct cir_lb_target nt = *t;
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r < 0)
		return r;
	cir_lb_addr_format(&t->addr, a, sizeof(a));
	/* A cluster service's copy follows etcd's record (its agent would
	 * undo a target added here). */
	if (old.cluster)
		return cir_err(err, EINVAL, "service %s is a cluster service: add its targets with "
			       "circuit lb add (on any host)", name);
	if (t->addr.ip.af != old.vip.ip.af)
		return cir_err(err, EINVAL, "service %s: target %s: address family differs from "
			       "the service's", name, a);
	if (t->addr.port == 0)
		return cir_err(err, EINVAL, "service %s: target %s: port must be 1..65535", name,
			       a);
	i = cir_lb_target_find(&old, &t->addr);
	if (i < 0 && old.n_targets >= CIR_LB_TARGETS_MAX)
		return cir_err(err, ENOSPC, "service %s: already %d targets", name,
			       CIR_LB_TARGETS_MAX);
	r = cir_lb_service_copy(&n, &old, 1, err);
	if (r < 0)
		return r;
	r = cir_lb_bridge_of(db, &t->addr.ip, nt.bridge, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s: target %s", name, a);
	if (i >= 0) {
		/* Its health is the agent's, not the caller's. */
		nt.down = old.targets[i].down;
		nt.since = old.targets[i].since;
		memcpy(nt.error, old.targets[i].error, sizeof(nt.error));
		n.targets[i] = nt;
	} else {
		nt.down = false;
		nt.since = 0;
		nt.error[0] = '\0';
		n.targets[n.n_targets++] = nt;
	}
	if (cir_lb_backend_ops(n.backend)->validate(&n, err) < 0)
		return cir_err_wrap(err, "service %s: target %s", name, a);
	if (n.backend == CIR_LB_BACKEND_IPVS) {
		r = cir_lb_hairpin_ensure(&nt, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s", name);
	}
	r = cir_lb_commit(db, &old, &n, false, err);
	if (r < 0)
		return r;
	return i < 0;
}

int cir_lb_target_remove(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool missing_ok, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char s[CIR_LB_ADDR_STRLEN];
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r < 0)
		return r;
	i = cir_lb_target_find(&old, a);
	if (i < 0) {
		if (missing_ok)
			return 0;
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s has no target %s",
				    name, cir_lb_addr_format(a, s, sizeof(s)));
	}
	r = cir_lb_service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	cir_lb_target_drop(&n, i);
	r = cir_lb_commit(db, &old, &n, true, err);
	return r < 0 ? r : 1;
}

int cir_lb_target_health(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool down, const char *error, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char s[CIR_LB_ADDR_STRLEN];
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r < 0)
		return r;
	i = cir_lb_target_find(&old, a);
	if (i < 0)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s has no target %s",
				    name, cir_lb_addr_format(a, s, sizeof(s)));
	if (old.targets[i].down == down)
		return 0;
	r = cir_lb_service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	n.targets[i].down = down;
	n.targets[i].since = time(NULL);
	/* Coming back up keeps the last error on show. */
	if (error && *error)
		snprintf(n.targets[i].error, sizeof(n.targets[i].error), "%s", error);
	r = cir_lb_commit(db, &old, &n, true, err);
	return r < 0 ? r : 1;
}
int cir_lb_target_drain(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			uint32_t timeout_ms, uint32_t *active_left, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service cur = { 0 };
	struct timespec t0, now;
	uint32_t active = 0;
	int r, i;

	{
		_cleanup_close_ int lock = -1;
		_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
		char s[CIR_LB_ADDR_STRLEN];

		lock = cir_lb_lock(db, err);
		if (lock < 0)
			return lock;
		r = cir_lb_get(db, name, &old, err);
		if (r < 0)
			return r;
		i = cir_lb_target_find(&old, a);
		if (i < 0)
			return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					    "service %s has no target %s", name,
					    cir_lb_addr_format(a, s, sizeof(s)));
		r = cir_lb_service_copy(&n, &old, 0, err);
		if (r < 0)
			return r;
		n.targets[i].weight = 0;
		if (old.targets[i].weight != 0) {
			r = cir_lb_commit(db, &old, &n, false, err);
			if (r < 0)
				return r;
		}
		r = cir_lb_service_copy(&cur, &n, 0, err);
		if (r < 0)
			return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long long el;

		r = cir_lb_backend_ops(cur.backend)->active(db, &cur, a, &active, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s: drain", name);
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (active == 0 || el >= timeout_ms)
			break;
		usleep(200 * 1000);
	}
	if (active_left)
		*active_left = active;
	r = cir_lb_target_remove(db, name, a, true, err);
	return r < 0 ? r : 1;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * lb_owner.c - targets that CNI attachments own (circuit-lb's DEL, CHECK
 * and GC): detach, verify, gc.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_int.h"
#include "lbbackend.h"
#include "lbcache.h"

static bool owner_eq(const struct cir_lb_owner *a, const struct cir_lb_owner *b)
{
	return strcmp(a->network, b->network) == 0 && strcmp(a->cid, b->cid) == 0 &&
	       strcmp(a->ifname, b->ifname) == 0;
}

int cir_lb_detach(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	int r, removed = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	r = cir_lb_service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	for (size_t i = n.n_targets; i-- > 0;)
		if (owner_eq(&n.targets[i].owner, o)) {
			cir_lb_target_drop(&n, i);
			removed++;
		}
	if (!removed)
		return 0;
	r = cir_lb_commit(db, &old, &n, true, err);
	return r < 0 ? r : removed;
}

/* verify, for a backend other than IPVS: its status says it has target i
 * of s (as: the target, formatted). */
static int verify_backend(struct cir_lb_db *db, const struct cir_lb_service *s, int i,
			  const char *as, struct cir_error *err)
{
	_cleanup_free_ struct cir_lb_target_status *st = calloc(s->n_targets, sizeof(*st));
	bool present = false;
	int r;

	if (!st)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_lb_backend_ops(s->backend)->status(db, s, &present, st, err);
	if (r < 0)
		return r;
	if (!present || !st[i].programmed)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "service %s: target %s is not in %s", s->name, as,
				    cir_lb_backend_name(s->backend));
	return 0;
}

/* verify, for IPVS: the kernel's table holds target i of s as the record
 * says (a down UDP target: not at all). */
static int verify_ipvs(struct cir_lb_db *db, const struct cir_lb_service *s, int i,
		       const char *as, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_ipvs_dest d;
	struct cir_ipvs *h;
	size_t ncur = 0;
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "service %s is not in the kernel's IPVS table", s->name);
	if (r < 0)
		return r;
	r = cir_ipvs_dest_dump(h, &k, &cur, &ncur, err);
	if (r < 0)
		return r;
	cir_lb_target_to_ipvs(&s->targets[i], &d);
	for (size_t j = 0; j < ncur; j++)
		if (cir_ipvs_dest_key_eq(&cur[j], &d, k.af)) {
			if (!cir_lb_target_in_kernel(s, &s->targets[i]))
				return cir_err_code(err, CIR_CNI_NOT_FOUND, EEXIST,
						    "service %s: target %s is down but still in "
						    "the kernel's IPVS table", s->name, as);
			if (!cir_lb_dest_same(&cur[j], &d))
				return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
						    "service %s: target %s has weight %u %s in "
						    "the kernel, want %u %s", s->name, as,
						    cur[j].weight, cir_lb_method_name(cur[j].fwd),
						    d.weight, cir_lb_method_name(d.fwd));
			return 0;
		}
	/* A down UDP target is out of the table on purpose. */
	if (!cir_lb_target_in_kernel(s, &s->targets[i]))
		return 0;
	return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
			    "service %s: target %s is not in the kernel's IPVS table", s->name, as);
}

int cir_lb_verify(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  const struct cir_lb_addr *a, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	char as[CIR_LB_ADDR_STRLEN];
	int r, i;

	cir_lb_addr_format(a, as, sizeof(as));
	r = cir_lb_get(db, name, &s, err);
	if (r < 0)
		return r;
	i = cir_lb_target_find(&s, a);
	if (i < 0 || !owner_eq(&s.targets[i].owner, o))
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "service %s: no target %s for container %s", name, as, o->cid);
	if (s.backend != CIR_LB_BACKEND_IPVS)
		return verify_backend(db, &s, i, as, err);
	return verify_ipvs(db, &s, i, as, err);
}

int cir_lb_gc(struct cir_lb_db *db, const char *network,
	      int (*valid)(const char *cid, const char *ifname, void *arg), void *arg,
	      struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_(cir_lb_names_free) struct cir_lb_names ns = { 0 };
	int r, total = 0, first = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_names_list(db, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n; i++) {
		_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
		struct cir_error e2 = CIR_ERROR_INIT;
		int removed = 0;

		r = cir_lb_get(db, ns.v[i], &old, &e2);
		if (r == 0)
			r = cir_lb_service_copy(&n, &old, 0, &e2);
		for (size_t j = n.n_targets; r == 0 && j-- > 0;) {
			const struct cir_lb_owner *o = &n.targets[j].owner;

			if (!o->cid[0] || strcmp(o->network, network) != 0)
				continue;
			if (valid(o->cid, o->ifname, arg) == 0) {
				cir_lb_target_drop(&n, j);
				removed++;
			}
		}
		if (r == 0 && removed)
			r = cir_lb_commit(db, &old, &n, true, &e2);
		if (r < 0 && !first) {
			first = r;
			*err = e2;
		}
		if (r == 0)
			total += removed;
	}
	return first ? first : total;
}

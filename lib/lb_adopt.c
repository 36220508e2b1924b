// SPDX-License-Identifier: Apache-2.0
/*
 * lb_adopt.c - a cluster service's copy on this host: cir_lb_adopt makes
 * or changes the ordinary lb record the agent keeps of a cluster record
 * (marked "scope": "cluster"), cir_lb_drop_cluster deletes it.  Both
 * take lb/lock and go through the verbs' steps (lb_verbs.c).
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "lb_int.h"

static bool check_eq(const struct cir_lb_check *a, const struct cir_lb_check *b)
{
	return a->type == b->type && strcmp(a->path, b->path) == 0 && a->expect == b->expect &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall;
}

/* Whether a and b agree on everything the cluster's record decides (the
 * service's settings, each target's weight, method and check), whatever
 * the health states, bridges and owners this host keeps. */
static bool settings_same(const struct cir_lb_service *a, const struct cir_lb_service *b)
{
	if (a->backend != b->backend || a->mode != b->mode || a->protocol != b->protocol ||
	    a->vip.port != b->vip.port || !cir_ip_eq(&a->vip.ip, &b->vip.ip) ||
	    strcmp(a->sched, b->sched) != 0 || a->persistent != b->persistent ||
	    a->mh_fallback != b->mh_fallback || a->mh_port != b->mh_port ||
	    a->cluster != b->cluster || !check_eq(&a->check, &b->check) ||
	    a->n_targets != b->n_targets)
		return false;
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct cir_lb_target *t = &a->targets[i];
		int k = cir_lb_target_find(b, &t->addr);

		if (k < 0 || t->weight != b->targets[k].weight ||
		    t->method != b->targets[k].method || !check_eq(&t->check, &b->targets[k].check))
			return false;
	}
	return true;
}

/* With the lock held: want's copy n made here for the first time (no
 * record of that name); the health, errors and owners are this host's. */
static int adopt_new(struct cir_lb_db *db, struct cir_lb_service *n, struct cir_error *err)
{
	int r;

	for (size_t i = 0; i < n->n_targets; i++) {
		n->targets[i].down = false;
		n->targets[i].error[0] = '\0';
		n->targets[i].since = 0;
		memset(&n->targets[i].owner, 0, sizeof(n->targets[i].owner));
	}
	r = cir_lbv_create_check_free(db, n, err);
	if (r < 0)
		return r;
	r = cir_lbv_create_apply(db, n, err);
	return r < 0 ? r : 2;
}

/* With the lock held: another service under the same name (VIP, port,
 * protocol or backend differ): the old one goes first. */
static int adopt_replace(struct cir_lb_db *db, const struct cir_lb_service *old,
			 struct cir_lb_service *n, struct cir_error *err)
{
	int r;

	r = cir_lbv_delete_locked(db, old, err);
	if (r < 0)
		return r;
	r = cir_lbv_create_check_free(db, n, err);
	if (r < 0)
		return r;
	r = cir_lbv_create_apply(db, n, err);
	return r < 0 ? r : 2;
}

/* With the lock held: the same service with other settings; each target
 * keeps the health this host's agent gave it. */
static int adopt_update(struct cir_lb_db *db, const struct cir_lb_service *old,
			struct cir_lb_service *n, struct cir_error *err)
{
	int r;

	n->created = old->created;
	for (size_t i = 0; i < n->n_targets; i++) {
		struct cir_lb_target *t = &n->targets[i];
		int k = cir_lb_target_find(old, &t->addr);

		/* Its health is this host's agent's. */
		t->down = k >= 0 && old->targets[k].down;
		t->since = k >= 0 ? old->targets[k].since : 0;
		memcpy(t->error, k >= 0 ? old->targets[k].error : "", k >= 0 ? sizeof(t->error) : 1);
		memset(&t->owner, 0, sizeof(t->owner));
		r = cir_lb_bridge_of(db, &t->addr.ip, t->bridge, err);
		if (r >= 0 && n->backend == CIR_LB_BACKEND_IPVS)
			r = cir_lb_hairpin_ensure(t, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s", n->name);
	}
	r = cir_lb_commit(db, old, n, false, err);
	return r < 0 ? r : 1;
}

int cir_lb_adopt(struct cir_lb_db *db, const struct cir_lb_service *want, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	int r;

	if (!want->cluster)
		return cir_err(err, EINVAL, "service %s: not a cluster service", want->name);
	r = cir_lbv_create_prepare(want, &n, err);
	if (r < 0)
		return r;
	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, want->name, &old, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return adopt_new(db, &n, err);
	}
	if (r < 0)
		return r;
	if (!old.cluster)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "service %s: a local service of that name exists on this host",
				    want->name);
	if (settings_same(&old, &n))
		return 0;
	if (old.vip.port != n.vip.port || !cir_ip_eq(&old.vip.ip, &n.vip.ip) ||
	    old.protocol != n.protocol || old.backend != n.backend)
		return adopt_replace(db, &old, &n, err);
	return adopt_update(db, &old, &n, err);
}

int cir_lb_drop_cluster(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service s = { 0 };
	int r;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &s, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (!s.cluster)
		return 0;
	r = cir_lbv_delete_locked(db, &s, err);
	return r < 0 ? r : 1;
}

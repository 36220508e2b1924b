// SPDX-License-Identifier: Apache-2.0
/*
 * lb_restore.c - `circuit restore` for load-balanced services: every
 * record back into the kernel (one dump, pipelined batches for what is
 * missing), the index repaired on the way.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "lb_int.h"
#include "lbbackend.h"
#include "lbcache.h"

struct restore_ctx {
	struct cir_lb_db *db;
	struct cir_ipvs_service *have;  /* sorted by key_cmp */
	size_t nhave;
	/* Services the kernel lacked, programmed through one pipelined batch
	 * (tag = index here); failed ones are synced one by one after it. */
	struct cir_ipvs *ipvs;           /* the batch's handle */
	struct cir_nl_batch *batch;
	char (*queued)[CIR_NAME_MAX + 1];
	bool *failed;
	size_t nqueued, capqueued;
	bool overrun;
	int batch_sent;
	/* VIP addresses, added through one pipelined batch (tag = index
	 * here); errno of each failure, 0 = added. */
	struct cir_nl_batch *ab;
	struct cir_ip *vips;
	int *vip_err;
	size_t nvips, capvips;
	bool vip_overrun;
	int ifindex;
	char bridges[64][CIR_IFNAMSIZ];
	size_t nbridges;
	int changes;
	int index_added;
	int first;
	struct cir_error *err;
};

/* A total order on service keys, for finding restore's services in the
 * kernel's dump by binary search. */
static int key_cmp(const void *pa, const void *pb)
{
	const struct cir_ipvs_service *a = pa, *b = pb;
	size_t alen = a->af == AF_INET6 ? 16 : 4;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if (a->fwmark != b->fwmark)
		return a->fwmark < b->fwmark ? -1 : 1;
	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(&a->addr, &b->addr, alen);
}

static void restore_failed(uint32_t tag, int errnum, void *arg)
{
	struct restore_ctx *rc = arg;

	if (tag == UINT32_MAX)
		rc->overrun = true;
	else if (tag < rc->nqueued)
		rc->failed[tag] = true;
}

static void vip_failed(uint32_t tag, int errnum, void *arg)
{
	struct restore_ctx *rc = arg;

	if (tag == UINT32_MAX)
		rc->vip_overrun = true;
	else if (tag < rc->nvips)
		rc->vip_err[tag] = errnum;
}

/* The device and sysctls (once), and ip queued for the address batch.
 * Returns the number of changes made so far. */
static int restore_vip(struct restore_ctx *rc, const struct cir_ip *ip, struct cir_error *err)
{
	int r, n = 0;

	if (!rc->ifindex) {
		r = cir_lb_device_ensure(rc->db, &rc->ifindex, err);
		if (r < 0)
			return r;
	}
	if (!rc->db->sysctls_done) {
		n = cir_lb_sysctls_ensure(err);
		if (n < 0)
			return n;
		rc->db->sysctls_done = true;
	}
	if (!rc->ab) {
		r = cir_addr_batch_new(rc->db->rt, &rc->ab, err);
		if (r < 0)
			return r;
	}
	if (rc->nvips == rc->capvips) {
		size_t nc = rc->capvips ? rc->capvips * 2 : 256;
		struct cir_ip *nv = realloc(rc->vips, nc * sizeof(*nv));
		int *ne;

		if (!nv)
			return cir_err(err, ENOMEM, "out of memory");
		rc->vips = nv;
		ne = realloc(rc->vip_err, nc * sizeof(*ne));
		if (!ne)
			return cir_err(err, ENOMEM, "out of memory");
		rc->vip_err = ne;
		rc->capvips = nc;
	}
	rc->vips[rc->nvips] = *ip;
	rc->vip_err[rc->nvips] = 0;
	rc->nvips++;
	r = cir_addr_batch_add(rc->ab, rc->ifindex, ip->af, ip->addr, cir_ip_bits(ip->af),
			       (uint32_t)(rc->nvips - 1), vip_failed, rc, err);
	return r < 0 ? cir_err_wrap(err, "device %s", CIR_LB_DEVICE) : n;
}

/* Send the queued VIPs; one that failed other than "exists" (or every one
 * after an overrun) is added the slow way, which names the error. */
static void restore_vips_finish(struct restore_ctx *rc)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r = 0;

	if (rc->ab)
		r = cir_nl_batch_flush(rc->ab, vip_failed, rc, &e2);
	if (r < 0)
		rc->vip_overrun = true;
	for (size_t i = 0; i < rc->nvips; i++) {
		cir_err_clear(&e2);
		if (!rc->vip_overrun && rc->vip_err[i] == 0) {
			rc->changes++;
			continue;
		}
		if (!rc->vip_overrun && rc->vip_err[i] == EEXIST)
			continue;
		r = cir_lb_vip_ensure(rc->db, rc->ifindex, &rc->vips[i], &e2);
		if (r > 0)
			rc->changes += r;
		if (r < 0 && !rc->first) {
			char a[CIR_IP_STRLEN];

			rc->first = r;
			*rc->err = e2;
			cir_err_wrap(rc->err, "restore VIP %s",
				     cir_ip_format(&rc->vips[i], a, sizeof(a)));
		}
	}
}

/* Queue s (absent from the kernel): its service, then its dests. */
static int restore_queue(struct restore_ctx *rc, const struct cir_lb_service *s,
			 struct cir_error *err)
{
	struct cir_ipvs_service k;
	uint32_t tag;
	int r;

	if (rc->nqueued == rc->capqueued) {
		size_t nc = rc->capqueued ? rc->capqueued * 2 : 256;
		char (*nq)[CIR_NAME_MAX + 1] = realloc(rc->queued, nc * sizeof(*nq));
		bool *nf;

		if (!nq)
			return cir_err(err, ENOMEM, "out of memory");
		rc->queued = nq;
		nf = realloc(rc->failed, nc * sizeof(*nf));
		if (!nf)
			return cir_err(err, ENOMEM, "out of memory");
		rc->failed = nf;
		rc->capqueued = nc;
	}
	if (!rc->batch) {
		r = cir_lb_db_ipvs(rc->db, &rc->ipvs, err);
		if (r < 0)
			return r;
		r = cir_ipvs_batch_new(rc->ipvs, &rc->batch, err);
		if (r < 0)
			return r;
	}
	tag = (uint32_t)rc->nqueued;
	snprintf(rc->queued[tag], sizeof(rc->queued[tag]), "%s", s->name);
	rc->failed[tag] = false;
	rc->nqueued++;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_batch_add(rc->ipvs, rc->batch, IPVS_CMD_NEW_SERVICE, &k, NULL, tag,
			       restore_failed, rc, err);
	if (r > 0)
		rc->batch_sent += r;
	for (size_t i = 0; r >= 0 && i < s->n_targets; i++) {
		struct cir_ipvs_dest d;

		if (!cir_lb_target_in_kernel(s, &s->targets[i]))
			continue;
		cir_lb_target_to_ipvs(&s->targets[i], &d);
		r = cir_ipvs_batch_add(rc->ipvs, rc->batch, IPVS_CMD_NEW_DEST, &k, &d, tag,
				       restore_failed, rc, err);
		if (r > 0)
			rc->batch_sent += r;
	}
	return r < 0 ? r : 0;
}

/* Send what is queued; sync each service with a failure (or every queued
 * one after an overrun) the slow way, which names the error. */
static void restore_finish(struct restore_ctx *rc)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r = 0, failures = 0;

	if (rc->batch) {
		r = cir_nl_batch_flush(rc->batch, restore_failed, rc, &e2);
		if (r > 0)
			rc->batch_sent += r;
	}
	if (r < 0)
		rc->overrun = true;
	for (size_t i = 0; i < rc->nqueued; i++) {
		_cleanup_service_ struct cir_lb_service s = { 0 };
		struct cir_error e3 = CIR_ERROR_INIT;

		if (!rc->overrun && !rc->failed[i])
			continue;
		failures++;
		r = cir_lb_get(rc->db, rc->queued[i], &s, &e3);
		if (r >= 0)
			r = cir_lb_sync(rc->db, &s, -1, &e3);
		if (r > 0)
			rc->changes += r;
		if (r < 0 && !rc->first) {
			rc->first = r;
			*rc->err = e3;
			cir_err_wrap(rc->err, "restore service %s", rc->queued[i]);
		}
	}
	/* Requests that did not fail are changes made. */
	if (!rc->overrun)
		rc->changes += rc->batch_sent;
	(void)failures;
}

/* The first failure (r < 0, e2 its error) becomes restore's error. */
static void restore_note(struct restore_ctx *rc, const struct cir_lb_service *s, int r,
			 const struct cir_error *e2)
{
	if (r < 0 && !rc->first) {
		rc->first = r;
		*rc->err = *e2;
		cir_err_wrap(rc->err, "restore service %s", s->name);
	}
}

/* s's VIP, then its service: a present one may have stale settings (sync
 * compares it with its entry in the dump), an absent one is added whole,
 * pipelined with the others. */
static int restore_service(struct restore_ctx *rc, const struct cir_lb_service *s,
			   struct cir_error *e2)
{
	const struct cir_ipvs_service *have;
	struct cir_ipvs_service k;
	int r;

	cir_lb_service_to_ipvs(s, &k);
	have = rc->nhave ? bsearch(&k, rc->have, rc->nhave, sizeof(k), key_cmp) : NULL;
	r = restore_vip(rc, &s->vip.ip, e2);
	if (r < 0)
		return r;
	rc->changes += r;
	if (have)
		r = cir_lb_sync_known(rc->db, s, -1, have, e2);
	else
		r = restore_queue(rc, s, e2);
	if (r >= 0)
		rc->changes += r;
	return r;
}

/* The hairpin of every bridge s's NAT'd targets sit on (each bridge once
 * per restore). */
static int restore_hairpins(struct restore_ctx *rc, const struct cir_lb_service *s,
			    struct cir_error *e2)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];
		size_t b;

		if (!t->bridge[0] || t->method != CIR_IPVS_FWD_MASQ)
			continue;
		for (b = 0; b < rc->nbridges; b++)
			if (strcmp(rc->bridges[b], t->bridge) == 0)
				break;
		if (b < rc->nbridges)
			continue;
		r = cir_lb_hairpin_ensure(t, e2);
		if (r >= 0) {
			rc->changes += r;
			if (rc->nbridges < 64)
				snprintf(rc->bridges[rc->nbridges++], CIR_IFNAMSIZ, "%s", t->bridge);
		}
	}
	return r;
}

static int restore_fn(const struct cir_lb_service *s, void *arg)
{
	struct restore_ctx *rc = arg;
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (s->backend != CIR_LB_BACKEND_IPVS)
		return 0;       /* its backend's restore */
	/* The index is repaired from the records, which restore reads
	 * anyway (records written by hand, a crash mid-create). */
	r = cir_lb_index_add(rc->db, s, &e2);
	restore_note(rc, s, r, &e2);
	cir_err_clear(&e2);
	if (r > 0)
		rc->index_added += r;
	r = restore_service(rc, s, &e2);
	if (r >= 0)
		r = restore_hairpins(rc, s, &e2);
	restore_note(rc, s, r, &e2);
	return 0;
}

static int count_fn(const struct cir_lb_service *s, void *arg)
{
	if (s->backend == CIR_LB_BACKEND_IPVS)
		(*(size_t *)arg)++;
	return 0;
}

/* IPVS's restore (with the lock held): every IPVS record into the kernel. */
int cir_lb_ipvs_restore(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_service *have = NULL;
	struct restore_ctx rc = { .db = db, .err = err };
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_ipvs *h;
	size_t nrec = 0, nhave = 0;
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0) {
		/* Without IPVS, only IPVS records are a problem. */
		if (cir_lb_list(db, count_fn, &nrec, &e2) >= 0 && nrec == 0) {
			cir_err_clear(err);
			return 0;
		}
		cir_err_wrap(err, "%zu load-balanced service%s to restore", nrec,
			     nrec == 1 ? "" : "s");
		return cir_err_append(err, "; %s kept for the next restore",
				      nrec == 1 ? "its record is" : "their records are");
	}
	r = cir_ipvs_service_dump(h, &have, &nhave, err);
	if (r < 0)
		return r;
	if (nhave)
		qsort(have, nhave, sizeof(*have), key_cmp);
	rc.have = have;
	rc.nhave = nhave;
	r = cir_lb_list(db, restore_fn, &rc, err);
	if (r >= 0) {
		restore_vips_finish(&rc);
		restore_finish(&rc);
	}
	cir_nl_batch_free(rc.ab);
	free(rc.vips);
	free(rc.vip_err);
	cir_nl_batch_free(rc.batch);
	free(rc.queued);
	free(rc.failed);
	if (r < 0)
		return r;
	if (!rc.first && r > 0) {
		r = cir_lb_index_mark(db, err);
		if (r < 0)
			return r;
	}
	return rc.first ? rc.first : rc.changes;
}

static int has_records_fn(const char *name, void *arg)
{
	size_t l = strlen(name), sl = strlen(RECORD_SUFFIX);

	if (l > sl && strcmp(name + l - sl, RECORD_SUFFIX) == 0)
		(*(size_t *)arg)++;
	return 0;
}

int cir_lb_db_restore(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	struct cir_error e2 = CIR_ERROR_INIT;
	size_t nrec = 0;
	int r, first = 0, changes = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_store_list(db->fd, has_records_fn, &nrec, err);
	if (r < 0)
		return r;
	db->locked = true;      /* reading every record may rewrite lb/cache */
	/* Every backend brings back its own records; one failing does not
	 * stop the others.  (An empty store still lets haproxy's restore
	 * remove a configuration left by a deleted store.) */
	for (int b = 0; b < CIR_LB_BACKENDS; b++) {
		if (nrec == 0 && b == CIR_LB_BACKEND_IPVS)
			continue;
		r = cir_lb_backend_ops((enum cir_lb_backend)b)->restore(db, &e2);
		if (r < 0 && !first) {
			first = r;
			*err = e2;
		}
		if (r > 0)
			changes += r;
		cir_err_clear(&e2);
	}
	db->locked = false;
	return first ? first : changes;
}

int cir_lb_restore(struct cir_store *st, struct cir_error *err)
{
	struct cir_lb_db db = CIR_LB_DB_INIT;
	int r, fd;

	fd = cir_store_dir(st->fd, CIR_LB_DIR, false, err);
	if (fd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	db.fd = fd;
	db.st.fd = -1;
	snprintf(db.st.path, sizeof(db.st.path), "%s", st->path);
	db.may_spawn = true;
	r = cir_lb_db_restore(&db, err);
	/* st stays the caller's. */
	cir_ipvs_close(db.ipvs);
	if (db.rt)
		nl_socket_free(db.rt);
	close(fd);
	return r;
}

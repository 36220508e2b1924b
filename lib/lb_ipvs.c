// SPDX-License-Identifier: Apache-2.0
/*
 * lb_ipvs.c - the IPVS backend (lib/lbbackend.h): a thin adapter over
 * cir_lb_sync and lib/ipvs, and the backend table.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_int.h"
#include "lbbackend.h"

/* ------------------------------------------------------------- IPVS */

/*
 * The IPVS backend (lib/lbbackend.h): a thin adapter over cir_lb_sync and
 * lib/ipvs, which reconcile a whole service with the kernel's table.
 */

/* s's VIP/port is not an IPVS service Circuit does not own. */
int cir_lb_ipvs_free(struct cir_lb_db *db, const struct cir_lb_service *s,
		     struct cir_error *err)
{
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	char a[CIR_LB_ADDR_STRLEN];
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r == -EPROTONOSUPPORT)
		return cir_err_append(err, "; service %s was not created", s->name);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "%s %s already exists in IPVS but is not a Circuit service "
				    "(remove it with ipvsadm -D or choose another address)",
				    cir_lb_proto_name(s->protocol),
				    cir_lb_addr_format(&s->vip, a, sizeof(a)));
	return r == -ENOENT ? 0 : r;
}

static int ipvs_validate(const struct cir_lb_service *s, struct cir_error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static int ipvs_create(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	int r = cir_lb_sync(db, s, 0, err);

	return r < 0 ? r : cir_lb_vip_setup(db, &s->vip.ip, true, err);
}

static int ipvs_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r == -EPROTONOSUPPORT) {
		/* Nothing of it can be in a kernel without IPVS. */
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_del(h, &k, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

static int ipvs_apply(struct cir_lb_db *db, const struct cir_lb_service *old,
		      const struct cir_lb_service *s, struct cir_error *err)
{
	(void)old;
	return cir_lb_sync(db, s, -1, err);
}

static int ipvs_status(struct cir_lb_db *db, const struct cir_lb_service *s, bool *present,
		       struct cir_lb_target_status *st, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	size_t n = 0;
	int r;

	*present = false;
	memset(st, 0, s->n_targets * sizeof(*st));
	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	*present = true;
	r = cir_ipvs_dest_dump(h, &k, &cur, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_targets; i++) {
		struct cir_ipvs_dest w;

		cir_lb_target_to_ipvs(&s->targets[i], &w);
		for (size_t j = 0; j < n; j++)
			if (cir_ipvs_dest_key_eq(&cur[j], &w, k.af)) {
				st[i].programmed = true;
				st[i].active = cur[j].active_conns;
				st[i].inactive = cur[j].inact_conns;
			}
	}
	return 0;
}

static int active_conns(struct cir_lb_db *db, const struct cir_lb_service *s,
			const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err);

const struct cir_lb_backend_ops cir_lb_ipvs_ops = {
	.name = "ipvs",
	.validate = ipvs_validate,
	.create = ipvs_create,
	.remove = ipvs_remove,
	.apply = ipvs_apply,
	.restore = cir_lb_ipvs_restore,
	.status = ipvs_status,
	.active = active_conns,
};

const struct cir_lb_backend_ops *cir_lb_backend_ops(enum cir_lb_backend b)
{
	return b == CIR_LB_BACKEND_HAPROXY ? &cir_lb_haproxy_ops : &cir_lb_ipvs_ops;
}


/* Active connections IPVS counts to target a of s (0 when not there). */
static int active_conns(struct cir_lb_db *db, const struct cir_lb_service *s,
			const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_lb_target t = { .addr = *a };
	struct cir_ipvs_dest d;
	struct cir_ipvs *h;
	size_t n = 0;
	int r;

	*out = 0;
	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	cir_lb_target_to_ipvs(&t, &d);
	r = cir_ipvs_dest_dump(h, &k, &cur, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (cir_ipvs_dest_key_eq(&cur[i], &d, k.af))
			*out = cur[i].active_conns;
	return 0;
}

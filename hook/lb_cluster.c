// SPDX-License-Identifier: Apache-2.0
/*
 * lb_cluster.c - the cluster's part of `circuit lb` (spec/cluster.md
 * "Cluster services"): `lb create ... --scope cluster`, and which scope a
 * service named by `lb add/remove/delete` has.  The records and the
 * agent's copies are lib/lb_cluster.c's.  Without a cluster configured
 * none of this talks to etcd.
 */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster.h"
#include "lb.h"
#include "lb_cluster.h"

int cli_lb_cluster_create(struct cli *c, const struct cir_lb_service *s, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_lb_service here = { 0 };
	int r;

	r = cir_cluster_open(&cl, c->state_dir, err);
	if (r < 0)
		return r;
	if (!cl)
		return cir_cluster_err_none(err);
	/* A local service of that name here would hide the cluster's. */
	if (cir_lb_db_open_ro(&db, c->state_dir, err) >= 0 &&
	    cir_lb_get(&db, s->name, &here, err) >= 0) {
		bool local = !here.cluster;

		cir_lb_service_clear(&here);
		if (local)
			return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
					    "service %s already exists on this host (a local "
					    "service)", s->name);
	}
	cir_err_clear(err);
	return cir_lb_cluster_create(cl, s, err);
}

int cli_lb_scope(struct cli *c, const char *name, struct cir_cluster **cl,
		 struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_lb_service s = { 0 };
	bool local = false;
	int r;

	*cl = NULL;
	if (cir_lb_db_open_ro(&db, c->state_dir, err) >= 0) {
		r = cir_lb_get(&db, name, &s, err);
		/* A record here that is not a cluster copy (or cannot be read:
		 * the local verb says why) is the local service. */
		local = (r >= 0 && !s.cluster) || (r < 0 && r != -ENOENT);
		cir_lb_service_clear(&s);
	}
	cir_err_clear(err);
	if (local)
		return 0;
	r = cir_cluster_open(cl, c->state_dir, err);
	if (r < 0)
		return r;
	return *cl ? 1 : 0;
}

int cli_lb_cluster_catalog(struct cli *c, struct cir_lb_service **out, size_t *n)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	int r;

	*out = NULL;
	*n = 0;
	if (cir_cluster_open(&cl, c->state_dir, &err) < 0 || !cl)
		return 0;
	r = cir_lb_cluster_list(cl, out, n, NULL, NULL, &err);
	if (r < 0) {
		cli_warn("cluster services not listed: %s", err.msg);
		return 0;
	}
	return 1;
}
